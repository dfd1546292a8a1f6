"""Repeat victims of domestic abuse go to the MARAC coordinator (#20): the routing pack names the MARAC's
coordinator, the hub maps it to a police force's MARAC coordinator role, and that role's queue receives the items
(no longer the police vulnerability hub's, which had to decide on the referral in its place)."""

from __future__ import annotations

from pathlib import Path

import duckdb
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from commonground.access.audit import Actor
from commonground.access.roles import ROLE_GRANTS, ROLE_ORGANISATION_TYPES, Role
from commonground.cases.organisations import create_organisation
from commonground.cases.sync import flag_records
from commonground.cases.work_items import WorkItem, upsert_work_items
from commonground.rules import default_rules
from commonground.store.organisation_types import OrganisationType as OT

RULE = "adult.repeat_domestic_abuse_victim"


def test_the_routing_pack_sends_repeat_victims_to_the_marac_coordinator() -> None:
    route = default_rules().routing.route(RULE)
    assert route is not None
    assert (route.to.organisation_type.value, route.to.role) == ("marac", "coordinator")


def test_a_marac_coordinator_does_casework_in_a_police_force_or_council_only() -> None:
    assert ROLE_ORGANISATION_TYPES[Role.MARAC_COORDINATOR] == {OT.POLICE_FORCE, OT.LOCAL_AUTHORITY_CHILDRENS}
    assert {"view-work-items", "update-work-item", "view-person", "make-referral"} <= ROLE_GRANTS[
        Role.MARAC_COORDINATOR
    ]
    assert "break-glass" not in ROLE_GRANTS[Role.MARAC_COORDINATOR]
    assert Role.MARAC_COORDINATOR.label == "MARAC coordinator"


def _rules_output(folder: Path) -> None:
    con = duckdb.connect(str(folder / "rules.duckdb"))
    try:
        con.execute("CREATE TABLE rules (rule_id VARCHAR, purpose VARCHAR)")
        con.execute(f"INSERT INTO rules VALUES ('{RULE}', 'safeguarding_adults')")
        con.execute(
            "CREATE TABLE evidence (person_id VARCHAR, rule_id VARCHAR, feed VARCHAR, record_id VARCHAR, "
            "evidence_at TIMESTAMP)"
        )
        con.execute(
            f"INSERT INTO evidence VALUES ('P1', '{RULE}', 'police_incident_persons', 'IP1', "
            "TIMESTAMP '2026-12-05 22:10:00')"
        )
        con.execute(
            "CREATE TABLE flags (person_id VARCHAR, rule_id VARCHAR, rule_version VARCHAR, organisation_type VARCHAR, "
            "organisation_id VARCHAR, role VARCHAR, due_by TIMESTAMP, latest_evidence TIMESTAMP, raised_at TIMESTAMP)"
        )
        con.execute(
            f"INSERT INTO flags VALUES ('P1', '{RULE}', '1', 'marac', NULL, 'coordinator', "
            "TIMESTAMP '2026-12-07 16:20:00', TIMESTAMP '2026-12-05 22:10:00', TIMESTAMP '2026-12-06 16:20:00')"
        )
    finally:
        con.close()


def test_the_hub_puts_the_item_in_the_marac_coordinators_queue(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    _rules_output(tmp_path)
    records, unmapped = flag_records(tmp_path)
    assert unmapped == set()
    with sessions() as db:
        police = create_organisation(
            db, code="QXP", name="Northshire Police", type=OT.POLICE_FORCE, by=Actor(label="test")
        )
        upsert_work_items(db, records)
        db.commit()
        item = db.scalars(select(WorkItem)).one()
        assert (item.organisation_id, item.role) == (police.id, Role.MARAC_COORDINATOR)
