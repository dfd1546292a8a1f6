"""Faults as a suite (#18): kill -9 at random points of every stage, PostgreSQL stopped and started under load, the
disk filling during ingest and a build, and the SMTP server down for an hour of notices on a simulated clock.

    .venv/bin/python benchmarks/faults.py                       # everything, 20 kill trials a stage
    .venv/bin/python benchmarks/faults.py --trials 3 --only kill
    .venv/bin/python benchmarks/faults.py --only postgres,disk,smtp --cycles 5

Each stage runs as a real subprocess (``commonground --data-dir DIR ...``) on a 2,000-person synthetic area and is
sent SIGKILL after a delay drawn from a seeded RNG; then the data directory is checked (the last complete build in
place, nothing half-loaded: every store is as it was before the run or as a clean run leaves it), the stage is run
again to the end and its outputs compared with a clean run's (person ids included). The disk trials need root (to
mount a tmpfs); the PostgreSQL trials make a private cluster with ``initdb`` on a port of their own, never the
shared server. Figures are printed as Markdown tables (docs/reliability.md holds the last run's). The short form of
every trial runs in the test suite (``tests/faults/``), through the functions here.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import json
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

BIN = Path(sys.executable).parent
CLI = str(BIN / "commonground")
SECRET = "f" * 40
ENV_DROP = ("COMMONGROUND_DATABASE_URL", "COMMONGROUND_DATA_DIR")
DUE_COLUMNS = {"due_by", "rag", "raised_at"}
"""Columns of the rules output that follow the moment the rules ran (``flag`` runs as of now): left out of the
comparison of two runs."""


def cli_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ENV_DROP}
    env.update(extra)
    return env


def run_cli(data_dir: Path, *args: str, env: dict[str, str] | None = None, check: bool = True) -> float:
    """Run one ``commonground`` command to the end; its wall time."""
    started = time.perf_counter()
    done = subprocess.run(
        [CLI, "--data-dir", str(data_dir), *args],
        env=env or cli_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    if check and done.returncode != 0:
        raise RuntimeError(f"commonground {' '.join(args)} exited {done.returncode}: {done.stderr[-2000:]}")
    return time.perf_counter() - started


# --- fingerprints: what a data directory holds, as counts and hashes of rows ---


def _duckdb_tables(path: Path, *, skip_columns: set[str], skip_tables: set[str]) -> dict[str, Any]:
    if not path.exists():
        return {}
    con = duckdb.connect(str(path), read_only=True)
    try:
        found: dict[str, Any] = {}
        tables = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables ORDER BY 1").fetchall()]
        for table in tables:
            if table in skip_tables:
                continue
            columns = [
                r[0]
                for r in con.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position",
                    [table],
                ).fetchall()
                if r[0] not in skip_columns
            ]
            listed = ", ".join(f'"{c}"' for c in columns)
            row = con.execute(f'SELECT count(*), coalesce(sum(hash({listed})), 0) FROM "{table}"').fetchone()
            assert row is not None
            found[table] = (int(row[0]), str(row[1]))
        return found
    finally:
        con.close()


def ingest_fingerprint(data_dir: Path) -> dict[str, Any]:
    """Every table of the ingest store but the run records (a run's id and times differ from run to run)."""
    return _duckdb_tables(
        data_dir / "analytical" / "ingest.duckdb",
        skip_columns={"run_id", "loaded_at"},
        skip_tables={"ingest_runs"},
    )


def builds_root(data_dir: Path) -> Path:
    return data_dir / "analytical" / "builds"


def current_build(data_dir: Path) -> Path | None:
    pointer = builds_root(data_dir) / "CURRENT"
    if not pointer.exists():
        return None
    return builds_root(data_dir) / pointer.read_text(encoding="utf-8").strip()


def build_fingerprint(build: Path | None) -> dict[str, Any]:
    """The current build's people: person_records, persons, households (person ids included), and its rules output
    but for the columns that follow the moment the rules ran."""
    if build is None:
        return {}
    json.loads((build / "build.json").read_text(encoding="utf-8"))  # complete: its description reads
    tables = _duckdb_tables(build / "build.duckdb", skip_columns=set(), skip_tables=set())
    people = {t: tables[t] for t in ("person_records", "persons", "households")}
    rules = _duckdb_tables(build / "rules.duckdb", skip_columns=DUE_COLUMNS, skip_tables={"rules_run"})
    return {"people": people, "rules": rules, "view": _view_fingerprint(build)}


def _view_fingerprint(build: Path) -> tuple[int, int] | None:
    """The person view ``views/CURRENT`` names: it must open and hold every person of the build."""
    pointer = build / "views" / "CURRENT"
    if not pointer.exists():
        return None
    folder = build / "views" / pointer.read_text(encoding="utf-8").strip()
    con = duckdb.connect(str(folder / "person_view.duckdb"), read_only=True)
    try:
        identity = con.execute("SELECT count(*) FROM identity").fetchone()
        records = con.execute("SELECT count(*) FROM records").fetchone()
    finally:
        con.close()
    assert identity is not None and records is not None
    with sqlite3.connect(folder / "person_documents.sqlite") as documents:
        (count,) = documents.execute("SELECT count(*) FROM sqlite_master").fetchone()
    return int(identity[0]), int(records[0]) if count else -1


HUB_TABLES = ("work_items", "notices", "outbox_messages", "person_relationships", "rule_pack_versions", "users")


def hub_fingerprint(data_dir: Path) -> dict[str, Any]:
    """The operational store (SQLite): rows of the tables ``hub sync`` writes, and the work items themselves."""
    path = data_dir / "operational.sqlite"
    if not path.exists():
        return {}
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        counts = {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in HUB_TABLES}
        items = db.execute(
            "SELECT flag_key, person_id, rule_id, rule_version, episode, organisation_id, role, purpose, due_by, "
            "evidence, status FROM work_items ORDER BY flag_key"
        ).fetchall()
    counts["work_items_hash"] = hashlib.sha256(repr(items).encode()).hexdigest()[:16]
    return counts


def audit_whole(data_dir: Path, url: str | None = None) -> bool:
    path = data_dir / "operational.sqlite"
    if url is None and not path.exists():
        return True
    from commonground.access.audit import verify_audit
    from commonground.store.db import make_engine, session_factory

    engine = make_engine(url or f"sqlite:///{path}")
    try:
        with session_factory(engine)() as db:
            return verify_audit(db).ok
    finally:
        engine.dispose()


def fingerprint(data_dir: Path) -> dict[str, Any]:
    """Everything a stage may change, without the current build's id (a new build of the same input is equal)."""
    return {
        "ingest": ingest_fingerprint(data_dir),
        "build": build_fingerprint(current_build(data_dir)),
        "hub": hub_fingerprint(data_dir),
    }


def leftovers(data_dir: Path) -> list[str]:
    """Half-written files a killed run left (never read: a build folder named ``.tmp-``, a rules output's
    temporary file, a person view never made current)."""
    root = builds_root(data_dir)
    found = [p.name for p in root.glob(".tmp-*")] if root.exists() else []
    for build in root.iterdir() if root.exists() else []:
        if build.is_dir() and not build.name.startswith("."):
            found += [f"{build.name}/{p.name}" for p in build.glob(".rules.duckdb.*.tmp")]
    return found


# --- the area and the states each stage starts from ---


@dataclass
class Area:
    """A synthetic area and one data directory per stage, as the stage finds it before it runs."""

    root: Path
    feeds: Path
    states: dict[str, Path] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    clean: dict[tuple[str, ...], Reference] = field(default_factory=dict)
    """Clean runs, by state and command (the link and publish trials share one)."""


def copy_state(source: Path, target: Path) -> Path:
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target, symlinks=True)
    return target


