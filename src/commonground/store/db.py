"""The operational store: one declarative base for every table, engines for SQLite and PostgreSQL, sessions.

Every layer's models (the organisations here; accounts, agreements and the audit log in ``access``; work items,
referrals and notices in ``cases``; the practice library in ``whatworks``) are declared on :class:`Base`, so one
metadata describes the whole store. Which modules hold models is listed once, for Alembic, in
:mod:`commonground.store.migrations.metadata`: this module imports nothing above the store.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy import JSON, DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import QueuePool
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A moment in time: stored as naive UTC (the same on SQLite and PostgreSQL), read back timezone-aware UTC.
    A naive value is refused: it would be ambiguous."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("a naive datetime cannot be stored; give it a timezone")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dt.datetime: UTCDateTime(),
        list[str]: JSON(),
        dict[str, Any]: JSON(),
    }


BUSY_TIMEOUT_MS = 10_000
"""How long a SQLite statement waits for another connection's lock before "database is locked" (the web answers
503 with ``Retry-After`` then, never 500)."""
POOL_TIMEOUT_SECONDS = 10
"""How long a request waits for a connection of the pool before ``sqlalchemy.exc.TimeoutError`` (503)."""


def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")  # with WAL: atomic; a power cut may lose the last commits
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.close()


def make_engine(url: str, *, pool_size: int = 16) -> Engine:
    """An engine for ``url``; for a SQLite file, its folder is created and foreign keys are enforced. The pool
    keeps ``pool_size`` connections open (the service asks for one a request it serves at once: its gate admits
    no more requests than that, ``web/deps.py get_db``) and opens up to as many more for a burst and for work
    outside the gate, closing those when they are handed back; on SQLite too (SQLAlchemy's default of 5 and 10
    more was smaller than the gate, and the request past it waited 30 s for ``QueuePool limit ... reached``)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            engine = create_engine(parsed, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
        else:
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(
                parsed,
                connect_args={"timeout": BUSY_TIMEOUT_MS / 1000},
                pool_size=pool_size,
                max_overflow=pool_size,
                pool_timeout=POOL_TIMEOUT_SECONDS,
            )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(
        parsed, pool_pre_ping=True, pool_size=pool_size, max_overflow=pool_size, pool_timeout=POOL_TIMEOUT_SECONDS
    )


def pool_capacity(engine: Engine) -> int | None:
    """The connections an engine's pool keeps open (a queue pool's size), or None when it has no such bound."""
    return engine.pool.size() if isinstance(engine.pool, QueuePool) else None


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def refuse_nul(data: Any) -> Any:
    """For a ``model_validator(mode="before")``: PostgreSQL text cannot hold NUL, so no input may carry one."""
    if isinstance(data, str) and "\x00" in data:
        raise ValueError("text cannot contain the NUL character")
    if isinstance(data, dict):
        for value in data.values():
            refuse_nul(value)
    elif isinstance(data, list | tuple):
        for value in data:
            refuse_nul(value)
    return data
