"""A work item is in the queue from the moment its rule raised it (#17), not from when the hub synced: the rules
run as of a moment, and the item's ``created_at`` is that moment; ``updated_at`` and the audit log keep the real
clock. The hub's sync reads the moment from the build's flags (``raised_at``)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from commonground.access.audit import RULES_STAGE, Actor
from commonground.access.models import AuditEvent
from commonground.access.purposes import Purpose
from commonground.access.roles import Role
from commonground.cases.organisations import create_organisation
from commonground.cases.sync import flag_records
from commonground.cases.work_items import FlagRecord, RouteTo, WorkItem, upsert_work_items
from commonground.store.db import utcnow
from commonground.store.organisation_types import OrganisationType as OT

UK = ZoneInfo("Europe/London")


def _flag(person_id: str, *, raised_at: dt.datetime | None) -> FlagRecord:
    return FlagRecord(
        person_id=person_id,
        rule_id="adult.revolving_door",
        rule_version="1",
        route_to=RouteTo(organisation_type=OT.POLICE_FORCE, role=Role.HUB_PRACTITIONER),
        due_by=utcnow() + dt.timedelta(hours=24),
        evidence_ids=("custody_records:C1",),
        purpose=Purpose.SAFEGUARDING_ADULTS,
        raised_at=raised_at,
    )


def test_a_new_item_is_in_the_queue_from_when_its_rule_raised_it(sessions: sessionmaker[Session]) -> None:
    raised = (utcnow() - dt.timedelta(days=3)).replace(microsecond=0)
    later = utcnow() + dt.timedelta(days=1)  # a moment after now is taken as now
    with sessions() as db:
        create_organisation(db, code="QXP", name="Northshire Police", type=OT.POLICE_FORCE, by=Actor(label="test"))
        before = utcnow()
        upsert_work_items(
            db, [_flag("P1", raised_at=raised), _flag("P2", raised_at=None), _flag("P3", raised_at=later)]
        )
        db.commit()
        after = utcnow()
        items = {i.person_id: i for i in db.scalars(select(WorkItem))}
        assert items["P1"].created_at == raised
        assert before <= items["P1"].updated_at <= after
        assert before <= items["P2"].created_at <= after
        assert before <= items["P3"].created_at <= after
        audited = db.scalars(select(AuditEvent).where(AuditEvent.action == "create-work-item")).all()
        assert len(audited) == 3
        assert all(e.actor == RULES_STAGE.label for e in audited)


def test_the_sync_reads_when_each_flag_was_raised(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "rules.duckdb"))
    try:
        con.execute("CREATE TABLE rules (rule_id VARCHAR, purpose VARCHAR)")
        con.execute("INSERT INTO rules VALUES ('adult.revolving_door', 'safeguarding_adults')")
        con.execute(
            "CREATE TABLE evidence (person_id VARCHAR, rule_id VARCHAR, feed VARCHAR, record_id VARCHAR, "
            "evidence_at TIMESTAMP)"
        )
        con.execute(
            "INSERT INTO evidence VALUES ('P1', 'adult.revolving_door', 'custody_records', 'C1', "
            "TIMESTAMP '2026-12-05 22:10:00')"
        )
        con.execute(
            "CREATE TABLE flags (person_id VARCHAR, rule_id VARCHAR, rule_version VARCHAR, organisation_type VARCHAR, "
            "organisation_id VARCHAR, role VARCHAR, due_by TIMESTAMP, latest_evidence TIMESTAMP, raised_at TIMESTAMP)"
        )
        con.execute(
            "INSERT INTO flags VALUES ('P1', 'adult.revolving_door', '1', 'vulnerability_hub', NULL, "
            "'hub_practitioner', TIMESTAMP '2026-12-07 16:20:00', TIMESTAMP '2026-12-05 22:10:00', "
            "TIMESTAMP '2026-12-06 16:20:00')"
        )
    finally:
        con.close()
    records, unmapped = flag_records(tmp_path)
    assert unmapped == set()
    assert [r.raised_at for r in records] == [dt.datetime(2026, 12, 6, 16, 20, tzinfo=UK)]