def seed_partnership_into(data_dir: Path, url: str | None = None) -> None:
    """The demonstration partnership (organisations, agreements, an account for every role) in the operational
    store, as ``demo`` sets it up; the store must be upgraded."""
    from commonground.cases.demo import seed_partnership
    from commonground.store.db import make_engine, session_factory

    build = current_build(data_dir)
    assert build is not None
    engine = make_engine(url or f"sqlite:///{data_dir / 'operational.sqlite'}")
    try:
        with session_factory(engine)() as db:
            seed_partnership(db, build_path=build, password="fault trials password 1")
            db.commit()
    finally:
        engine.dispose()


def rules_as_of_area_end(data_dir: Path, feeds: Path) -> None:
    from commonground.cli.demo_cmd import rules_moments
    from commonground.rules import run_rules

    build = current_build(data_dir)
    assert build is not None
    run_rules(build_dir=build, as_of=rules_moments(feeds)[-1])


def prepare_area(root: Path, *, people: int = 2000, seed: int = 7) -> Area:
    """Synthesise the area and lay out the state each stage starts from:

    - ``ingest``: half the feed files loaded, and a published build (ingest must leave it alone); the stage loads
      the whole folder;
    - ``link``: everything loaded and linked (the build a clean run made); the stage links again;
    - ``flag``: that, with the rules run once; the stage runs them again;
    - ``sync``: the ``link`` state with the rules run as of the morning after the area's last day (as ``demo``
      does: ``flag`` runs as of now, weeks after the synthetic records end, and raises little), the operational
      store upgraded and the demonstration partnership in it; the stage is the first ``hub sync``."""
    root.mkdir(parents=True, exist_ok=True)
    area = Area(root=root, feeds=root / "area")
    area.seconds["synth"] = run_cli(
        root / "unused", "synth", "--people", str(people), "--seed", str(seed), "--out", str(area.feeds)
    )
    full = root / "state-link"
    area.seconds["ingest-all"] = run_cli(full, "ingest", str(area.feeds))
    area.seconds["link"] = run_cli(full, "link")
    area.states["link"] = full
    first = root / "first-half"
    first.mkdir(exist_ok=True)
    for path in sorted(area.feeds.glob("*.csv"))[::2]:
        shutil.copy(path, first / path.name)
    half = root / "state-ingest"
    run_cli(half, "ingest", str(first))
    shutil.copytree(builds_root(full), builds_root(half))
    area.states["ingest"] = half
    flagged = copy_state(full, root / "state-flag")
    area.seconds["flag"] = run_cli(flagged, "flag")
    area.states["flag"] = flagged
    synced = copy_state(full, root / "state-sync")
    rules_as_of_area_end(synced, area.feeds)
    run_cli(synced, "db", "upgrade")
    seed_partnership_into(synced)
    area.states["sync"] = synced
    return area


