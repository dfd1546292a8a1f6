"""A record's life, end to end (#16): a police record raises a flag, the flag a work item, the item a notice to the
child's school; the police retract the record; the next build and sync withdraw the item with the reason the worker
reads, tell the school the notice is withdrawn (a correction on the notice page, an email with a link only), audit
both, and do it once."""

from __future__ import annotations

import datetime as dt
import shutil
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from service_support import login_as
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from commonground.access.models import AuditEvent, User
from commonground.access.roles import Role
from commonground.cases.demo import seed_partnership
from commonground.cases.notice_corrections import CORRECTION_KIND, NoticeCorrection
from commonground.cases.notices import NOTICE_RULE, Notice, NoticeChild
from commonground.cases.outbox import OutboxMessage
from commonground.cases.sync import SyncResult, sync_current_build
from commonground.cases.withdrawals import WithdrawalCause, WorkItemWithdrawal
from commonground.cases.work_items import WorkItem, WorkItemStatus
from commonground.ingest import ingest_directory
from commonground.linkage.builds import require_current_build
from commonground.linkage.pipeline import build_from_store
from commonground.rules import run_rules
from commonground.store.settings import HubSettings
from commonground.web.app import create_app

MORNING = dt.datetime(2026, 9, 12, 7, 0)
"""The morning after the last domestic-abuse incident of the synthetic area that names a child of school age."""


@dataclass(frozen=True)
class Area:
    data_dir: Path


@pytest.fixture(scope="module")
def linked_area(tmp_path_factory: pytest.TempPathFactory) -> Area:
    from commonground.synth import generate

    root = tmp_path_factory.mktemp("record-life")
    generate(people=3000, seed=11, out=root / "area")
    data_dir = root / "data"
    ingest_directory(source=root / "area", data_dir=data_dir)
    build = build_from_store(data_dir=data_dir)
    run_rules(build_dir=build.path, as_of=MORNING)
    return Area(data_dir)


