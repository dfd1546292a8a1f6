"""The fault suite's area (#18): a 2,000-person synthetic area, the data directory each stage starts from, and the
operational stores on PostgreSQL of the ``hub sync`` trials there."""

from __future__ import annotations

import os
import random
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.pool import NullPool

from faults_common import PG_ADMIN, builds_root, cli_env, current_build, run_cli

if TYPE_CHECKING:
    from faults_kill import Reference, Stage


@dataclass
class Area:
    """A synthetic area and one data directory per stage, as the stage finds it before it runs."""

    root: Path
    feeds: Path
    states: dict[str, Path] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    clean: dict[tuple[str, ...], Reference] = field(default_factory=dict)
    """Clean runs, by state and command (the link and publish trials share one)."""
    postgres: PostgresStores | None = None
    """The operational stores of the trials on PostgreSQL, made when the first is needed."""

    def store_for(self, stage: Stage) -> str | None:
        """A fresh operational store for a run of ``stage`` from its state: None for the data directory's SQLite
        file (copied with the state), or the address of a new PostgreSQL database as the state's would be."""
        if not stage.postgres:
            return None
        if self.postgres is None:
            self.postgres = PostgresStores(self.states[stage.state])
        return self.postgres.fresh()

    def close(self) -> None:
        if self.postgres is not None:
            self.postgres.close()
            self.postgres = None


class PostgresStores:
    """Operational stores on PostgreSQL for the ``hub sync`` trials: a template database on :data:`PG_ADMIN`'s
    server, upgraded and with the demonstration partnership in it (as the ``sync`` state's SQLite file), and a
    copy of it (``CREATE DATABASE ... TEMPLATE``) for each run; every one is dropped at the end."""

    def __init__(self, state: Path, admin_url: str = PG_ADMIN) -> None:
        from sqlalchemy import create_engine

        self.admin = create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        self.base = admin_url.rsplit("/", 1)[0]
        self.prefix = f"cg_faults_{os.getpid()}_{random.randrange(16**6):06x}"
        self.made: list[str] = []
        template = self._create(f"{self.prefix}_template")
        run_cli(state, "db", "upgrade", env=cli_env(COMMONGROUND_DATABASE_URL=template))
        seed_partnership_into(state, template)
        self.template = template.rsplit("/", 1)[1]

    def _sql(self, statement: str) -> None:
        from sqlalchemy import text

        with self.admin.connect() as connection:
            connection.execute(text(statement))

    def _create(self, name: str, template: str | None = None) -> str:
        self._sql(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        self.made.append(name)
        return f"{self.base}/{name}"

    def fresh(self) -> str:
        """A new copy of the template, the previous copies dropped (a killed run's connections ended)."""
        for name in [n for n in self.made if n != self.template]:
            self._sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            self.made.remove(name)
        return self._create(f"{self.prefix}_{len(self.made)}_{random.randrange(16**4):04x}", self.template)

    def close(self) -> None:
        for name in self.made:
            self._sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.made.clear()
        self.admin.dispose()


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
    from commonground.cli.demo_cmd import area_last_day, demo_clock
    from commonground.rules import run_rules

    build = current_build(data_dir)
    assert build is not None
    run_rules(build_dir=build, as_of=demo_clock(area_last_day(feeds)))


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