# --- kill -9 at random points ---


def publishing(data_dir: Path, current: str | None) -> bool:
    """A build is being published: its folder, still ``.tmp-``, holds ``build.json`` (written just before the
    rename), or ``CURRENT`` already names another build."""
    root = builds_root(data_dir)
    if any((folder / "build.json").exists() for folder in root.glob(".tmp-*")):
        return True
    build = current_build(data_dir)
    return (build.name if build else None) != current


@dataclass(frozen=True)
class Stage:
    name: str
    state: str
    command: Callable[[Area], list[str]]
    window: tuple[float, float] = (0.0, 1.0)
    """Where the kill falls: fractions of the stage's clean duration, or with ``trigger``, seconds after it."""
    trigger: Callable[[Path, str | None], bool] | None = None
    """Watched every millisecond (with the data directory and the build current before): the delay starts when it
    holds."""


STAGES = {
    "ingest": Stage("ingest", "ingest", lambda a: ["ingest", str(a.feeds)]),
    "link": Stage("link", "link", lambda a: ["link"]),
    "flag": Stage("rules (flag)", "flag", lambda a: ["flag"]),
    "sync": Stage("hub sync", "sync", lambda a: ["hub", "sync"]),
    "late-link": Stage("end of link (last 15 %)", "link", lambda a: ["link"], window=(0.85, 1.02)),
    "publish": Stage("publish (at build.json)", "link", lambda a: ["link"], window=(0.0, 0.02), trigger=publishing),
}
CI_STAGES = ("ingest", "link", "flag", "sync", "publish")


@dataclass
class Trial:
    stage: str
    delay: float
    killed: bool
    """False when the stage finished before its kill came."""
    after_kill: str
    """What the kill left: ``as before`` or ``as a clean run`` (never anything between)."""
    problems: list[str]
    leftovers: int
    rerun_seconds: float | None


@dataclass
class Reference:
    before: dict[str, Any]
    after: dict[str, Any]
    seconds: float
    current_before: str | None


def clean_run(area: Area, key: str, work: Path) -> Reference:
    """The stage run once, unharmed, from its state: what every rerun must equal."""
    stage = STAGES[key]
    cached = (stage.state, *stage.command(area))
    if cached in area.clean:
        return area.clean[cached]
    state = area.states[stage.state]
    target = copy_state(state, work / f"clean-{key}")
    before = fingerprint(target)
    seconds = run_cli(target, *stage.command(area))
    after = fingerprint(target)
    build = current_build(state)
    shutil.rmtree(target)
    area.clean[cached] = Reference(before, after, seconds, build.name if build else None)
    return area.clean[cached]


def _check_after_kill(data_dir: Path, ref: Reference) -> tuple[str, list[str]]:
    problems: list[str] = []
    try:
        now = fingerprint(data_dir)
    except Exception as error:  # a store that cannot be read is the failure this looks for
        return "unreadable", [f"cannot read the data directory: {type(error).__name__}: {error}"]
    build = current_build(data_dir)
    name = build.name if build else None
    if now == ref.before and name == ref.current_before:
        state = "as before"
    elif now == ref.after:
        state = "as a clean run"
    else:
        state = "each store as before or as after"  # hub sync lays out its person view before its transaction
        for part in now:
            if now[part] not in (ref.before[part], ref.after[part]):
                state = "between"
                problems.append(f"{part} is neither as before nor as after a clean run")
    if name != ref.current_before and (build is None or not (build / "build.json").exists()):
        problems.append(f"CURRENT names {name}, not a complete build")
    if not audit_whole(data_dir):
        problems.append("the audit chain does not verify")
    return state, problems


