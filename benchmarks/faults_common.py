"""The fault suite's common ground (#18): running ``commonground`` as a subprocess, and fingerprints of what a
data directory holds (counts and hashes of rows) to tell "as before" from "as a clean run" from anything between;
what killed runs leave behind."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import duckdb
from sqlalchemy.pool import NullPool

BIN = Path(sys.executable).parent
CLI = str(BIN / "commonground")
SECRET = "f" * 40
PG_ADMIN = os.environ.get("COMMONGROUND_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
"""The PostgreSQL server on which the ``hub sync`` trials on PostgreSQL make databases of their own (and drop them)."""
ENV_DROP = ("COMMONGROUND_DATABASE_URL", "COMMONGROUND_DATA_DIR")
DUE_COLUMNS = {"due_by", "rag", "raised_at"}
"""Columns of the rules output that follow the moment the rules ran (``flag`` runs as of now): left out of the
comparison of two runs."""


def wait_until_serving(base: str, server: subprocess.Popen[bytes], log: Path, *, seconds: float) -> None:
    """Wait until ``commonground serve`` at ``base`` answers ``/health``; raise with the end of its log if it exits
    or does not answer within ``seconds``."""
    import httpx

    deadline = time.monotonic() + seconds
    while True:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                return
        if time.monotonic() > deadline or server.poll() is not None:
            raise RuntimeError(f"the service did not start: {log.read_text()[-2000:]}")
        time.sleep(0.2)


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


WORK_ITEMS = (
    "SELECT flag_key, person_id, rule_id, rule_version, episode, organisation_id, role, purpose, due_by, evidence, "
    "status FROM work_items ORDER BY flag_key"
)


def hub_fingerprint(data_dir: Path, url: str | None = None) -> dict[str, Any]:
    """The operational store (the data directory's SQLite file, or the PostgreSQL database at ``url``): rows of
    the tables ``hub sync`` writes, and the work items themselves."""
    if url is not None:
        return _hub_fingerprint_postgres(url)
    path = data_dir / "operational.sqlite"
    if not path.exists():
        return {}
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        counts = {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in HUB_TABLES}
        items = db.execute(WORK_ITEMS).fetchall()
    counts["work_items_hash"] = hashlib.sha256(repr(items).encode()).hexdigest()[:16]
    return counts


def _hub_fingerprint_postgres(url: str) -> dict[str, Any]:
    from sqlalchemy import create_engine, text

    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as db:
            counts: dict[str, Any] = {t: db.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in HUB_TABLES}
            items = [tuple(row) for row in db.execute(text(WORK_ITEMS)).all()]
    finally:
        engine.dispose()
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


def fingerprint(data_dir: Path, url: str | None = None) -> dict[str, Any]:
    """Everything a stage may change, without the current build's id (a new build of the same input is equal); the
    operational store is the data directory's SQLite file, or the PostgreSQL database at ``url``."""
    return {
        "ingest": ingest_fingerprint(data_dir),
        "build": build_fingerprint(current_build(data_dir)),
        "hub": hub_fingerprint(data_dir, url),
    }


def leftovers(data_dir: Path) -> list[str]:
    """What killed runs left, never read: a build folder still named ``.tmp-``, a ``CURRENT.tmp``, a complete
    build never named by ``CURRENT`` (killed between its rename and ``CURRENT``), a rules output's temporary file
    (``.rules.duckdb.<pid>-<hex>.tmp``, its ``.wal``). The next run of the same stage removes them."""
    from commonground.linkage.builds import unpublished

    root = builds_root(data_dir)
    if not root.exists():
        return []
    found = [p.name for p in root.glob(".tmp-*")] + [p.name for p in root.glob("CURRENT.tmp")]
    found += [f"{p.name} (complete, never published)" for p in unpublished(data_dir)]
    for build in root.iterdir():
        if build.is_dir() and not build.name.startswith("."):
            found += [f"{build.name}/{p.name}" for p in build.glob(".rules.duckdb.*.tmp*")]
    return found
