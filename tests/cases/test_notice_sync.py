"""Notices made by ``hub sync`` from a synthetic area: one per incident and school, each child on the notice of their
own school, and a second sync names nobody again (#17)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from commonground.access.roles import Role
from commonground.cases.demo import seed_partnership
from commonground.cases.notices import NOTICE_RULE, Notice, NoticeChild
from commonground.cases.outbox import OutboxMessage
from commonground.cases.sync import sync_current_build
from commonground.cases.work_items import WorkItem
from commonground.linkage.builds import require_current_build

MORNING = dt.datetime(2026, 9, 12, 7, 0)
"""The morning after the last domestic-abuse incident of the synthetic area that names a child of school age."""


@dataclass(frozen=True)
class Area:
    data_dir: Path


@pytest.fixture(scope="module")
def area(tmp_path_factory: pytest.TempPathFactory) -> Area:
    from commonground.ingest import ingest_directory
    from commonground.linkage.pipeline import build_from_store
    from commonground.rules import run_rules
    from commonground.synth import generate

    root = tmp_path_factory.mktemp("notice-sync")
    generate(people=3000, seed=11, out=root / "area")
    data_dir = root / "data"
    ingest_directory(source=root / "area", data_dir=data_dir)
    build = build_from_store(data_dir=data_dir)
    run_rules(build_dir=build.path, as_of=MORNING)
    return Area(data_dir)


def _counts(db: Session) -> tuple[int, int, int]:
    return (
        db.scalar(select(func.count()).select_from(Notice)) or 0,
        db.scalar(select(func.count()).select_from(NoticeChild)) or 0,
        db.scalar(select(func.count()).select_from(OutboxMessage)) or 0,
    )


def test_sync_makes_one_notice_per_incident_and_school_and_a_second_sync_names_nobody_again(
    area: Area, sessions: sessionmaker[Session]
) -> None:
    with sessions() as db:
        seed_partnership(db, build_path=require_current_build(area.data_dir).path, password="correct horse battery")
        first = sync_current_build(db, data_dir=area.data_dir, base_url="https://hub.example")
        db.commit()
    assert first.notices > 0
    with sessions() as db:
        made = _counts(db)
        school_items = db.scalars(
            select(WorkItem).where(WorkItem.rule_id == NOTICE_RULE, WorkItem.role == Role.SCHOOL_SAFEGUARDING_LEAD)
        ).all()
        children = db.scalars(select(NoticeChild)).all()
        assert sorted(c.work_item_id for c in children) == sorted(i.id for i in school_items)  # each child once
        for child in children:  # a child is on the notice of their own school only
            assert child.work_item.organisation_id == child.notice.organisation_id
        per_incident = Counter((n.organisation_id, n.incident_reference) for n in db.scalars(select(Notice)))
        assert all(count == 1 for (_, reference), count in per_incident.items() if reference is not None)
        assert made[0] == first.notices and made[1] == len(children) >= made[0]
    with sessions() as db:
        again = sync_current_build(db, data_dir=area.data_dir, base_url="https://hub.example")
        db.commit()
        assert again.notices == 0 and again.emails_queued == 0
        assert _counts(db) == made