def kill_trials(
    area: Area, key: str, *, trials: int, rng: random.Random, work: Path, rerun_each: bool = True
) -> tuple[Reference, list[Trial]]:
    """``trials`` runs of a stage, each killed after a random delay and checked; with ``rerun_each`` each is run
    again to the end and compared with a clean run, else the kills follow one another on one data directory
    (each from what the one before left) and it is run again once, at the end (the short form for CI)."""
    stage = STAGES[key]
    ref = clean_run(area, key, work)
    duration = ref.seconds  # the clean run's, from the same state (the first link of the area also trained)
    results: list[Trial] = []
    target = work / f"trial-{key}"
    for number in range(trials):
        if rerun_each or number == 0:
            copy_state(area.states[stage.state], target)
        delay = rng.uniform(*stage.window) * (duration if stage.trigger is None else 1.0)
        current = current_build(target)
        child = subprocess.Popen(
            [CLI, "--data-dir", str(target), *stage.command(area)],
            env=cli_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if stage.trigger is not None:
            while child.poll() is None and not stage.trigger(target, current.name if current else None):
                time.sleep(0.001)
        killed = _kill_after(child, delay)
        state, problems = _check_after_kill(target, ref)
        left = len(leftovers(target))
        rerun: float | None = None
        if rerun_each or number == trials - 1:
            rerun, more = _rerun(area, stage, target, ref)
            problems += more
        results.append(Trial(stage.name, delay, killed, state, problems, left, rerun))
    shutil.rmtree(target, ignore_errors=True)
    return ref, results


def _kill_after(child: subprocess.Popen[bytes], delay: float) -> bool:
    """SIGKILL ``child`` after ``delay`` seconds; False when it ended first."""
    try:
        child.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        return True
    return False


def _rerun(area: Area, stage: Stage, target: Path, ref: Reference) -> tuple[float | None, list[str]]:
    try:
        seconds = run_cli(target, *stage.command(area))
    except RuntimeError as error:
        return None, [f"the rerun failed: {error}"]
    now = fingerprint(target)
    problems = [f"after the rerun, {part} differs from a clean run" for part in now if now[part] != ref.after[part]]
    if now["build"].get("people") != ref.before["build"].get("people"):  # nothing new was linked: nobody changes
        problems.append("after the rerun, the people or their person ids differ from the build before")
    if not audit_whole(target):
        problems.append("the audit chain does not verify after the rerun")
    if any(p.startswith(".tmp-") for p in leftovers(target)):
        problems.append("a half-written build folder is still there after the rerun")
    return seconds, problems


# --- PostgreSQL stopped and started under load ---


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def postgres_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[4]))
    if found:
        return found[-1].parent
    which = shutil.which("initdb")
    return Path(which).parent if which else None


