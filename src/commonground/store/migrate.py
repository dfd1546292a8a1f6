"""Migrations of the operational store, applied from code (``commonground db upgrade`` calls :func:`upgrade`).

Revisions are numbered (``0001``, ``0002``, ...) and live in ``migrations/versions`` beside this module; a test
pins the head and checks that the models and the migrations agree.
"""

from __future__ import annotations

from importlib import resources

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

from commonground.store.db import make_engine


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(resources.files("commonground.store") / "migrations"))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError("the migrations have no head")
    return head


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine_or_url: Engine | str, *, revision: str = "head") -> str:
    """Bring the database up to ``revision`` (the head by default); returns the revision it is now at."""
    engine = make_engine(engine_or_url) if isinstance(engine_or_url, str) else engine_or_url
    try:
        with engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
            now = current_revision(connection)
    finally:
        if isinstance(engine_or_url, str):
            engine.dispose()
    return now or "base"
