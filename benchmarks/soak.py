"""The soak (#18): a served demo area under many clients for ten minutes, on PostgreSQL and on SQLite.

    .venv/bin/python benchmarks/soak.py                                   # both stores, 10 minutes each
    .venv/bin/python benchmarks/soak.py --stores sqlite --seconds 60 --clients-sqlite 10

For each store it prepares a demo area (``commonground demo --people 2000 --no-serve``; on PostgreSQL in a
database it creates on the shared server and drops at the end), serves it (``commonground serve``, one process of
its own) and runs closed-loop clients for ``--seconds``: 50 on PostgreSQL and 20 on SQLite. Each client signs in
through the sign-in form and then, with a short pause between requests (``--think``, as a practitioner reads), does
a realistic mix of reads (the queue page and API, a work item page and API, a person's page and API with a purpose,
the triage log) and writes (notes with idempotency keys, some sent twice as a retry; work item moves; triage
contacts). Most clients are the MASH's hub practitioners; one in five works in the mental-health control room.

Per 10-second window it records requests, errors (any answer but 2xx and 3xx, and any failed connection: the
clients ask only for what they may see, so no 4xx is expected), p50 and p95 latency, the service's RSS and, on
PostgreSQL, the proportional memory (PSS) of the database's backends. At the end it checks that every note
acknowledged is stored once (a retry with the same key is not a second note) and runs ``commonground audit
verify``; it writes the series as ``docs/soak-<store>.csv``, draws ``docs/soak-<store>.svg`` and prints a summary.
Client and service share this machine's 2 cores (and other work may run on it): latency is an upper bound.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from faults import CLI, SECRET, cli_env, current_build, free_port
from faults_common import wait_until_serving
from soak_chart import Window, draw_svg, write_csv
from soak_clients import NOTE_PREFIX, Record, area_people, is_error, start_clients

PG_ADMIN = os.environ.get("COMMONGROUND_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
DOCS = Path(__file__).resolve().parents[1] / "docs"
WINDOW = 10


# --- the store and the service ---


@contextlib.contextmanager
def postgres_database(admin_url: str = PG_ADMIN) -> Iterator[str]:
    """A database of its own on the PostgreSQL server, dropped afterwards (its connections ended)."""
    from sqlalchemy import create_engine, text

    name = f"cg_soak_{secrets.token_hex(4)}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def store_env(url: str | None) -> dict[str, str]:
    """The environment of a command on the store: PostgreSQL at ``url``, or the data directory's SQLite file."""
    return cli_env(COMMONGROUND_DATABASE_URL=url) if url else cli_env()


def prepare_demo(data_dir: Path, url: str | None, *, people: int, seed: int, area_from: Path | None) -> str:
    """``commonground demo --no-serve`` into ``data_dir`` (on PostgreSQL at ``url``, else SQLite); the synthetic
    area is copied from ``area_from`` when given (the same area for both stores). Returns the demo password."""
    if area_from is not None and area_from.exists() and not (data_dir / "synthetic-area").exists():
        shutil.copytree(area_from, data_dir / "synthetic-area")
    command = [CLI, "--data-dir", str(data_dir), "demo", "--people", str(people), "--seed", str(seed), "--no-serve"]
    done = subprocess.run(command, env=store_env(url), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the demo was not prepared: {done.stderr[-2000:]}")
    return (data_dir / "demo-password").read_text(encoding="ascii").strip()


@dataclass(frozen=True)
class Served:
    base: str
    pid: int


@contextlib.contextmanager
def served(data_dir: Path, url: str | None) -> Iterator[Served]:
    """``commonground serve`` in a process of its own, over plain HTTP on loopback (cookies not ``Secure``) and
    with a sign-in rate high enough for every client to sign in at the start."""
    port = free_port()
    env = {
        **store_env(url),
        "COMMONGROUND_SECRET_KEY": SECRET,
        "COMMONGROUND_COOKIE_SECURE": "false",
        "COMMONGROUND_LOGIN_RATE_PER_MINUTE": "10000",
    }
    log_path = data_dir / "serve.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [CLI, "--data-dir", str(data_dir), "serve", "--port", str(port)], env=env, stdout=log, stderr=log
        )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_until_serving(base, server, log_path, seconds=300)  # a loaded machine may take minutes to start
            yield Served(base, server.pid)
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


