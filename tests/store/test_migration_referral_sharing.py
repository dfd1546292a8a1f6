"""Migration 0011 (#16, #17): an open referral made before it carried everything behind its flag through an "own
case" relationship with no purpose and no end; after it, that relationship has ended and the referral shares its
flag's evidence, for its purpose, until 90 days after its last step. A finished referral shares nothing."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, text

from commonground.store.db import make_engine
from commonground.store.migrate import upgrade

NOW = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A store with no tables yet, to migrate step by step."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'operational.sqlite'}"
        return
    base: str = request.getfixturevalue("postgres_url")
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


def _moment(value: object) -> dt.datetime:
    """A moment as read back by a raw statement (SQLite gives text)."""
    return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))


def _insert(connection: Connection, table: str, **values: object) -> None:
    names = ", ".join(values)
    marks = ", ".join(f":{k}" for k in values)
    connection.execute(text(f"INSERT INTO {table} ({names}) VALUES ({marks})"), values)


def _partnership_at_0010(connection: Connection) -> None:
    for oid, code, kind in ((1, "LA", "local_authority_childrens"), (2, "DAS", "drug_alcohol_service")):
        _insert(connection, "organisations", id=oid, code=code, name=code, type=kind, active=True, created_at=NOW)
    _insert(
        connection,
        "users",
        id=1,
        email="hub@la.example",
        display_name="hub",
        organisation_id=1,
        role="hub_practitioner",
        active=True,
        failed_sign_ins=0,
        created_at=NOW,
        version=1,
    )
    _insert(
        connection,
        "work_items",
        id=1,
        flag_key="k1",
        person_id="P1",
        rule_id="test.rule",
        rule_version="1",
        episode="",
        organisation_id=1,
        role="hub_practitioner",
        purpose="safeguarding_children",
        due_by=NOW,
        evidence=json.dumps(["police_incident_persons:I1", "police_incident_persons:I2"]),
        status="open",
        created_at=NOW,
        updated_at=NOW,
    )
    for rid, status in ((1, "accepted"), (2, "closed")):
        _insert(
            connection,
            "referrals",
            id=rid,
            person_id="P1",
            work_item_id=1,
            rule_id="test.rule",
            from_organisation_id=1,
            from_user_id=1,
            to_organisation_id=2,
            summary="Worried about the child.",
            consent="given",
            lawful_basis="UK GDPR 6(1)(e)",
            purpose="safeguarding_children",
            status=status,
            created_at=NOW - dt.timedelta(days=3),
            updated_at=NOW - dt.timedelta(days=1),
        )
    _insert(
        connection,
        "person_relationships",
        id=1,
        person_id="P1",
        organisation_id=2,
        kind="case",
        source="referrals",
        valid_from=NOW - dt.timedelta(days=3),
    )


def test_open_referrals_share_their_flags_evidence_and_the_old_relationship_ends(empty_store_url: str) -> None:
    assert upgrade(empty_store_url, revision="0010") == "0010"
    engine = make_engine(empty_store_url)
    try:
        with engine.begin() as connection:
            _partnership_at_0010(connection)
        assert upgrade(engine, revision="0011") == "0011"
        with engine.connect() as connection:
            shares = connection.execute(
                text(
                    "SELECT source_ref, organisation_id, purpose, feed, record_id, valid_until FROM record_shares "
                    "ORDER BY record_id"
                )
            ).all()
            assert [tuple(s[:5]) for s in shares] == [
                ("1", 2, "safeguarding_children", "police_incident_persons", "I1"),
                ("1", 2, "safeguarding_children", "police_incident_persons", "I2"),
            ]  # the closed referral shares nothing
            assert {_moment(s[5]) for s in shares} == {NOW - dt.timedelta(days=1) + dt.timedelta(days=90)}
            items: dict[int, object] = dict(connection.execute(text("SELECT id, shared_items FROM referrals")).all())
            assert {k: json.loads(v) if isinstance(v, str) else v for k, v in items.items()} == {
                1: ["police_incident_persons:I1", "police_incident_persons:I2"],
                2: ["police_incident_persons:I1", "police_incident_persons:I2"],
            }
            (ended,) = connection.execute(text("SELECT valid_until FROM person_relationships")).one()
            assert ended is not None and _moment(ended) <= dt.datetime.now(dt.UTC).replace(tzinfo=None)
    finally:
        engine.dispose()
