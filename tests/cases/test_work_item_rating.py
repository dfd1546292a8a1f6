"""A work item keeps the RAG rating the rules gave its flag, and the reason in words (#17): the hub's sync reads them
from the build's flags, and the new item is made (and audited) with them; a school's notice has none."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from commonground.access.audit import Actor
from commonground.access.models import AuditEvent
from commonground.cases.organisations import create_organisation
from commonground.cases.sync import flag_records
from commonground.cases.work_items import Rating, WorkItem, upsert_work_items
from commonground.store.organisation_types import OrganisationType as OT

WHY = "Red: usually amber; raised one step because the latest record behind it is from 2 days ago."


def _rules_output(folder: Path) -> None:
    """A rules output as a run writes it: a hub flag rated red with its reason, and a school's notice (no rating)."""
    con = duckdb.connect(str(folder / "rules.duckdb"))
    try:
        con.execute("CREATE TABLE rules (rule_id VARCHAR, purpose VARCHAR)")
        con.execute(
            "INSERT INTO rules VALUES ('adult.repeat_domestic_abuse_victim', 'safeguarding_adults'), "
            "('notice.school_domestic_abuse', 'operation_encompass')"
        )
        con.execute(
            "CREATE TABLE evidence (person_id VARCHAR, rule_id VARCHAR, feed VARCHAR, record_id VARCHAR, "
            "evidence_at TIMESTAMP)"
        )
        con.execute(
            "INSERT INTO evidence VALUES ('P1', 'adult.repeat_domestic_abuse_victim', 'police_incident_persons', "
            "'R1', TIMESTAMP '2026-12-05 22:10'), ('P2', 'notice.school_domestic_abuse', 'police_incident_persons', "
            "'R2', TIMESTAMP '2026-12-05 22:10')"
        )
        con.execute(
            "CREATE TABLE flags (person_id VARCHAR, rule_id VARCHAR, rule_version VARCHAR, organisation_type VARCHAR, "
            "organisation_id VARCHAR, role VARCHAR, rag_usual VARCHAR, rag VARCHAR, rag_reason VARCHAR, "
            "due_by TIMESTAMP, latest_evidence TIMESTAMP, raised_at TIMESTAMP)"
        )
        con.execute(
            "INSERT INTO flags VALUES ('P1', 'adult.repeat_domestic_abuse_victim', '1', 'vulnerability_hub', NULL, "
            "'hub_practitioner', 'amber', 'red', ?, TIMESTAMP '2026-12-07 11:00', TIMESTAMP '2026-12-05 22:10', "
            "TIMESTAMP '2026-12-07 09:00'), ('P2', 'notice.school_domestic_abuse', '1', 'local_authority', NULL, "
            "'elective_home_education_officer', NULL, NULL, NULL, TIMESTAMP '2026-12-08 08:30', "
            "TIMESTAMP '2026-12-05 22:10', TIMESTAMP '2026-12-07 09:00')",
            [WHY],
        )
    finally:
        con.close()


def test_the_sync_carries_each_flags_rating_and_reason(tmp_path: Path, sessions: sessionmaker[Session]) -> None:
    _rules_output(tmp_path)
    records, unmapped = flag_records(tmp_path)
    assert unmapped == set()
    by_person = {r.person_id: r for r in records}
    assert (by_person["P1"].rating, by_person["P1"].rating_reason) == (Rating.RED, WHY)
    assert (by_person["P2"].rating, by_person["P2"].rating_reason) == (None, None)
    with sessions() as db:
        for code, kind in (("QXP", OT.POLICE_FORCE), ("QXLA", OT.LOCAL_AUTHORITY_CHILDRENS)):
            create_organisation(db, code=code, name=code, type=kind, by=Actor(label="test"))
        upsert_work_items(db, records)
        db.commit()
        items = {i.person_id: i for i in db.scalars(select(WorkItem))}
        assert (items["P1"].rating, items["P1"].rating_reason) == (Rating.RED, WHY)
        assert items["P1"].due_by == dt.datetime(2026, 12, 7, 11, 0, tzinfo=dt.UTC)  # 11:00 in London in December
        assert items["P2"].rating is None
        made = db.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "create-work-item", AuditEvent.subject_id == str(items["P1"].id)
            )
        ).one()
        assert made.detail["rating"] == "red"


def test_a_rules_output_from_before_ratings_gives_items_with_none(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "rules.duckdb"))
    try:
        con.execute("CREATE TABLE rules AS SELECT 'adult.revolving_door' AS rule_id, 'safeguarding_adults' AS purpose")
        con.execute(
            "CREATE TABLE evidence AS SELECT 'P1' AS person_id, 'adult.revolving_door' AS rule_id, "
            "'custody_records' AS feed, 'C1' AS record_id, TIMESTAMP '2026-12-05 22:10' AS evidence_at"
        )
        con.execute(
            "CREATE TABLE flags AS SELECT 'P1' AS person_id, 'adult.revolving_door' AS rule_id, '1' AS rule_version, "
            "'vulnerability_hub' AS organisation_type, NULL AS organisation_id, 'hub_practitioner' AS role, "
            "'green' AS rag, TIMESTAMP '2026-12-08 09:00' AS due_by, TIMESTAMP '2026-12-05 22:10' AS latest_evidence, "
            "TIMESTAMP '2026-12-07 09:00' AS raised_at"
        )
    finally:
        con.close()
    [record], _ = flag_records(tmp_path)
    assert (record.rating, record.rating_reason) == (Rating.GREEN, None)
