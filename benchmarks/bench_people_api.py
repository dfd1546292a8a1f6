"""The person endpoint under concurrent clients: p50/p95/p99 latency, throughput and errors.

    .venv/bin/python benchmarks/bench_people_api.py --people 100000 --work /tmp/bench-people
    .venv/bin/python benchmarks/bench_people_api.py --people 1000000 --work /tmp/bench-people-1m

It builds (or reuses, in ``--work``) a synthetic area of ``--people``: synth, ingest, link, the rules as of the
morning after the area's last day, the demonstration partnership and ``hub sync`` (the person view), each timed.
The operational store is a fresh PostgreSQL database (dropped at the end), as in production. The service runs
under uvicorn with ``--workers`` processes; ``--clients`` concurrent clients (asyncio, one sign-in each, as the
MASH practitioner whose agreement covers everyone) request ``GET /api/people/{id}?purpose=safeguarding_children``
for random linked people for ``--seconds``. Every request is a real identifiable read: resolved, and audited in the
same transaction. ``--front nginx`` serves the same application as ``--workers`` single-process uvicorn
servers behind nginx, which sends each request to the least busy one (``least_conn``; nginx-light is installed
with apt if missing); ``--front uvicorn`` (the default) is one ``uvicorn --workers N``, where each client's
connection stays with whichever process accepted it. Give ``--front`` twice to measure both, one after the other,
on the same preparation; ``--repeat`` runs the load that many times against each. ``--compare-with DIR``
measures another checkout of the code (its ``src`` served, e.g. a ``git worktree`` of an earlier commit) against
this one on the same preparation and database, alternated (before, after, before, after ...), ``--repeat`` rounds,
and prints the ratio of the medians of p95 and of the service's CPU time a request. Each client signs in through
the real form, then keeps one connection, closed loop (the next request when the answer is in). Client and server
share this 2-core machine, so the figures are an upper bound on latency. Besides latency it prints the CPU time
per request of the service (uvicorn's processes), of PostgreSQL, of nginx and of this load generator, and the
load average (the machine may be shared). Figures go to stdout and to
``benchmarks/out/people-api-<people>-<front>.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import secrets
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb
import httpx
from sqlalchemy import create_engine, text

OUT = Path(__file__).parent / "out"
PG_ADMIN = os.environ.get("COMMONGROUND_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
USER = "mash@qxla.example"


def _timed(label: str, timings: dict[str, float], fn: Any, *args: Any, **kwargs: Any) -> Any:
    started = time.perf_counter()
    result = fn(*args, **kwargs)
    timings[label] = round(time.perf_counter() - started, 1)
    print(f"  {label}: {timings[label]} s", flush=True)
    return result


def prepare(people: int, work: Path, database_url: str) -> tuple[Path, dict[str, float]]:
    from commonground.cases.demo import demo_password, seed_partnership
    from commonground.cases.sync import sync_current_build
    from commonground.cli.demo_cmd import area_last_day, demo_clock
    from commonground.ingest import ingest_directory
    from commonground.linkage.builds import current_build_id, require_current_build
    from commonground.linkage.pipeline import build_from_store
    from commonground.rules import run_rules
    from commonground.store.db import make_engine, session_factory
    from commonground.store.migrate import upgrade
    from commonground.synth import generate

    timings: dict[str, float] = {}
    area, data_dir = work / "area", work / "data"
    if not (area / "truth" / "manifest.json").exists():
        _timed("synth", timings, generate, people=people, seed=1, out=area)
    if current_build_id(data_dir) is None:
        _timed("ingest", timings, ingest_directory, source=area, data_dir=data_dir)
        _timed("link", timings, build_from_store, data_dir=data_dir)
    build = require_current_build(data_dir)
    _timed("rules", timings, run_rules, build_dir=build.path, as_of=demo_clock(area_last_day(area)))
    upgrade(database_url)
    engine = make_engine(database_url)
    sessions = session_factory(engine)

    def seed_and_sync() -> None:
        with sessions() as db:
            seed_partnership(db, build_path=build.path, password=demo_password(data_dir))
            sync_current_build(db, data_dir=data_dir)
            db.commit()

    _timed("seed and hub sync (person view)", timings, seed_and_sync)
    engine.dispose()
    return data_dir, timings


def _cpu_seconds(*, pgid: int | None = None, command: str | None = None, but: str | None = None) -> float:
    """CPU time (user + system) of the live processes of a process group, or whose command is ``command``; not
    counting those whose command is ``but``."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue  # ended meanwhile
        name = text[text.index("(") + 1 : text.rindex(")")]
        fields = text[text.rindex(")") + 2 :].split()
        if name == but:
            continue
        if (pgid is not None and int(fields[2]) == pgid) or (command is not None and name == command):
            total += int(fields[11]) + int(fields[12])
    return total / tick


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _person_ids(data_dir: Path, n: int) -> list[str]:
    from commonground.linkage.builds import require_current_build

    con = duckdb.connect(str(require_current_build(data_dir).path / "build.duckdb"), read_only=True)
    try:
        rows = con.execute(f"SELECT person_id FROM persons USING SAMPLE {n} ROWS").fetchall()
    finally:
        con.close()
    return [str(r[0]) for r in rows]