class PrivatePostgres:
    """A PostgreSQL cluster of our own: ``initdb`` in a temporary folder, on a free port, sockets in that folder;
    as root the server runs as the ``postgres`` user. Never the shared server at 5432."""

    def __init__(self) -> None:
        bindir = postgres_bin()
        if bindir is None:
            raise RuntimeError("no initdb on this machine (looked in /usr/lib/postgresql/*/bin and PATH)")
        self.bin = bindir
        self.root = Path(tempfile.mkdtemp(prefix="cg-faults-pg-"))
        self.root.chmod(0o755)
        self.data = self.root / "cluster"
        self.port = free_port()
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_user:
            shutil.chown(self.root, user="postgres")
        self._pg("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")

    @property
    def admin_url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def _pg(self, tool: str, *args: str) -> None:
        subprocess.run([*self.as_user, str(self.bin / tool), *args], check=True, capture_output=True, text=True)

    def start(self) -> float:
        started = time.perf_counter()
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -c fsync=on"
        self._pg("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.root / "log"), "-w", "start")
        return time.perf_counter() - started

    def stop(self, mode: str = "immediate") -> None:
        self._pg("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def create_database(self, name: str) -> str:
        from sqlalchemy import create_engine, text

        engine = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
        finally:
            engine.dispose()
        return self.url(name)

    def close(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


@dataclass
class LoadFigures:
    cycles: int
    requests: int
    statuses: Counter[str]
    writes_acknowledged: int
    writes_lost: int
    stored_unacknowledged: int
    recovery_seconds: list[float]
    served_after_each_restart: list[bool]
    problems: list[str]


@contextlib.contextmanager
def served_hub(data_dir: Path, url: str) -> Iterator[str]:
    """``commonground serve`` on the store at ``url``, in a process of its own; yields its address."""
    port = free_port()
    env = cli_env(COMMONGROUND_DATABASE_URL=url, COMMONGROUND_SECRET_KEY=SECRET)
    log = (data_dir / "serve.log").open("w")
    server = subprocess.Popen(
        [CLI, "--data-dir", str(data_dir), "serve", "--port", str(port)], env=env, stdout=log, stderr=log
    )
    base = f"http://127.0.0.1:{port}"
    try:
        import httpx

        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError(f"the hub did not start: {(data_dir / 'serve.log').read_text()[-2000:]}")
            time.sleep(0.2)
        yield base
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


@dataclass(frozen=True)
class Writer:
    cookie: str
    csrf: str
    person_id: str
    purpose: str


def _writer(data_dir: Path, url: str, base: str) -> Writer:
    """A signed-in hub practitioner, and a person they may write a note about (one of the area's busiest)."""
    import httpx
    from sqlalchemy import select

    from commonground.access import accounts
    from commonground.access.models import User
    from commonground.access.roles import Role
    from commonground.store.db import make_engine, session_factory, utcnow
    from commonground.store.settings import HubSettings

    settings = HubSettings(data_dir=data_dir, database_url=url, secret_key=SECRET)
    engine = make_engine(url)
    try:
        with session_factory(engine)() as db:
            users = db.scalars(select(User).where(User.role == Role.HUB_PRACTITIONER).order_by(User.id)).all()
            tokens = [accounts.start_session(db, user=u, method="test", settings=settings, now=utcnow()) for u in users]
            db.commit()
    finally:
        engine.dispose()
    build = current_build(data_dir)
    assert build is not None
    con = duckdb.connect(str(build / "build.duckdb"), read_only=True)
    try:
        people = [
            r[0] for r in con.execute("SELECT person_id FROM persons ORDER BY record_count DESC LIMIT 5").fetchall()
        ]
    finally:
        con.close()
    for token in tokens:
        cookie = f"__Host-cg_session={token}"
        csrf = httpx.get(f"{base}/api/me", headers={"Cookie": cookie}, timeout=10).json()["csrf_token"]
        for purpose in ("safeguarding_children", "safeguarding_adults"):
            for person in people:
                probe = httpx.post(
                    f"{base}/people/{person}/notes",
                    data={"csrf_token": csrf, "purpose": purpose, "text": "fault trial probe"},
                    headers={"Cookie": cookie, "Accept": "text/html"},
                    timeout=10,
                )
                if probe.status_code == 303:
                    return Writer(cookie, csrf, person, purpose)
    raise RuntimeError("no hub practitioner may write a note about the area's busiest people")


class Load:
    """Clients reading the queue and writing notes until told to stop; every answer is kept with its time."""

    def __init__(self, base: str, writer: Writer, clients: int) -> None:
        self.base, self.writer, self.clients = base, writer, clients
        self.answers: list[tuple[float, str, str]] = []  # (time, kind, status or error)
        self.acknowledged: set[str] = set()
        self.sent: set[str] = set()
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._client, args=(n,), daemon=True) for n in range(clients)]

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=30)

    def _client(self, number: int) -> None:
        import httpx

        w = self.writer
        headers = {"Cookie": w.cookie, "Accept": "text/html"}
        queue = f"/api/work-items?purpose={w.purpose}"
        with httpx.Client(base_url=self.base, timeout=15) as client:
            n = 0
            while not self.stop.is_set():
                n += 1
                text = f"fault trial note {number}-{n}"
                kind, status = "write", ""
                try:
                    if n % 2:
                        kind = "read"
                        status = str(client.get(queue, headers={"Cookie": w.cookie}).status_code)
                    else:
                        with self.lock:
                            self.sent.add(text)
                        answer = client.post(
                            f"/people/{w.person_id}/notes",
                            data={"csrf_token": w.csrf, "purpose": w.purpose, "text": text},
                            headers=headers,
                        )
                        status = str(answer.status_code)
                        if answer.status_code == 303:
                            with self.lock:
                                self.acknowledged.add(text)
                except httpx.HTTPError as error:
                    status = type(error).__name__
                with self.lock:
                    self.answers.append((time.monotonic(), kind, status))
                if status == "503":
                    time.sleep(0.1)

    def first_success_after(self, moment: float, kind: str = "write") -> float | None:
        with self.lock:
            times = [t for t, k, s in self.answers if t >= moment and k == kind and s in ("200", "303")]
        return min(times) - moment if times else None