# --- memory ---


def rss_mb(pid: int) -> float:
    """The resident memory of a process, in MB (0 once it has ended)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def pss_mb(pid: int) -> float:
    """A process's proportional memory (its own pages, and its share of pages it shares), in MB."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class Backends:
    """The PostgreSQL backends serving one database (found in ``pg_stat_activity``); their PSS summed, so that
    the shared buffers they all map count once, not once a backend."""

    def __init__(self, url: str) -> None:
        from sqlalchemy import create_engine

        self.database = url.rsplit("/", 1)[1]
        self.engine = create_engine(url.rsplit("/", 1)[0] + "/postgres", pool_size=1)

    def total_mb(self) -> float:
        from sqlalchemy import text

        with self.engine.connect() as connection:
            pids = connection.execute(
                text("SELECT pid FROM pg_stat_activity WHERE datname = :name"), {"name": self.database}
            ).scalars()
            return sum(pss_mb(int(pid)) for pid in pids)

    def close(self) -> None:
        self.engine.dispose()


# --- one soak ---


@dataclass
class Soak:
    store: str
    clients: int
    seconds: float
    windows: list[Window]
    kinds: Counter[str]
    statuses: Counter[str]
    errors: Counter[tuple[str, str]]
    notes_acknowledged: int
    notes_stored: int
    notes_stored_twice: int
    retries: tuple[int, int]
    audit_verified: bool
    audit_said: str
    load_average: tuple[float, float]

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    @property
    def requests(self) -> int:
        return sum(self.kinds.values())


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank percentile (0 for none)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))]


