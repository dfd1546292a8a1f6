"""Migrations: numbered, head pinned, and in agreement with the models on both databases."""

from __future__ import annotations

import itertools
import re
from importlib import resources

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from commonground.hub.db import all_metadata
from commonground.hub.migrate import alembic_config, current_revision, head_revision, upgrade

HEAD = "0006"  # change with each new migration, on purpose


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
        for p in (resources.files("commonground.hub") / "migrations" / "versions").iterdir()
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