def postgres_trials(
    data_dir: Path, *, cycles: int, clients: int = 6, down_seconds: float = 3.0, up_seconds: float = 4.0
) -> LoadFigures:
    """The hub served on a private PostgreSQL cluster; clients read and write while the cluster is stopped
    (``-m immediate``: no goodbye to its clients) and started again, ``cycles`` times, the service never restarted.
    ``data_dir`` holds a build with its rules run (the ``sync`` state)."""
    pg = PrivatePostgres()
    problems: list[str] = []
    try:
        pg.start()
        url = pg.create_database("commonground")
        run_cli(data_dir, "db", "upgrade", env=cli_env(COMMONGROUND_DATABASE_URL=url))
        seed_partnership_into(data_dir, url)
        run_cli(data_dir, "hub", "sync", env=cli_env(COMMONGROUND_DATABASE_URL=url))
        recovery: list[float] = []
        served: list[bool] = []
        with served_hub(data_dir, url) as base:
            writer = _writer(data_dir, url, base)
            with Load(base, writer, clients) as load:
                time.sleep(up_seconds)
                for _ in range(cycles):
                    pg.stop("immediate")
                    time.sleep(down_seconds)
                    pg.start()
                    started = time.monotonic()
                    time.sleep(up_seconds)
                    first = load.first_success_after(started)
                    served.append(first is not None)
                    recovery.append(first if first is not None else float("nan"))
        stored = _stored_notes(url)
    finally:
        pg.close()
    statuses = Counter(s for _, _, s in load.answers)
    lost = load.acknowledged - stored
    unacknowledged = (stored & load.sent) - load.acknowledged
    bad = {s: n for s, n in statuses.items() if s not in ("200", "303", "503")}
    if bad:
        problems.append(f"answers other than 200, 303 and 503: {bad}")
    if lost:
        problems.append(f"{len(lost)} acknowledged notes are not in the store")
    if not all(served):
        problems.append("the service did not answer a write after PostgreSQL came back")
    return LoadFigures(
        cycles,
        len(load.answers),
        statuses,
        len(load.acknowledged),
        len(lost),
        len(unacknowledged),
        recovery,
        served,
        problems,
    )


def _stored_notes(url: str) -> set[str]:
    from sqlalchemy import select

    from commonground.cases.notes import Note
    from commonground.store.db import make_engine, session_factory

    engine = make_engine(url)
    try:
        with session_factory(engine)() as db:
            return set(db.scalars(select(Note.text)))
    finally:
        engine.dispose()


# --- the disk filling up ---


@dataclass
class DiskTrial:
    stage: str
    free_mb: float
    exit_code: int
    message: str
    traceback: bool
    state: str
    problems: list[str]


def can_mount() -> str | None:
    """Why a small filesystem cannot be made here, or None when it can."""
    if os.geteuid() != 0:
        return "mounting a tmpfs needs root"
    probe = Path(tempfile.mkdtemp(prefix="cg-faults-mount-"))
    try:
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(probe)], check=True, capture_output=True)
        subprocess.run(["umount", str(probe)], check=True, capture_output=True)
    except (subprocess.CalledProcessError, FileNotFoundError) as error:
        return f"cannot mount a tmpfs: {error}"
    finally:
        probe.rmdir()
    return None


@contextlib.contextmanager
def small_disk(size_mb: int) -> Iterator[Path]:
    """A tmpfs of ``size_mb`` MiB, unmounted afterwards."""
    mount = Path(tempfile.mkdtemp(prefix="cg-faults-disk-"))
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_mb}m", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)
        mount.rmdir()


def _fill(mount: Path, free_mb: float) -> None:
    ballast = mount / "ballast"
    ballast.unlink(missing_ok=True)
    available = shutil.disk_usage(mount).free
    size = max(0, available - int(free_mb * 1024 * 1024))
    with ballast.open("wb") as handle:
        handle.truncate(0)
        chunk = b"\0" * (1024 * 1024)
        while size > 0:
            handle.write(chunk[: min(size, len(chunk))])
            size -= len(chunk)


def disk_trial(area: Area, key: str, free_mb: float, ref: Reference) -> DiskTrial:
    """The stage's state on a small filesystem filled to leave ``free_mb``: the stage must stop with a clear
    message (no traceback) and leave everything as it was; with the space freed, a rerun equals a clean run."""
    stage = STAGES[key]
    state = area.states[stage.state]
    need = sum(f.stat().st_size for f in state.rglob("*") if f.is_file()) // (1024 * 1024)
    with small_disk(int(need * 2.5) + 40) as mount:
        target = copy_state(state, mount / "data")
        _fill(mount, free_mb)
        done = subprocess.run(
            [CLI, "--data-dir", str(target), *stage.command(area)], env=cli_env(), capture_output=True, text=True
        )
        lines = [line for line in done.stderr.splitlines() if line.strip() and "━" not in line]
        message = lines[-1].strip() if lines else ""
        state_after, problems = _check_after_kill(target, ref)
        traceback = "Traceback" in done.stderr
        if done.returncode != 0:
            if traceback:
                problems.append("a traceback was printed")
            if "disk" not in message.lower():
                problems.append(f"the message does not say the disk is full: {message[:200]!r}")
            if state_after != "as before":
                problems.append(f"the failed run left the data directory {state_after}")
        (mount / "ballast").unlink()
        _, more = _rerun(area, stage, target, ref)
        problems += more
    message = message.replace(str(mount), "DISK")
    return DiskTrial(stage.name, free_mb, done.returncode, message, traceback, state_after, problems)


# --- the SMTP server down for an hour ---


@dataclass
class SmtpFigures:
    messages: int
    failed_attempts: int
    delivered: int
    delivered_twice: int
    lost: int
    attempts_per_message: Counter[int]
    problems: list[str]