async def _signed_in_client(base: str, password: str) -> _Client:
    """Sign in through the real form (its CSRF token, the password, the session cookie it sets) with httpx, then
    hand the session cookie to a :class:`_Client` for the load."""
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        form = await client.get("/sign-in")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert token is not None
        data = {"email": USER, "password": password, "csrf_token": token.group(1)}
        signed = await client.post("/sign-in", data=data)
        if signed.status_code != 303:
            raise RuntimeError(f"sign-in refused: {signed.status_code}")
        cookie = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
    url = httpx.URL(base)
    return _Client(url.host, url.port or 80, cookie)


class _Client:
    """One signed-in client on one keep-alive HTTP/1.1 connection, as a browser or an API client keeps one.

    Written for the load loop because the load generator shares the two cores with the service it measures:
    httpx spends about 3.6 ms of CPU on each request, as much as the service did once the person documents came
    in; this spends about 0.2 ms. It sends the session cookie, reads the status and the whole body (by its
    Content-Length) and checks that a 200 is a person."""

    def __init__(self, host: str, port: int, cookie: str) -> None:
        self.host, self.port = host, port
        self._head = f"Host: {host}:{port}\r\nCookie: {cookie}\r\n\r\n".encode()
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def get(self, path: str) -> int:
        if self._reader is None or self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        self._writer.write(b"GET " + path.encode() + b" HTTP/1.1\r\n" + self._head)
        try:
            async with asyncio.timeout(60):
                head = (await self._reader.readuntil(b"\r\n\r\n")).lower()
                at = head.find(b"\r\ncontent-length:")
                if at < 0:
                    raise ValueError("a response without a Content-Length")
                body = await self._reader.readexactly(int(head[at + 17 : head.index(b"\r\n", at + 2)]))
        except BaseException:
            await self.aclose()
            raise
        if b"\r\nconnection: close" in head:
            await self.aclose()
        status = int(head[9:12])
        if status == 200 and not body.startswith(b'{"identity":'):
            raise ValueError("a 200 that is not a person")
        return status

    async def aclose(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None


async def _requests(client: _Client, ids: list[str], until: float, latencies: list[float], errors: list[str]) -> None:
    while time.perf_counter() < until:
        person = random.choice(ids)
        started = time.perf_counter()
        try:
            status = await client.get(f"/api/people/{person}?purpose=safeguarding_children")
        except (OSError, TimeoutError, ValueError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as error:
            errors.append(type(error).__name__)
            continue
        latencies.append(time.perf_counter() - started)
        if status != 200:
            errors.append(str(status))


def _cpu_now(server_pgid: int) -> dict[str, float]:
    return {
        "server": _cpu_seconds(pgid=server_pgid, but="nginx"),
        "postgres": _cpu_seconds(command="postgres"),
        "nginx": _cpu_seconds(command="nginx"),
        "client": time.process_time(),
    }


async def load(
    base: str, password: str, ids: list[str], *, clients: int, seconds: float, server_pgid: int
) -> dict[str, Any]:
    """Sign every client in first (not timed), warm up for 5 s, then measure for ``seconds``: latency, and the CPU
    time the service (uvicorn's processes), PostgreSQL and this load generator spent, per request."""
    signed = [await _signed_in_client(base, password) for _ in range(clients)]
    try:
        await asyncio.gather(*(_requests(c, ids, time.perf_counter() + 5, [], []) for c in signed))
        latencies: list[float] = []
        errors: list[str] = []
        cpu_before = _cpu_now(server_pgid)
        load_before = os.getloadavg()
        started = time.perf_counter()
        until = started + seconds
        await asyncio.gather(*(_requests(c, ids, until, latencies, errors) for c in signed))
        elapsed = time.perf_counter() - started
        cpu_after = _cpu_now(server_pgid)
        load_after = os.getloadavg()
    finally:
        for c in signed:
            await c.aclose()
    q = statistics.quantiles(latencies, n=100) if len(latencies) >= 100 else [float("nan")] * 99
    served = max(len(latencies), 1)
    return {
        "requests": len(latencies),
        "errors": len(errors),
        "error_kinds": sorted(set(errors)),
        "throughput_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(q[49] * 1000, 1),
        "p95_ms": round(q[94] * 1000, 1),
        "p99_ms": round(q[98] * 1000, 1),
        "cpu_ms_per_request": {
            part: round((cpu_after[part] - cpu_before[part]) * 1000 / served, 2) for part in cpu_before
        },
        "load_average_1min": {"start": round(load_before[0], 2), "end": round(load_after[0], 2)},
    }


NGINX_CONF = """worker_processes 1;
pid {run}/nginx.pid;
error_log {run}/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {run}/body; proxy_temp_path {run}/proxy; fastcgi_temp_path {run}/fastcgi;
  uwsgi_temp_path {run}/uwsgi; scgi_temp_path {run}/scgi;
  upstream commonground {{ least_conn; {servers} keepalive 64; }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://commonground;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $remote_addr;
    }}
  }}
}}
"""


def _nginx() -> str:
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
    if found is None:
        subprocess.run(["apt-get", "install", "-y", "-q", "nginx-light"], check=True, stdout=subprocess.DEVNULL)
        found = shutil.which("nginx", path="/usr/sbin:/usr/bin")
    if found is None:
        raise SystemExit("nginx is needed for --front nginx (apt-get install nginx-light)")
    return found


def asgi_app(src: Path) -> str:
    """The ASGI application of the code in ``src`` (where it lives moved in #14: ``api`` became ``web``)."""
    for module in ("commonground.web.asgi", "commonground.api.asgi"):
        if (src / (module.replace(".", "/") + ".py")).exists():
            return f"{module}:app"
    raise SystemExit(f"no commonground ASGI application under {src}")


def _uvicorn(port: int, workers: int, app: str = "commonground.web.asgi:app") -> list[str]:
    command = [sys.executable, "-m", "uvicorn", app, "--port", str(port)]
    return [*command, "--workers", str(workers), "--log-level", "warning", "--no-access-log"]


def serve(
    front: str, workers: int, env: dict[str, str], run_dir: Path, *, app: str = "commonground.web.asgi:app"
) -> tuple[subprocess.Popen[bytes], int, list[int]]:
    """Start the service; returns its process group's leader, the port clients use and the ports of the servers
    behind nginx (none without it)."""
    if front == "uvicorn":
        port = _free_port()
        return subprocess.Popen(_uvicorn(port, workers, app), env=env, start_new_session=True), port, []
    ports = [_free_port() for _ in range(workers)]
    front_port = _free_port()
    servers = " ".join(f"server 127.0.0.1:{p};" for p in ports)
    (run_dir / "nginx.conf").write_text(NGINX_CONF.format(run=run_dir, servers=servers, port=front_port))
    script = " & ".join(shlex.join(_uvicorn(p, 1, app)) for p in ports)
    script += f" & exec {shlex.quote(_nginx())} -c {shlex.quote(str(run_dir / 'nginx.conf'))} -g 'daemon off;'"
    return subprocess.Popen(["bash", "-c", script], env=env, start_new_session=True), front_port, ports


def _wait_for(port: int) -> None:
    for _ in range(240):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"the service on port {port} did not answer /health")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--front", choices=["uvicorn", "nginx"], action="append")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument(
        "--compare-with",
        type=Path,
        metavar="DIR",
        help="another checkout (e.g. a git worktree of an earlier commit): serve its src/ and this one's, alternated",
    )
    args = parser.parse_args()
    name = f"cg_bench_{secrets.token_hex(4)}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    database_url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    server = None
    try:
        print(f"Preparing {args.people:,} people in {args.work} ...", flush=True)
        data_dir, timings = prepare(args.people, args.work, database_url)
        env = {
            **os.environ,
            "COMMONGROUND_DATA_DIR": str(data_dir),
            "COMMONGROUND_DATABASE_URL": database_url,
            "COMMONGROUND_COOKIE_SECURE": "false",
            "COMMONGROUND_LOGIN_RATE_PER_MINUTE": "1000",
        }
        ids = _person_ids(data_dir, 20_000)
        password = (data_dir / "demo-password").read_text(encoding="ascii").strip()
        if args.compare_with is not None:
            compare(args, env=env, ids=ids, password=password, timings=timings)
            return
        for front in args.front or ["uvicorn"]:
            run_dir = Path(tempfile.mkdtemp(prefix="cg-bench-"))
            server, port, backends = serve(front, args.workers, env, run_dir)
            for backend in [*backends, port]:
                _wait_for(backend)
            base = f"http://127.0.0.1:{port}"
            layout = f"{args.workers} workers" if front == "uvicorn" else f"nginx and {args.workers} servers"
            runs = []
            for run in range(1, args.repeat + 1):
                print(f"Load {run}: {args.clients} clients for {args.seconds:g} s against {layout} ...", flush=True)
                result = asyncio.run(
                    load(base, password, ids, clients=args.clients, seconds=args.seconds, server_pgid=server.pid)
                )
                print(json.dumps(result), flush=True)
                runs.append(result)
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
            server = None
            shutil.rmtree(run_dir, ignore_errors=True)
            summary = {
                "people": args.people,
                "clients": args.clients,
                "front": front,
                "workers": args.workers,
                "seconds": args.seconds,
                "runs": runs,
                "median_p95_ms": statistics.median(r["p95_ms"] for r in runs),
                "preparation_s": timings,
            }
            print(json.dumps(summary, indent=2))
            OUT.mkdir(exist_ok=True)
            (OUT / f"people-api-{args.people}-{front}.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _one_load(
    args: argparse.Namespace, front: str, *, env: dict[str, str], app: str, ids: list[str], password: str
) -> dict[str, Any]:
    """Start the service ``app`` with ``env``, run one load against it, stop it."""
    run_dir = Path(tempfile.mkdtemp(prefix="cg-bench-"))
    server, port, backends = serve(front, args.workers, env, run_dir, app=app)
    try:
        for backend in [*backends, port]:
            _wait_for(backend)
        return asyncio.run(
            load(
                f"http://127.0.0.1:{port}",
                password,
                ids,
                clients=args.clients,
                seconds=args.seconds,
                server_pgid=server.pid,
            )
        )
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        shutil.rmtree(run_dir, ignore_errors=True)