@pytest.fixture
def area(linked_area: Area, tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(linked_area.data_dir, target)
    return target


def _sync(sessions: sessionmaker[Session], data_dir: Path, *, seed: bool = False) -> SyncResult:
    with sessions() as db:
        if seed:
            seed_partnership(db, build_path=require_current_build(data_dir).path, password="correct horse battery")
        result = sync_current_build(db, data_dir=data_dir, base_url="https://hub.example")
        db.commit()
    return result


def _retract(data_dir: Path, folder: Path, evidence: list[str]) -> None:
    """The police send retraction lists for the records, then the area is built and its rules run again."""
    folder.mkdir()
    by_feed: dict[str, list[str]] = defaultdict(list)
    for e in evidence:
        feed, _, record = e.partition(":")
        by_feed[feed].append(record)
    for feed, records in by_feed.items():
        lines = "".join(f"{r},2026-11-01,recorded_in_error\n" for r in records)
        (folder / f"{feed}.retractions.csv").write_text("record_id,retracted_on,reason\n" + lines, encoding="utf-8")
    result = ingest_directory(source=folder, data_dir=data_dir)
    assert result.ok and result.totals()["rows_retracted"] == len(evidence)
    build = build_from_store(data_dir=data_dir)
    run_rules(build_dir=build.path, as_of=MORNING)


def test_a_retracted_police_record_withdraws_the_work_and_corrects_the_notice(
    area: Path, engine: Engine, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    first = _sync(sessions, area, seed=True)
    assert first.notices > 0 and first.withdrawn == 0
    with sessions() as db:
        child = db.scalars(
            select(NoticeChild)
            .join(WorkItem, WorkItem.id == NoticeChild.work_item_id)
            .where(WorkItem.rule_id == NOTICE_RULE)
        ).first()
        assert child is not None
        notice = db.get_one(Notice, child.notice_id)
        item_id, notice_id, evidence = child.work_item_id, notice.id, list(child.work_item.evidence)
        child_name, reference = child.child_name, notice.incident_reference
        leads = {
            u.email
            for u in db.scalars(
                select(User).where(
                    User.organisation_id == notice.organisation_id, User.role == Role.SCHOOL_SAFEGUARDING_LEAD
                )
            )
        }
    assert {e.partition(":")[0] for e in evidence} <= {"police_incidents", "police_incident_persons"}

    _retract(area, tmp_path / "retractions", evidence)
    second = _sync(sessions, area)
    assert second.withdrawn >= 1 and second.notice_corrections >= 1

    many = len(evidence) > 1
    words = (
        f"{len(evidence)} police records it rested on were retracted by the partner"
        if many
        else "the police record it rested on was retracted by the partner"
    )
    with sessions() as db:
        item = db.get_one(WorkItem, item_id)
        withdrawal = db.scalars(select(WorkItemWithdrawal).where(WorkItemWithdrawal.work_item_id == item_id)).one()
        assert withdrawal.cause is WithdrawalCause.RETRACTED and withdrawal.records == len(evidence)
        assert withdrawal.words.startswith("Withdrawn on ") and withdrawal.words.endswith(": " + words)
        assert item.status is WorkItemStatus.CLOSED and item.outcome == withdrawal.words and item.outcome_code is None
        correction = db.scalars(select(NoticeCorrection).where(NoticeCorrection.work_item_id == item_id)).one()
        assert correction.notice_id == notice_id and correction.reason == withdrawal.words
        emails = db.scalars(select(OutboxMessage).where(OutboxMessage.kind == CORRECTION_KIND)).all()
        mine = [m for m in emails if f"https://hub.example/notices/{notice_id}\n" in m.body]
        assert {m.to_address for m in mine} == leads and leads
        for message in mine:  # a link only: nothing about the child or the incident
            assert child_name not in message.body and child_name not in message.subject
            assert not reference or reference not in message.body
        actions = {
            (e.action, e.subject_id)
            for e in db.scalars(
                select(AuditEvent).where(AuditEvent.action.in_(["withdraw-work-item", "correct-notice"]))
            )
        }
        assert ("withdraw-work-item", str(item_id)) in actions and ("correct-notice", str(notice_id)) in actions
        lead_id = db.scalars(select(User.id).where(User.email == sorted(leads)[0])).one()

    # The school's safeguarding lead reads the reason on the work item page, and the correction on the notice page.
    settings = HubSettings(data_dir=area, secret_key="s" * 40, cookie_secure=True)  # type: ignore[arg-type]
    client = TestClient(create_app(settings, engine=engine), base_url="https://testserver")
    login_as(client, sessions, lead_id)
    page = client.get(f"/queue/{item_id}", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert 'id="withdrawn"' in page.text and words in page.text and "Withdrawn on " in page.text
    assert 'id="rule-no-longer-holds"' not in page.text
    shown = client.get(f"/notices/{notice_id}", headers={"Accept": "text/html"})
    assert shown.status_code == 200 and 'id="notice-withdrawn"' in shown.text
    assert f"{child_name}: Withdrawn on " in shown.text and words in shown.text

    # Once: syncing the same build again withdraws and corrects nothing more.
    third = _sync(sessions, area)
    assert (third.withdrawn, third.notice_corrections) == (0, 0)
    with sessions() as db:
        assert len(db.scalars(select(NoticeCorrection).where(NoticeCorrection.work_item_id == item_id)).all()) == 1
        assert len(db.scalars(select(OutboxMessage).where(OutboxMessage.kind == CORRECTION_KIND)).all()) == len(emails)


def _rows_in_store(data_dir: Path) -> tuple[int, int]:
    import duckdb

    from commonground.ingest import store_path

    con = duckdb.connect(str(store_path(data_dir)), read_only=True)
    try:
        tables = [
            t
            for (t,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()
            if t.startswith(("feed_", "history_"))
        ]
        records = sum(con.execute(f'SELECT count(*) FROM "{t}"').fetchall()[0][0] for t in tables)
        batches = con.execute("SELECT count(*) FROM ingest_batches").fetchall()[0][0]
    finally:
        con.close()
    return int(records), int(batches)


def test_retention_on_the_synthetic_area_removes_what_was_due_and_audits_counts_only(
    area: Path, sessions: sessionmaker[Session]
) -> None:
    from commonground.access.audit import Actor
    from commonground.cases.retention import apply_retention_schedule, retention_due
    from commonground.contracts.retention import retention_schedule
    from commonground.linkage.builds import builds_dir, published_builds

    schedule = retention_schedule()
    for i in range(3):  # three older builds: with the current one, one more than the schedule keeps
        old = builds_dir(area) / f"2020010{i + 1}T000000Z-0000000{i}"
        old.mkdir()
        (old / "build.json").write_text("{}", encoding="utf-8")
    records, batches = _rows_in_store(area)
    later = dt.datetime.now() + dt.timedelta(days=9 * 366)  # past every feed's period
    due = retention_due(data_dir=area, schedule=schedule, at=later)
    assert (due.records, due.batches, len(due.builds)) == (records, batches, 1) and records > 0
    assert due.builds == ["20200101T000000Z-00000000"]

    with sessions() as db:
        report = apply_retention_schedule(db, data_dir=area, schedule=schedule, at=later, by=Actor(label="cli:test"))
        db.commit()
    assert [(f.feed, f.batches, f.records) for f in report.feeds] == [(f.feed, f.batches, f.records) for f in due.feeds]
    assert report.builds == due.builds and _rows_in_store(area) == (0, 0)
    current = require_current_build(area).build_id
    assert current in published_builds(area) and len(published_builds(area)) == schedule.builds_kept
    with sessions() as db:
        (event,) = db.scalars(select(AuditEvent).where(AuditEvent.action == "apply-retention")).all()
        assert event.detail == {"batches": batches, "records": records, "builds": 1}  # how much, never what
        assert event.person_id is None