def smtp_outage(data_dir: Path, *, minutes: int = 60, new_every: int = 5) -> SmtpFigures:
    """The outbox of a synced hub (``hub sync`` queued its notices' emails) sent every simulated minute for
    ``minutes`` while nothing listens on the SMTP port, with two more notices' emails queued every ``new_every``
    minutes; then a real SMTP server (aiosmtpd) starts on that port and sending goes on for an hour more. Every
    message must arrive exactly once, and each failed message must wait as the backoff says."""
    from aiosmtpd.controller import Controller
    from sqlalchemy import select

    from commonground.cases.notices import mark_notice_sent
    from commonground.cases.outbox import OutboxMessage, queue_message, send_pending
    from commonground.store.db import make_engine, session_factory, utcnow

    received: list[str] = []

    class Mailbox:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # aiosmtpd calls it so
            found = re.search(rb"Message-ID: <[^>@]*outbox-(\d+)@", envelope.content)
            received.append(found.group(1).decode() if found else "?")
            return "250 accepted"

    port = free_port()
    engine = make_engine(f"sqlite:///{data_dir / 'operational.sqlite'}")
    start = utcnow()
    problems: list[str] = []
    failed = 0
    try:
        sessions = session_factory(engine)
        controller: Controller | None = None
        for minute in range(minutes * 2 + 1):
            now = start + dt.timedelta(minutes=minute)
            if minute == minutes:
                controller = Controller(Mailbox(), hostname="127.0.0.1", port=port)
                controller.start()
            with sessions() as db:
                if minute < minutes and minute % new_every == 0:
                    for n in range(2):
                        queue_message(
                            db,
                            kind="notice",
                            to_address=f"lead{n}@school.example",
                            subject="A new Operation Encompass notice",
                            body=f"minute {minute}\n",
                        )
                    db.commit()
                result = send_pending(
                    db,
                    host="127.0.0.1",
                    port=port,
                    sender="hub@faults.example",
                    now=now,
                    timeout=5,
                    on_sent=mark_notice_sent,
                )
                failed += result.failed
        if controller is not None:
            controller.stop()
        with sessions() as db:
            rows = db.execute(select(OutboxMessage.id, OutboxMessage.attempts, OutboxMessage.sent_at)).all()
    finally:
        engine.dispose()
    counts = Counter(received)
    twice = sum(1 for n in counts.values() if n > 1)
    lost = sum(1 for r in rows if r.sent_at is None or str(r.id) not in counts)
    if twice:
        problems.append(f"{twice} messages were delivered more than once")
    if lost:
        problems.append(f"{lost} messages were not delivered")
    expected = _expected_attempts(minutes)
    first = [r.attempts for r in rows if r.id == min(x.id for x in rows)]
    if first and first[0] != expected:
        problems.append(f"the first message was tried {first[0]} times; the backoff says {expected}")
    return SmtpFigures(len(rows), failed, len(received), twice, lost, Counter(r.attempts for r in rows), problems)


def _expected_attempts(minutes: int) -> int:
    """Tries of a message queued at minute 0 and sent every minute, the server down until ``minutes``: the failures
    at 0, 1, 3, 7, 15, 31 (waits of 1, 2, 4, 8, 16, then 30 minutes) before ``minutes``, and the one that goes."""
    from commonground.cases.outbox import backoff

    at, tries = 0.0, 0
    while at < minutes:
        tries += 1
        at += backoff(tries).total_seconds() / 60
    return tries + 1


# --- the report ---