def windows_of(record: Record, memory: list[tuple[float, float | None, float]], seconds: float) -> list[Window]:
    """The answers in 10-second windows, each with the memory sampled at its end."""
    count = max(1, int(seconds // WINDOW))
    found = []
    for n in range(count):
        low, high = n * WINDOW, (n + 1) * WINDOW
        inside = [a for a in record.answers if low <= a[0] < high]
        latencies = [a[3] for a in inside]
        rss, backends, load = memory[min(n, len(memory) - 1)] if memory else (0.0, None, 0.0)
        found.append(
            Window(
                start_s=low,
                requests=len(inside),
                errors=sum(1 for a in inside if is_error(a[2])),
                p50_ms=round(percentile(latencies, 50) * 1000, 1),
                p95_ms=round(percentile(latencies, 95) * 1000, 1),
                server_rss_mb=round(rss, 1),
                postgres_backends_mb=None if backends is None else round(backends, 1),
                load_average=round(load, 2),
            )
        )
    return found


async def _sample_memory(
    pid: int, backends: Backends | None, started: float, seconds: float
) -> list[tuple[float, float | None, float]]:
    samples: list[tuple[float, float | None, float]] = []
    for n in range(1, int(seconds // WINDOW) + 1):
        await asyncio.sleep(max(0.0, started + n * WINDOW - time.monotonic()))
        total = await asyncio.to_thread(backends.total_mb) if backends is not None else None
        samples.append((rss_mb(pid), total, os.getloadavg()[0]))
    return samples


def soak(data_dir: Path, url: str | None, password: str, *, clients: int, seconds: float, think: float = 1.0) -> Soak:
    """Serve ``data_dir`` (its store on PostgreSQL at ``url``, else SQLite), run the clients, stop the service and
    check what they were told against the store and the audit chain."""
    store = "postgresql" if url else "sqlite"
    build = current_build(data_dir)
    assert build is not None, "no build is published in the data directory"
    people = area_people(build)
    backends = Backends(url) if url else None
    load_before = os.getloadavg()[0]
    try:
        with served(data_dir, url) as service:

            async def main() -> tuple[Record, list[tuple[float, float | None, float]]]:
                record = Record()
                running = await start_clients(
                    service.base, password, people, clients=clients, think=think, record=record
                )
                record.started = time.monotonic()
                until = record.started + seconds
                try:
                    sampler = asyncio.create_task(_sample_memory(service.pid, backends, record.started, seconds))
                    await asyncio.gather(*(c.run(until) for c in running))
                    memory = await sampler
                finally:
                    for c in running:
                        await c.http.aclose()
                return record, memory

            # its own thread: the caller may already run an event loop (a test session with Playwright's sync API
            # open does), and asyncio.run refuses to start one inside another
            with ThreadPoolExecutor(max_workers=1) as pool:
                record, memory = pool.submit(asyncio.run, main()).result()
    finally:
        if backends is not None:
            backends.close()
    load_after = os.getloadavg()[0]
    stored, twice = stored_notes(data_dir, url, run=record.run)
    verified, said = audit_verify(data_dir, url)
    statuses = Counter(a[2] for a in record.answers)
    errors = Counter((a[1], a[2]) for a in record.answers if is_error(a[2]))
    return Soak(
        store=store,
        clients=clients,
        seconds=seconds,
        windows=windows_of(record, memory, seconds),
        kinds=Counter(a[1] for a in record.answers),
        statuses=statuses,
        errors=errors,
        notes_acknowledged=len(record.notes_acknowledged),
        notes_stored=stored,
        notes_stored_twice=twice,
        retries=(record.retries_answered_alike, record.retries_answered_otherwise),
        audit_verified=verified,
        audit_said=said,
        load_average=(load_before, load_after),
    )


def stored_notes(data_dir: Path, url: str | None, *, run: str) -> tuple[int, int]:
    """The notes of the soak ``run`` in the store, and how many of them are stored more than once."""
    from sqlalchemy import func, select

    from commonground.cases.notes import Note
    from commonground.store.db import make_engine, session_factory

    engine = make_engine(url or f"sqlite:///{data_dir / 'operational.sqlite'}")
    try:
        with session_factory(engine)() as db:
            counts = db.execute(
                select(Note.text, func.count()).where(Note.text.startswith(f"{NOTE_PREFIX} {run} ")).group_by(Note.text)
            ).all()
    finally:
        engine.dispose()
    return len(counts), sum(1 for _, n in counts if n > 1)


def audit_verify(data_dir: Path, url: str | None) -> tuple[bool, str]:
    """``commonground audit verify`` on the store: whether it exits 0, and its last line."""
    done = subprocess.run(
        [CLI, "--data-dir", str(data_dir), "audit", "verify"], env=store_env(url), capture_output=True, text=True
    )
    lines = [line.strip() for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    return done.returncode == 0, lines[-1] if lines else ""


def problems(result: Soak) -> list[str]:
    """What the soak must never see: an error, a note acknowledged and not stored (or stored twice), a retry
    answered otherwise than the first time, an audit chain that does not verify."""
    found = []
    if result.error_count:
        found.append(f"{result.error_count} errors: {dict(result.errors.most_common(5))}")
    if result.notes_stored != result.notes_acknowledged:
        found.append(f"{result.notes_acknowledged} notes acknowledged, {result.notes_stored} stored")
    if result.notes_stored_twice:
        found.append(f"{result.notes_stored_twice} notes stored more than once")
    if result.retries[1]:
        found.append(f"{result.retries[1]} retried notes answered otherwise than the first time")
    if not result.audit_verified:
        found.append(f"the audit chain does not verify: {result.audit_said}")
    return found


# --- the report ---


def summary_row(result: Soak) -> list[str]:
    latencies = [w.p95_ms for w in result.windows]
    rss = [w.server_rss_mb for w in result.windows if w.server_rss_mb]
    backends = [w.postgres_backends_mb for w in result.windows if w.postgres_backends_mb is not None]
    writes = sum(
        n for k, n in result.kinds.items() if k in ("note", "note (retry)", "work item move", "triage contact")
    )
    return [
        result.store,
        str(result.clients),
        f"{result.seconds / 60:g} min",
        f"{result.requests:,}",
        f"{writes:,}",
        str(result.error_count),
        f"{sorted(latencies)[len(latencies) // 2]:.0f} / {max(latencies):.0f} ms" if latencies else "",
        f"{rss[0]:.0f} → {rss[-1]:.0f} (max {max(rss):.0f}) MB" if rss else "",
        f"{backends[0]:.0f} → {backends[-1]:.0f} (max {max(backends):.0f}) MB" if backends else "",
        f"{result.notes_acknowledged:,} / {result.notes_stored:,} / {result.notes_stored_twice}",
        "yes" if result.audit_verified else "NO",
    ]


SUMMARY_HEADINGS = [
    "store",
    "clients",
    "time",
    "requests",
    "of them writes",
    "errors",
    "p95 per window: median / worst",
    "service RSS: first → last window",
    "PostgreSQL backends (PSS)",
    "notes acknowledged / stored / twice",
    "audit verifies",
]


def print_result(result: Soak) -> None:
    print(f"\n## {result.store}: {result.clients} clients for {result.seconds:g} s", flush=True)
    print("requests by kind: " + ", ".join(f"{k} {n:,}" for k, n in sorted(result.kinds.items())))
    print("answers: " + ", ".join(f"{s}: {n:,}" for s, n in sorted(result.statuses.items())))
    print(f"retried notes answered as the first time: {result.retries[0]}, otherwise: {result.retries[1]}")
    print(f"audit verify: {result.audit_said}")
    print(f"load average {result.load_average[0]:.1f} at the start, {result.load_average[1]:.1f} at the end")
    print("| " + " | ".join(SUMMARY_HEADINGS) + " |")
    print("|" + "|".join("---" for _ in SUMMARY_HEADINGS) + "|")
    print("| " + " | ".join(summary_row(result)) + " |", flush=True)


def write_figures(result: Soak, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    write_csv(out / f"soak-{result.store}.csv", result.windows)
    title = f"Soak on {'PostgreSQL' if result.store == 'postgresql' else 'SQLite'}: {result.clients} clients"
    draw_svg(out / f"soak-{result.store}.svg", result.windows, title=title, window_seconds=WINDOW)


def run_store(store: str, args: argparse.Namespace, work: Path) -> Soak:
    data_dir = work / store
    clients = args.clients_postgresql if store == "postgresql" else args.clients_sqlite
    area = work / "sqlite" / "synthetic-area" if store == "postgresql" else work / "postgresql" / "synthetic-area"
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(postgres_database()) if store == "postgresql" else None
        started = time.perf_counter()
        password = prepare_demo(data_dir, url, people=args.people, seed=args.seed, area_from=area)
        print(
            f"{store}: demo area of {args.people:,} people ready in {time.perf_counter() - started:.0f} s", flush=True
        )
        return soak(data_dir, url, password, clients=clients, seconds=args.seconds, think=args.think)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--stores", default="postgresql,sqlite")
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--clients-postgresql", type=int, default=50)
    parser.add_argument("--clients-sqlite", type=int, default=20)
    parser.add_argument("--think", type=float, default=1.0, help="mean pause between a client's requests, seconds")
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=DOCS, help="where the CSV and SVG files go")
    parser.add_argument("--work", type=Path, default=None, help="work folder (default: a temporary one)")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="cg-soak-"))
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    print(f"# soak: {when}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}, work in {work}", flush=True)
    failures = 0
    for store in args.stores.split(","):
        result = run_store(store, args, work)
        write_figures(result, args.out)
        print_result(result)
        for problem in problems(result):
            failures += 1
            print(f"  PROBLEM ({store}): {problem}", flush=True)
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
