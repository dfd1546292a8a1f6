"""Migrations: numbered, head pinned, and in agreement with the models on both databases."""

from __future__ import annotations

import datetime as dt
import itertools
import re
import secrets
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from types import SimpleNamespace

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

from commonground.access import audit
from commonground.access.audit import verify_audit
from commonground.access.models import AuditEvent
from commonground.store.db import make_engine, session_factory
from commonground.store.migrate import alembic_config, current_revision, head_revision, upgrade
from commonground.store.migrations.metadata import all_metadata

HEAD = "0015"  # change with each new migration, on purpose


def test_the_head_is_pinned() -> None:
    assert head_revision() == HEAD


def test_revisions_are_numbered_in_one_line() -> None:
    script = ScriptDirectory.from_config(alembic_config())
    revisions = list(reversed(list(script.walk_revisions())))
    assert [r.revision for r in revisions] == [f"{i:04d}" for i in range(1, len(revisions) + 1)]
    assert revisions[0].down_revision is None
    for before, after in itertools.pairwise(revisions):
        assert after.down_revision == before.revision
    files = sorted(
        p.name
        for p in (resources.files("commonground.store") / "migrations" / "versions").iterdir()
        if p.name.endswith(".py")
    )
    assert all(re.match(r"^\d{4}_[a-z0-9_]+\.py$", f) for f in files), files
    assert [f[:4] for f in files] == [r.revision for r in revisions]


def test_models_and_migrations_agree(engine: Engine) -> None:
    with engine.connect() as connection:
        assert current_revision(connection) == HEAD
        context = MigrationContext.configure(connection, opts={"compare_type": True, "compare_server_default": True})
        assert compare_metadata(context, all_metadata()) == []


def test_upgrade_is_idempotent(engine: Engine) -> None:
    assert upgrade(engine) == HEAD
    assert upgrade(engine) == HEAD


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A store with no tables yet, to migrate step by step."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'operational.sqlite'}"
        return
    base: str = request.getfixturevalue("postgres_url")  # proves PostgreSQL answers (or skips off CI)
    admin = make_engine(base)
    name = f"cg_test_{secrets.token_hex(6)}"
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_a_log_written_before_there_were_several_chains_still_verifies(empty_store_url: str) -> None:
    """Entries written by 0006's single chain (sequence numbers from the head) land in chain 1 with their hashes
    unchanged; new entries go on after them, numbered by the database."""
    assert upgrade(empty_store_url, revision="0006") == "0006"
    engine = make_engine(empty_store_url)
    try:
        prev = audit.GENESIS
        with engine.begin() as connection:
            for seq in (1, 2, 3):  # as 0006's code wrote them
                entry = SimpleNamespace(
                    seq=seq, chain=1, chain_seq=seq, occurred_at=dt.datetime(2026, 11, 1, 9, seq, tzinfo=dt.UTC),
                    actor_user_id=1, actor="someone@la.example", organisation_id=1, role="hub_practitioner",
                    purpose="safeguarding_children", action="view-person", outcome="allowed",
                    subject_type="person", subject_id=f"p{seq}", person_id=f"p{seq}", break_glass=False,
                    reason=None, detail={"agreements": ["DSA-1"]},
                )  # fmt: skip
                digest = audit.chain_hash(prev, entry)
                values = {k: v for k, v in vars(entry).items() if k not in ("chain", "chain_seq")}
                connection.execute(
                    AuditEvent.__table__.insert().values(**values, prev_hash=prev, hash=digest)  # type: ignore[attr-defined]
                )
                prev = digest
            connection.execute(text("UPDATE audit_head SET seq = 3, hash = :h WHERE id = 1"), {"h": prev})
        assert upgrade(engine) == HEAD
        sessions = session_factory(engine)
        with sessions() as db:
            assert verify_audit(db).ok
            actor = audit.Actor(label="someone@la.example", user_id=1, organisation_id=1, role="hub_practitioner")
            added = audit.record(db, audit.Event(actor=actor, action="view-person", subject_type="person"))
            db.commit()
            assert (added.seq, added.chain, added.chain_seq) == (4, 1, 4)
            result = verify_audit(db)
        assert result.ok, result.problems
        assert result.checked == 4
        assert [h.seq for h in result.heads] == [4] + [0] * (audit.CHAINS - 1)
    finally:
        engine.dispose()
