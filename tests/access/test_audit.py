"""The audit log: appended in the caller's transaction, append-only, hash-chained; tampering is found."""

from __future__ import annotations

import threading

import pytest
from service_support import as_superuser as _as_superuser
from service_support import empty_postgres
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session, sessionmaker

from commonground.access import audit
from commonground.access.audit import Actor, Anchor, Event, verify_audit
from commonground.access.models import AuditEvent
from commonground.store.db import make_engine, session_factory

ACTOR = Actor(label="someone@la.example", user_id=1, organisation_id=1, role="hub_practitioner")


def _append(sessions: sessionmaker[Session], n: int) -> None:
    with sessions() as db:
        for i in range(n):
            audit.record(db, Event(actor=ACTOR, action="view-work-items", subject_type="work_item", subject_id=str(i)))
        db.commit()


def test_a_whole_chain_verifies(sessions: sessionmaker[Session]) -> None:
    _append(sessions, 5)
    with sessions() as db:
        result = verify_audit(db)
    assert result.ok, result.problems
    assert result.checked == 5
    assert len(result.heads) == audit.CHAINS
    assert sum(h.seq for h in result.heads) == 5


def test_an_edited_entry_is_found(engine: Engine, sessions: sessionmaker[Session]) -> None:
    _append(sessions, 5)
    _as_superuser(engine, "UPDATE audit_events SET purpose = 'direct_care' WHERE seq = 3")
    with sessions() as db:
        result = verify_audit(db)
    assert not result.ok
    assert "entry 3 was edited after it was written" in result.problems


def test_a_deleted_entry_is_found(engine: Engine, sessions: sessionmaker[Session]) -> None:
    _append(sessions, 5)
    with engine.connect() as connection:
        chain, place = connection.execute(text("SELECT chain, chain_seq FROM audit_events WHERE seq = 2")).one()
        assert place == 2  # one writer at a time fills one chain
    _as_superuser(engine, "DELETE FROM audit_events WHERE seq = 2")
    with sessions() as db:
        problems = verify_audit(db).problems
    assert f"chain {chain}: places 2 to 2 are missing (deleted?)" in problems
    assert "entry 3 does not follow the entry before it in its chain (deleted or reordered?)" in problems


def test_deleting_the_newest_entries_is_found(engine: Engine, sessions: sessionmaker[Session]) -> None:
    _append(sessions, 5)
    _as_superuser(engine, "DELETE FROM audit_events WHERE seq >= 4")
    with sessions() as db:
        problems = verify_audit(db).problems
    assert any("ends at place 3 but its head says 5" in p for p in problems)


def test_moving_an_entry_to_another_chain_is_found(engine: Engine, sessions: sessionmaker[Session]) -> None:
    _append(sessions, 3)
    _as_superuser(
        engine, f"UPDATE audit_events SET chain = 2, chain_seq = 1, prev_hash = '{audit.GENESIS}' WHERE seq = 3"
    )
    with sessions() as db:
        problems = verify_audit(db).problems
    assert "entry 3 was edited after it was written" in problems
    assert any("ends at place 2 but its head says 3" in p for p in problems)


def test_a_rewritten_chain_is_found_against_an_anchor(engine: Engine, sessions: sessionmaker[Session]) -> None:
    _append(sessions, 3)
    with sessions() as db:
        anchor = verify_audit(db).anchor
    assert anchor.places[0] == 3
    assert Anchor.parse(str(anchor)) == anchor
    _as_superuser(engine, "DELETE FROM audit_events WHERE seq = 3")
    with engine.begin() as connection:  # ... and the head put back to entry 2, so the chain itself looks whole
        last = connection.execute(text("SELECT hash FROM audit_events WHERE seq = 2")).scalar_one()
        connection.execute(text("UPDATE audit_head SET seq = 2, hash = :h WHERE id = 1"), {"h": last})
    with sessions() as db:
        assert verify_audit(db).ok
        assert verify_audit(db, expect=anchor).problems == ("the anchored entries of chain 1 are missing",)


