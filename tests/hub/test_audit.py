"""The audit log: appended in the caller's transaction, append-only, hash-chained; tampering is found."""

from __future__ import annotations

import threading

import pytest
from hub_support import as_superuser as _as_superuser
from sqlalchemy import Engine, text
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session, sessionmaker

from commonground.access import audit
from commonground.access.audit import Actor, Event, verify_audit

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
    assert (result.checked, result.head_seq) == (5, 5)


def test_an_edited_entry_is_found(engine: Engine, sessions: sessionmaker[Session]) -> None:
    _append(sessions, 5)
    _as_superuser(engine, "UPDATE audit_events SET purpose = 'direct_care' WHERE seq = 3")
    with sessions() as db:
        result = verify_audit(db)
    assert not result.ok
    assert "entry 3 was edited after it was written" in result.problems


def test_a_deleted_entry_is_found(engine: Engine, sessions: sessionmaker[Session]) -> None:
    _append(sessions, 5)
    _as_superuser(engine, "DELETE FROM audit_events WHERE seq = 2")
    with sessions() as db:
        problems = verify_audit(db).problems
    assert "entries 2 to 2 are missing (deleted?)" in problems
    assert "entry 3 does not follow the entry before it (deleted or reordered?)" in problems


def test_deleting_the_newest_entries_is_found(engine: Engine, sessions: sessionmaker[Session]) -> None:
    _append(sessions, 5)
    _as_superuser(engine, "DELETE FROM audit_events WHERE seq >= 4")
    with sessions() as db:
        problems = verify_audit(db).problems
    assert any("the log ends at entry 3 but its head says 5" in p for p in problems)


def test_a_rewritten_chain_is_found_against_an_anchor(engine: Engine, sessions: sessionmaker[Session]) -> None:
    _append(sessions, 3)
    with sessions() as db:
        anchor = (3, verify_audit(db).head_hash)
    _as_superuser(engine, "DELETE FROM audit_events WHERE seq = 3")
    with engine.begin() as connection:  # ... and the head put back to entry 2, so the chain itself looks whole
        last = connection.execute(text("SELECT hash FROM audit_events WHERE seq = 2")).scalar_one()
        connection.execute(text("UPDATE audit_head SET seq = 2, hash = :h"), {"h": last})
    with sessions() as db:
        assert verify_audit(db).ok
        assert verify_audit(db, expect=anchor).problems == ("anchored entry 3 is missing",)


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
    assert result.ok, result.problems
    assert result.checked == 80


def test_break_glass_is_reported_to_the_dpo(sessions: sessionmaker[Session]) -> None:
    from hub_world import build_world

    from commonground.access.models import BreakGlassReport

    world = build_world(sessions, with_agreements=False)
    with sessions() as db:
        report = db.get_one(BreakGlassReport, world.break_glass_report)
        assert report.reason.startswith("Child at immediate risk")
        assert report.reviewed_at is None
