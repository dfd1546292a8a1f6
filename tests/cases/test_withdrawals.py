"""One withdrawal path (#16): a work item whose flag the current build no longer raises is withdrawn with a reason
in words, audited, once; the cause is a retracted or corrected record, a link a reviewer rejected, or the rule no
longer holding, found in that order; age alone never withdraws a time-limited flag, and a closed item is withdrawn
only for a change to its records."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from notice_support import write_school_view
from service_support import SETUP, login_as
from service_world import ITEMS, ORGANISATIONS, World, build_world
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from commonground.access.models import AuditEvent
from commonground.access.purposes import Purpose
from commonground.cases.link_reviews import LinkReview, LinkReviewSource, LinkReviewStatus
from commonground.cases.withdrawals import (
    WithdrawalCause,
    WithdrawalRun,
    WorkItemWithdrawal,
    withdraw_unheld,
    withdrawal_words,
)
from commonground.cases.work_items import (
    FlagRecord,
    Outcome,
    RouteTo,
    WorkItem,
    WorkItemStatus,
    update_work_item,
)
from commonground.store.db import utcnow

DEC_7 = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)


def test_the_reason_is_said_in_words() -> None:
    def say(cause: WithdrawalCause, feed: str | None = None, records: int = 1) -> str:
        return withdrawal_words(cause, feed=feed, records=records, at=DEC_7)

    assert say(WithdrawalCause.RETRACTED, "police_incident_persons") == (
        "Withdrawn on 7 Dec: the police record it rested on was retracted by the partner"
    )
    assert say(WithdrawalCause.RETRACTED, "ed_attendances", 2) == (
        "Withdrawn on 7 Dec: 2 emergency department records it rested on were retracted by the partner"
    )
    assert say(WithdrawalCause.CORRECTED, "custody_records") == (
        "Withdrawn on 7 Dec: the police custody record it rested on was corrected by the partner, and the rule no "
        "longer holds on it"
    )
    assert say(WithdrawalCause.LINK_REJECTED) == (
        "Withdrawn on 7 Dec: a reviewer decided that records it rested on are not the same person"
    )
    assert say(WithdrawalCause.LINK_IN_REVIEW) == (
        "Withdrawn on 7 Dec: records it rested on are held apart while a reviewer checks whether they are the same "
        "person"
    )
    assert say(WithdrawalCause.RULE_NO_LONGER_HOLDS) == (
        "Withdrawn on 7 Dec: its rule no longer holds on the records as they are now"
    )
    late = dt.datetime(2026, 12, 7, 23, 30, tzinfo=dt.UTC)  # UK winter time is UTC
    assert withdrawal_words(WithdrawalCause.RULE_NO_LONGER_HOLDS, feed=None, records=0, at=late).startswith(
        "Withdrawn on 7 Dec:"
    )


def _flag(person: str) -> FlagRecord:
    _, code, role, evidence, purpose = next(i for i in ITEMS if i[0] == person)
    kind = next(k for c, _, k, _ in ORGANISATIONS if c == code)
    return FlagRecord(
        person_id=person,
        rule_id="test.rule",
        rule_version="1",
        route_to=RouteTo(organisation_type=kind, role=role, organisation=code),
        due_by=utcnow() + dt.timedelta(days=1),
        evidence_ids=(evidence,),
        purpose=purpose,
    )


def _withdraw(
    sessions: sessionmaker[Session], tmp_path: Path, *, flags: list[FlagRecord], time_limited: tuple[str, ...] = ()
) -> WithdrawalRun:
    with sessions() as db:
        run = withdraw_unheld(
            db, flags=flags, build_id="B2", data_dir=tmp_path / "no-ingest-yet", time_limited=time_limited, now=DEC_7
        )
        db.commit()
    return run


def test_items_whose_rule_no_longer_holds_are_withdrawn_once_and_audited(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    world = build_world(sessions, with_agreements=False)
    still = _flag("P-POL-2")
    run = _withdraw(sessions, tmp_path, flags=[still])
    assert run.count(WithdrawalCause.RULE_NO_LONGER_HOLDS) == len(ITEMS) - 1
    with sessions() as db:
        kept = db.get_one(WorkItem, world.items["P-POL-2"])
        assert kept.status is WorkItemStatus.OPEN  # its flag is still raised
        item = db.get_one(WorkItem, world.items["P-LA-1"])
        assert item.status is WorkItemStatus.CLOSED and item.outcome_code is None
        assert item.outcome == "Withdrawn on 7 Dec: its rule no longer holds on the records as they are now"
        events = db.scalars(select(AuditEvent).where(AuditEvent.action == "withdraw-work-item")).all()
        assert len(events) == len(ITEMS) - 1
        assert {e.detail["cause"] for e in events} == {"rule_no_longer_holds"}
        assert all(e.person_id and e.purpose for e in events)
    again = _withdraw(sessions, tmp_path, flags=[])
    assert again.count(WithdrawalCause.RULE_NO_LONGER_HOLDS) == 1  # only the one whose flag was raised before


def test_age_alone_never_withdraws_a_time_limited_flag(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    build_world(sessions, with_agreements=False)
    run = _withdraw(sessions, tmp_path, flags=[], time_limited=("test.rule",))
    assert run.withdrawn == ()


def _review(sessions: sessionmaker[Session], world: World, person: str, status: LinkReviewStatus) -> None:
    evidence = next(i[3] for i in ITEMS if i[0] == person)
    with sessions() as db:
        db.add(
            LinkReview(
                person_id=person,
                records=[evidence, "custody_records:OTHER"],
                reason="Not the same child: different school",
                purpose=Purpose.SAFEGUARDING_CHILDREN,
                source=LinkReviewSource.PERSON_PAGE,
                raised_by_user_id=world.users["hub@la.example"],
                organisation_id=world.organisations["LA"],
                status=status,
            )
        )
        db.commit()


def test_a_link_a_reviewer_rejected_withdraws_even_a_time_limited_flag(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    world = build_world(sessions, with_agreements=False)
    _review(sessions, world, "P-LA-1", LinkReviewStatus.NOT_SAME_PERSON)
    _review(sessions, world, "P-DAS-6", LinkReviewStatus.OPEN)
    _review(sessions, world, "P-NHS-3", LinkReviewStatus.SAME_PERSON)  # decided the same person: no cause
    run = _withdraw(sessions, tmp_path, flags=[], time_limited=("test.rule",))
    by_item = {w.work_item_id: w for w in run.withdrawn}
    assert set(by_item) == {world.items["P-LA-1"], world.items["P-DAS-6"]}
    assert by_item[world.items["P-LA-1"]].cause is WithdrawalCause.LINK_REJECTED
    assert by_item[world.items["P-DAS-6"]].cause is WithdrawalCause.LINK_IN_REVIEW


def test_a_closed_item_is_withdrawn_only_for_a_change_to_its_records(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    world = build_world(sessions, with_agreements=False)
    with sessions() as db:
        for person in ("P-LA-1", "P-POL-2"):
            item = db.get_one(WorkItem, world.items[person])
            update_work_item(
                db,
                item=item,
                by=SETUP,
                status=WorkItemStatus.CLOSED,
                outcome="Visited; support in place",
                outcome_code=Outcome.ACTION_TAKEN,
                purpose=item.purpose,
            )
        db.commit()
    _review(sessions, world, "P-POL-2", LinkReviewStatus.NOT_SAME_PERSON)
    run = _withdraw(sessions, tmp_path, flags=[])
    withdrawn = {w.work_item_id for w in run.withdrawn}
    assert world.items["P-LA-1"] not in withdrawn  # closed, its records unchanged: its outcome stands
    assert world.items["P-POL-2"] in withdrawn
    with sessions() as db:
        item = db.get_one(WorkItem, world.items["P-POL-2"])
        assert item.outcome == "Visited; support in place" and item.outcome_code is Outcome.ACTION_TAKEN


def test_the_worker_reads_the_reason_on_the_work_item_page(
    app: FastAPI, client: TestClient, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    world = build_world(sessions, with_agreements=True)
    write_school_view(app.state.settings.data_dir)  # the current build raises no flag for P-LA-1
    login_as(client, sessions, world.users["hub@la.example"])
    before = client.get(f"/queue/{world.items['P-LA-1']}").text
    assert 'id="rule-no-longer-holds"' in before and 'id="withdrawn"' not in before
    _review(sessions, world, "P-LA-1", LinkReviewStatus.NOT_SAME_PERSON)
    _withdraw(sessions, tmp_path, flags=[])
    page = client.get(f"/queue/{world.items['P-LA-1']}").text
    assert 'id="withdrawn"' in page
    assert "Withdrawn on 7 Dec: a reviewer decided that records it rested on are not the same person." in page
    assert "Withdrawn</strong>" in page and 'id="rule-no-longer-holds"' not in page
    assert "<code>I1</code>" in page  # the records it rested on are still listed
    with sessions() as db:
        assert db.scalars(select(WorkItemWithdrawal)).all()


def test_a_build_whose_rules_have_not_run_withdraws_nothing(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    build_world(sessions, with_agreements=False)
    with sessions() as db:
        run = withdraw_unheld(db, flags=[], build_id="B2", data_dir=tmp_path, rules_ran=False)
        assert run.withdrawn == () and db.scalars(select(WorkItemWithdrawal)).all() == []


def _ingest_person_record(data_dir: Path, source: Path, record_id: str, *, incident: str | None = None) -> None:
    """Load one police_incident_persons record (through real ingest) with ``record_id``; an ``incident`` changes it."""
    import sys

    sys.path.insert(0, str(Path(__file__).parents[1] / "ingest"))
    from ingest_helpers import csv_text, good_row

    from commonground.contracts import FEEDS
    from commonground.ingest import ingest_directory

    feed = FEEDS["police_incident_persons"]
    cols = list(feed.column_names)
    row = good_row(feed, 1)
    row[cols.index("record_id")] = record_id
    if incident is not None:
        row[cols.index("incident_id")] = incident
    source.mkdir(parents=True, exist_ok=True)
    for old in source.iterdir():
        old.unlink()
    (source / "police_incident_persons.csv").write_text(csv_text(cols, [row]), encoding="utf-8")
    assert ingest_directory(source=source, data_dir=data_dir).ok


def test_a_record_corrected_or_retracted_by_its_partner_is_named_as_the_cause(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    world = build_world(sessions, with_agreements=False)
    data_dir, source = tmp_path / "data", tmp_path / "extracts"
    _ingest_person_record(data_dir, source, "I1")
    _ingest_person_record(data_dir, source, "I1", incident="INC-CORRECTED")  # a new version of I1
    _ingest_person_record(data_dir, source, "I4")
    for old in source.iterdir():
        old.unlink()
    (source / "police_incident_persons.retractions.csv").write_text(
        "record_id,retracted_on,reason\nI4,2026-12-07,wrong_person\n", encoding="utf-8"
    )
    from commonground.ingest import ingest_directory

    assert ingest_directory(source=source, data_dir=data_dir).totals()["rows_retracted"] == 1
    with sessions() as db:
        run = withdraw_unheld(db, flags=[], build_id="B3", data_dir=data_dir, time_limited=("test.rule",), now=DEC_7)
        db.commit()
    by_item = {w.work_item_id: w for w in run.withdrawn}
    assert set(by_item) == {world.items["P-LA-1"], world.items["P-SCHA-4"]}  # time-limited: only the records' causes
    assert by_item[world.items["P-LA-1"]].words == (
        "Withdrawn on 7 Dec: the police record it rested on was corrected by the partner, and the rule no longer "
        "holds on it"
    )
    assert by_item[world.items["P-SCHA-4"]].words == (
        "Withdrawn on 7 Dec: the police record it rested on was retracted by the partner"
    )


def test_an_item_whose_records_grew_old_is_not_said_to_be_wrong() -> None:
    """A rule raised only while its evidence is recent stops raising the flag as days pass: the work item page says
    that, not that a record was corrected or the rule changed (seen on the demo after `demo --advance`)."""
    from commonground.cases.withdrawals import NOT_RAISED_NOW, not_raised_words

    assert not_raised_words(None) == NOT_RAISED_NOW
    words = not_raised_words(28)
    assert "within the last 28 days" in words and "stays in the queue until it is closed" in words
    assert "corrected or withdrawn" not in words