def test_an_anchor_catches_an_entry_rewritten_with_its_hash(engine: Engine, sessions: sessionmaker[Session]) -> None:
    _append(sessions, 1)
    with sessions() as db:
        anchor = verify_audit(db).anchor
        entry = db.scalars(select(AuditEvent)).one()
        db.expunge(entry)
    entry.purpose = "direct_care"  # the entry rewritten, its hash and the head made to match
    entry.hash = audit.chain_hash(entry.prev_hash, entry)
    _as_superuser(engine, f"UPDATE audit_events SET purpose = 'direct_care', hash = '{entry.hash}' WHERE seq = 1")
    with engine.begin() as connection:
        connection.execute(text("UPDATE audit_head SET hash = :h WHERE id = 1"), {"h": entry.hash})
    with sessions() as db:
        assert verify_audit(db).ok
        problems = verify_audit(db, expect=anchor).problems
    assert problems == ("the entries anchored earlier are not there as they were (a chain was rewritten)",)


def test_a_malformed_anchor_is_refused() -> None:
    for text_ in ("", "3", "a:" + "0" * 64, "3:" + "0" * 63, "3.x:" + "0" * 64):
        with pytest.raises(ValueError, match="PLACES:HASH"):
            Anchor.parse(text_)


@pytest.mark.parametrize("statement", ["UPDATE audit_events SET actor = 'x'", "DELETE FROM audit_events"])
def test_the_database_refuses_to_change_the_log(
    engine: Engine, sessions: sessionmaker[Session], statement: str
) -> None:
    _append(sessions, 2)
    with pytest.raises(DatabaseError, match="append-only"), engine.begin() as connection:
        connection.execute(text(statement))
    with sessions() as db:
        assert verify_audit(db).checked == 2


def test_a_rolled_back_action_leaves_no_entry(sessions: sessionmaker[Session]) -> None:
    _append(sessions, 1)
    with sessions() as db:
        audit.record(db, Event(actor=ACTOR, action="manage-users", subject_type="user"))
        db.rollback()
    _append(sessions, 1)
    with sessions() as db:
        result = verify_audit(db)
    assert result.ok and result.checked == 2


def test_concurrent_writers_never_fork_the_chain(sessions: sessionmaker[Session]) -> None:
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            for _ in range(10):
                _append(sessions, 2)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    with sessions() as db:
        result = verify_audit(db)
        numbers = db.scalars(select(AuditEvent.seq)).all()
    assert result.ok, result.problems
    assert result.checked == 80 == len(set(numbers))


def test_break_glass_is_reported_to_the_dpo(sessions: sessionmaker[Session]) -> None:
    from service_world import build_world

    from commonground.access.models import BreakGlassReport

    world = build_world(sessions, with_agreements=False)
    with sessions() as db:
        report = db.get_one(BreakGlassReport, world.break_glass_report)
        assert report.reason.startswith("Child at immediate risk")
        assert report.reviewed_at is None


@pytest.mark.postgres
def test_a_second_writer_takes_another_chain_instead_of_waiting(postgres_url: str) -> None:
    """On PostgreSQL an append locks one chain's head until its transaction ends; a second transaction appending
    meanwhile takes another chain at once, and both chains verify."""
    engine = make_engine(postgres_url)
    try:
        empty_postgres(engine)
        sessions = session_factory(engine)
        with sessions() as first, sessions() as second:
            a = audit.record(first, Event(actor=ACTOR, action="view-person", subject_type="person", subject_id="p1"))
            second.execute(text("SET LOCAL lock_timeout = '2s'"))  # waiting for the first would fail the test
            b = audit.record(second, Event(actor=ACTOR, action="view-person", subject_type="person", subject_id="p2"))
            assert (a.chain, a.chain_seq) != (b.chain, b.chain_seq)
            assert a.chain != b.chain
            second.commit()
            first.commit()
        with sessions() as db:
            result = verify_audit(db)
        assert result.ok, result.problems
        assert sorted(h.seq for h in result.heads if h.seq) == [1, 1]
    finally:
        engine.dispose()