def _table(headings: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(headings) + " |", "|" + "|".join("---:" for _ in headings) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def kill_rows(outcomes: dict[str, tuple[Reference, list[Trial]]]) -> list[list[Any]]:
    rows = []
    for key, (ref, trials) in outcomes.items():
        killed = [t for t in trials if t.killed]
        states = Counter(t.after_kill for t in killed)
        reruns = [t.rerun_seconds for t in trials if t.rerun_seconds is not None]
        rows.append(
            [
                STAGES[key].name,
                len(trials),
                len(killed),
                _delays(key, trials),
                states.get("as before", 0),
                states.get("as a clean run", 0),
                states.get("each store as before or as after", 0),
                sum(1 for t in trials if t.problems),
                sum(t.leftovers for t in trials),
                f"{ref.seconds:.1f} s",
                f"{sum(reruns) / len(reruns):.1f} s" if reruns else "",
            ]
        )
    return rows


def _delays(key: str, trials: list[Trial]) -> str:
    low, high = min(t.delay for t in trials), max(t.delay for t in trials)
    if STAGES[key].trigger is not None:
        return f"{low * 1000:.0f}-{high * 1000:.0f} ms after build.json"
    return f"{low:.1f}-{high:.1f} s"


KILL_HEADINGS = [
    "stage",
    "trials",
    "killed",
    "kill after",
    "left as before",
    "left as a clean run",
    "view laid out, store as before",
    "failed",
    "half-written files left",
    "clean run",
    "rerun (mean)",
]


def report_kill(area: Area, *, trials: int, seed: int, work: Path, stages: list[str]) -> int:
    rng = random.Random(seed)
    outcomes = {}
    failures = 0
    for key in stages:
        outcomes[key] = kill_trials(area, key, trials=trials, rng=rng, work=work)
        for trial in outcomes[key][1]:
            if trial.problems:
                failures += 1
                said = "; ".join(p[-400:] for p in trial.problems)
                print(f"  FAILED {trial.stage} after {trial.delay:.2f} s: {said}", flush=True)
        print("  " + " | ".join(str(c) for c in kill_rows({key: outcomes[key]})[0]), flush=True)
    print("\n## kill -9\n\n" + _table(KILL_HEADINGS, kill_rows(outcomes)), flush=True)
    return failures


def report_postgres(area: Area, *, cycles: int, work: Path) -> int:
    figures = postgres_trials(copy_state(area.states["sync"], work / "pg-data"), cycles=cycles)
    recovery = ", ".join(f"{s:.2f} s" for s in figures.recovery_seconds)
    answers = dict(sorted(figures.statuses.items()))
    headings = ["cycles", "requests", "answers", "writes acknowledged", "lost", "stored, not acknowledged"]
    headings += ["first write served after the start", "problems"]
    row = [figures.cycles, figures.requests, answers, figures.writes_acknowledged, figures.writes_lost]
    row += [figures.stored_unacknowledged, recovery, figures.problems or "none"]
    print("\n## PostgreSQL stopped and started\n\n" + _table(headings, [row]), flush=True)
    return int(bool(figures.problems))


def report_disk(area: Area, *, work: Path) -> int:
    why = can_mount()
    if why is not None:
        print(f"\n## disk full: not run ({why})", flush=True)
        return 0
    rows = []
    failures = 0
    for key, frees in (("ingest", (0.25, 0.5, 1, 2, 4)), ("link", (1, 4, 8, 16, 32))):
        ref = clean_run(area, key, work)
        for free in frees:
            t = disk_trial(area, key, free, ref)
            failures += bool(t.problems)
            traceback = "yes" if t.traceback else "no"
            rows.append([t.stage, f"{free} MB", t.exit_code, t.message or "(none)", traceback, t.state, t.problems])
    headings = ["stage", "free", "exit", "last line on stderr", "traceback", "left", "problems"]
    print("\n## disk full (tmpfs)\n\n" + _table(headings, rows), flush=True)
    return failures


def report_smtp(area: Area, *, work: Path) -> int:
    synced = copy_state(area.states["sync"], work / "smtp-data")
    run_cli(synced, "hub", "sync")
    smtp = smtp_outage(synced)
    tries = dict(sorted(smtp.attempts_per_message.items()))
    headings = ["messages", "failed attempts", "delivered", "delivered twice", "lost", "tries per message"]
    row = [smtp.messages, smtp.failed_attempts, smtp.delivered, smtp.delivered_twice, smtp.lost, tries]
    print("\n## SMTP down for an hour (simulated clock)\n\n" + _table([*headings, "problems"], [[*row, smtp.problems]]))
    return int(bool(smtp.problems))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--trials", type=int, default=20, help="kill trials per stage")
    parser.add_argument("--cycles", type=int, default=5, help="PostgreSQL stops and starts")
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=18, help="the RNG of the kill delays")
    parser.add_argument("--only", default="kill,postgres,disk,smtp")
    parser.add_argument("--stages", default=",".join(STAGES), help="the stages of the kill trials")
    parser.add_argument("--work", type=Path, default=None, help="work folder (default: a temporary one)")
    args = parser.parse_args()
    parts = set(args.only.split(","))
    work = args.work or Path(tempfile.mkdtemp(prefix="cg-faults-"))
    started = time.perf_counter()
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    print(f"# faults: {when}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}, work in {work}")
    area = prepare_area(work, people=args.people)
    took = time.perf_counter() - started
    print(
        f"area of {args.people:,} people ready in {took:.0f} s "
        f"(the first link, with training: {area.seconds['link']:.1f} s)"
    )
    failures = 0
    if "kill" in parts:
        failures += report_kill(area, trials=args.trials, seed=args.seed, work=work, stages=args.stages.split(","))
    if "postgres" in parts:
        failures += report_postgres(area, cycles=args.cycles, work=work)
    if "disk" in parts:
        failures += report_disk(area, work=work)
    if "smtp" in parts:
        failures += report_smtp(area, work=work)
    print(f"\n{failures} failures; {time.perf_counter() - started:.0f} s in all, load average {os.getloadavg()[0]:.1f}")
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
