"""The person endpoint under concurrent clients: p50/p95/p99 latency, throughput and errors.

    .venv/bin/python benchmarks/bench_people_api.py --people 100000 --work /tmp/bench-people
    .venv/bin/python benchmarks/bench_people_api.py --people 1000000 --work /tmp/bench-people-1m

It builds (or reuses, in ``--work``) a synthetic area of ``--people``: synth, ingest, link, the rules as of the
morning after the area's last day, the demonstration partnership and ``hub sync`` (the person view), each timed.
The operational store is a fresh PostgreSQL database (dropped at the end), as in production. The service runs
under uvicorn with ``--workers`` processes; ``--clients`` concurrent clients (asyncio, one sign-in each, as the
MASH practitioner whose agreement covers everyone) request ``GET /api/people/{id}?purpose=safeguarding_children``
for random linked people for ``--seconds``. Every request is a real identifiable read: resolved, and audited in the
same transaction. Client and server share this 2-core machine, so the figures are an upper bound on latency.
Figures go to stdout and to ``benchmarks/out/people-api-<people>.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
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
    from commonground.cli.demo_cmd import rules_moments
    from commonground.hub.db import make_engine, session_factory
    from commonground.hub.demo import demo_password, seed_partnership
    from commonground.hub.migrate import upgrade
    from commonground.hub.sync import sync_current_build
    from commonground.ingest import ingest_directory
    from commonground.linkage.builds import current_build_id, require_current_build
    from commonground.linkage.pipeline import build_from_store
    from commonground.rules import run_rules
    from commonground.synth import generate

    timings: dict[str, float] = {}
    area, data_dir = work / "area", work / "data"
    if not (area / "truth" / "manifest.json").exists():
        _timed("synth", timings, generate, people=people, seed=1, out=area)
    if current_build_id(data_dir) is None:
        _timed("ingest", timings, ingest_directory, source=area, data_dir=data_dir)
        _timed("link", timings, build_from_store, data_dir=data_dir)
    build = require_current_build(data_dir)
    _timed("rules", timings, run_rules, build_dir=build.path, as_of=rules_moments(area)[-1])
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


async def _signed_in_client(base: str, password: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=base, timeout=60)
    form = await client.get("/sign-in")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None
    signed = await client.post("/sign-in", data={"email": USER, "password": password, "csrf_token": token.group(1)})
    if signed.status_code != 303:
        raise RuntimeError(f"sign-in refused: {signed.status_code}")
    return client


async def _requests(
    client: httpx.AsyncClient, ids: list[str], until: float, latencies: list[float], errors: list[str]
) -> None:
    while time.perf_counter() < until:
        person = random.choice(ids)
        started = time.perf_counter()
        try:
            response = await client.get(f"/api/people/{person}", params={"purpose": "safeguarding_children"})
        except httpx.HTTPError as error:
            errors.append(type(error).__name__)
            continue
        latencies.append(time.perf_counter() - started)
        if response.status_code != 200:
            errors.append(str(response.status_code))


async def load(base: str, password: str, ids: list[str], *, clients: int, seconds: float) -> dict[str, Any]:
    """Sign every client in first (not timed), warm up for 5 s, then measure for ``seconds``."""
    signed = [await _signed_in_client(base, password) for _ in range(clients)]
    try:
        await asyncio.gather(*(_requests(c, ids, time.perf_counter() + 5, [], []) for c in signed))
        latencies: list[float] = []
        errors: list[str] = []
        started = time.perf_counter()
        until = started + seconds
        await asyncio.gather(*(_requests(c, ids, until, latencies, errors) for c in signed))
        elapsed = time.perf_counter() - started
    finally:
        for c in signed:
            await c.aclose()
    q = statistics.quantiles(latencies, n=100) if len(latencies) >= 100 else [float("nan")] * 99
    return {
        "requests": len(latencies),
        "errors": len(errors),
        "error_kinds": sorted(set(errors)),
        "throughput_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(q[49] * 1000, 1),
        "p95_ms": round(q[94] * 1000, 1),
        "p99_ms": round(q[98] * 1000, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=2)
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
        port = _free_port()
        env = {
            **os.environ,
            "COMMONGROUND_DATA_DIR": str(data_dir),
            "COMMONGROUND_DATABASE_URL": database_url,
            "COMMONGROUND_COOKIE_SECURE": "false",
            "COMMONGROUND_LOGIN_RATE_PER_MINUTE": "1000",
        }
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "commonground.api.asgi:app",
                "--port",
                str(port),
                "--workers",
                str(args.workers),
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            env=env,
            start_new_session=True,
        )
        base = f"http://127.0.0.1:{port}"
        for _ in range(120):
            try:
                if httpx.get(base + "/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(1)
        ids = _person_ids(data_dir, 20_000)
        password = (data_dir / "demo-password").read_text(encoding="ascii").strip()
        print(f"Load: {args.clients} clients for {args.seconds:g} s against {args.workers} workers ...", flush=True)
        result = asyncio.run(load(base, password, ids, clients=args.clients, seconds=args.seconds))
        result |= {
            "people": args.people,
            "clients": args.clients,
            "workers": args.workers,
            "seconds": args.seconds,
            "preparation_s": timings,
            "load_average": os.getloadavg(),
        }
        print(json.dumps(result, indent=2))
        OUT.mkdir(exist_ok=True)
        (OUT / f"people-api-{args.people}.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
