"""Migration 0015: notices that named one child each become notices naming their child in ``notice_children``,
keeping their numbers (and the outbox messages that announced them); the downgrade makes one notice per child again.
On SQLite (foreign keys checked during the migration) and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, inspect, text

from commonground.store.db import make_engine
from commonground.store.migrate import upgrade

WHEN = dt.datetime(2026, 12, 6, 22, 40)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'operational.sqlite'}")
        yield engine
        engine.dispose()
        return
    base: str = request.getfixturevalue("postgres_url")
    admin = make_engine(base)
    name = f"cg_test_{secrets.token_hex(6)}"
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(base.rsplit("/", 1)[0] + f"/{name}")
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _insert(connection: Connection, table: str, **values: object) -> None:
    names = ", ".join(values)
    marks = ", ".join(f":{k}" for k in values)
    connection.execute(text(f"INSERT INTO {table} ({names}) VALUES ({marks})"), values)


def _notices_of_0014(connection: Connection) -> None:
    """A school, two notice work items and their two notices (one child each, as 0004 made them), one announced."""
    _insert(connection, "organisations", id=1, code="SCHA", name="A School", type="school", active=True,
            created_at=WHEN)  # fmt: skip
    for n, (person, present) in enumerate((("P-1", True), ("P-2", None)), start=1):
        _insert(connection, "work_items", id=n, flag_key=f"k{n}", person_id=person,
                rule_id="notice.school_domestic_abuse", rule_version="1", episode="e", organisation_id=1,
                role="school_safeguarding_lead", purpose="operation_encompass", due_by=WHEN, evidence="[]",
                status="open", created_at=WHEN, updated_at=WHEN)  # fmt: skip
        _insert(connection, "notices", id=10 + n, work_item_id=n, organisation_id=1, person_id=person,
                child_name=f"Child {n}", child_date_of_birth=dt.date(2015, 1, n), incident_reference="INC-1",
                incident_at=WHEN, child_present=present, police_contact="PC 1", due_by=WHEN,
                created_at=WHEN)  # fmt: skip
    _insert(connection, "outbox_messages", kind="notice", to_address="dsl@a.example", subject="s", body="b",
            notice_id=11, created_at=WHEN, attempts=0)  # fmt: skip


def test_each_notice_keeps_its_number_and_names_its_child(store: Engine) -> None:
    assert upgrade(store, revision="0014") == "0014"
    with store.begin() as connection:
        _notices_of_0014(connection)
    assert upgrade(store, revision="0015") == "0015"
    with store.connect() as connection:
        rows = connection.execute(
            text("SELECT notice_id, work_item_id, person_id, child_name, involvement FROM notice_children ORDER BY id")
        ).all()
        assert [tuple(r) for r in rows] == [(11, 1, "P-1", "Child 1", "named"), (12, 2, "P-2", "Child 2", "at_home")]
        columns = {c["name"] for c in inspect(connection).get_columns("notices")}
        assert not columns & {"person_id", "child_name", "child_date_of_birth", "child_present"}
        assert connection.execute(text("SELECT notice_id FROM outbox_messages")).scalar_one() == 11


def test_the_downgrade_makes_one_notice_per_child_again(store: Engine) -> None:
    assert upgrade(store, revision="0015") == "0015"
    with store.begin() as connection:
        _insert(connection, "organisations", id=1, code="SCHA", name="A School", type="school", active=True,
                created_at=WHEN)  # fmt: skip
        for n in (1, 2):
            _insert(connection, "work_items", id=n, flag_key=f"k{n}", person_id=f"P-{n}",
                    rule_id="notice.school_domestic_abuse", rule_version="2", episode="e", organisation_id=1,
                    role="school_safeguarding_lead", purpose="operation_encompass", due_by=WHEN, evidence="[]",
                    status="open", created_at=WHEN, updated_at=WHEN)  # fmt: skip
        _insert(connection, "notices", id=5, work_item_id=1, organisation_id=1, incident_reference="INC-1",
                incident_at=WHEN, police_contact="PC 1", due_by=WHEN, created_at=WHEN)  # fmt: skip
        for n, how in ((1, "named"), (2, "parent_elsewhere")):
            _insert(connection, "notice_children", notice_id=5, work_item_id=n, person_id=f"P-{n}",
                    child_name=f"Child {n}", involvement=how, added_at=WHEN)  # fmt: skip
    from alembic import command

    from commonground.store.migrate import alembic_config

    with store.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, "0014")
    with store.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT work_item_id, person_id, child_name, child_present, incident_reference FROM notices "
                "ORDER BY work_item_id"
            )
        ).all()
    assert [tuple(r) for r in rows] == [(1, "P-1", "Child 1", True, "INC-1"), (2, "P-2", "Child 2", None, "INC-1")]