def compare(
    args: argparse.Namespace, *, env: dict[str, str], ids: list[str], password: str, timings: dict[str, float]
) -> None:
    """Alternate the code in ``--compare-with`` ("before") and this checkout ("after"), ``--repeat`` rounds, on
    the same preparation and database; print each run and the ratios of the medians."""
    before_src = (args.compare_with / "src").resolve()
    codes = {
        "before": ({**env, "PYTHONPATH": str(before_src)}, asgi_app(before_src)),
        "after": (
            {**env, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")},
            asgi_app(Path(__file__).resolve().parents[1] / "src"),
        ),
    }
    front = (args.front or ["nginx"])[0]
    runs: dict[str, list[dict[str, Any]]] = {"before": [], "after": []}
    for round_ in range(1, args.repeat + 1):
        for code, (code_env, app) in codes.items():
            print(f"Round {round_}, {code} ({app}): {args.clients} clients for {args.seconds:g} s, {front} ...")
            result = _one_load(args, front, env=code_env, app=app, ids=ids, password=password)
            print(json.dumps(result), flush=True)
            runs[code].append(result)

    def median(code: str, key: str) -> float:
        return statistics.median(
            r["cpu_ms_per_request"]["server"] if key == "server_cpu_ms" else r[key] for r in runs[code]
        )

    summary = {
        "people": args.people,
        "clients": args.clients,
        "front": front,
        "workers": args.workers,
        "seconds": args.seconds,
        "before": str(args.compare_with),
        "runs": runs,
        "median_p95_ms": {code: median(code, "p95_ms") for code in runs},
        "median_server_cpu_ms": {code: median(code, "server_cpu_ms") for code in runs},
        "ratio_p95_after_over_before": round(median("after", "p95_ms") / median("before", "p95_ms"), 3),
        "ratio_server_cpu_after_over_before": round(
            median("after", "server_cpu_ms") / median("before", "server_cpu_ms"), 3
        ),
        "preparation_s": timings,
    }
    print(json.dumps(summary, indent=2))
    OUT.mkdir(exist_ok=True)
    (OUT / f"people-api-{args.people}-{front}-compare.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
