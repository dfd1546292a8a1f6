"""Operation Encompass notices for the hub tests: a person view with two pupils named on domestic-abuse incidents
(one at each school), the notice work items routed to their schools, and notices made from them."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
from person_view_fixture import ViewPerson, write_test_view
from service_support import SETUP
from service_world import World
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from commonground.access.purposes import Purpose
from commonground.access.roles import Role
from commonground.cases.notices import NOTICE_RULE, Notice, NoticeChild
from commonground.cases.work_items import FlagRecord, RouteTo, WorkItem, upsert_work_items
from commonground.store.db import utcnow
from commonground.store.organisation_types import OrganisationType

CHILDREN = {
    # person id of the world -> (given name, family name, school code, incident, officer contact)
    "P-SCHA-4": ("Amberly", "Quilliam", "SCHA", "INC-0004", "PC 4412 Jones, Safeguarding Hub, 01632 960001"),
    "P-SCHB-5": ("Brennick", "Ostrander", "SCHB", "INC-0005", "DC 7781 Patel, Public Protection, 01632 960002"),
}
INCIDENT_AT = dt.datetime(2026, 10, 1, 21, 30)  # local time, as partner feeds record it
EVIDENCE = {"P-SCHA-4": "police_incident_persons:I4", "P-SCHB-5": "police_incident_persons:I5"}
OTHERS = [
    ViewPerson("P-LA-1", "Testgiven", "Zedla", dt.date(2012, 5, 1), "police_incident_persons", "I1"),
    ViewPerson("P-NHS-3", "Corwin", "Haverlock", dt.date(1988, 2, 14), "street_triage", "T3"),
]


def write_school_view(data_dir: Path) -> Path:
    """The test person view, with the pupils' incident events carrying what a notice needs."""
    people = [
        ViewPerson(p, given, family, dt.date(2015, 3, 9), "police_incident_persons", EVIDENCE[p].split(":")[1])
        for p, (given, family, *_rest) in CHILDREN.items()
    ]
    path = write_test_view(data_dir, [*people, *OTHERS])
    con = duckdb.connect(str(path))
    try:
        for p, (_g, _f, _school, incident, contact) in CHILDREN.items():
            data = {
                "role": "child_present",
                "occurred_at": INCIDENT_AT.isoformat(sep=" "),
                "category": "domestic",
                "qualifiers": ["domestic_abuse", "child_present"],
                "summary": "Verbal argument between adults; no injuries.",
                "officer_contact": contact,
                "incident_id": incident,
            }
            con.execute(
                "UPDATE events SET data = ?, moment = ? WHERE person_id = ?", [json.dumps(data), INCIDENT_AT, p]
            )
    finally:
        con.close()
    return path


def add_notice_items(sessions: sessionmaker[Session], *, due_in: dt.timedelta = dt.timedelta(hours=10)) -> None:
    """Work items of the notice rule for both pupils, routed to their schools (as ``hub sync`` makes them)."""
    with sessions() as db:
        upsert_work_items(
            db,
            [
                FlagRecord(
                    person_id=p,
                    rule_id=NOTICE_RULE,
                    rule_version="1",
                    route_to=RouteTo(
                        organisation_type=OrganisationType.SCHOOL, role=Role.SCHOOL_SAFEGUARDING_LEAD, organisation=code
                    ),
                    due_by=utcnow() + due_in,
                    evidence_ids=(EVIDENCE[p],),
                    purpose=Purpose.OPERATION_ENCOMPASS,
                    episode=incident,
                )
                for p, (_g, _f, code, incident, _c) in CHILDREN.items()
            ],
            by=SETUP,
        )
        db.commit()


def notice_ids(sessions: sessionmaker[Session]) -> dict[str, int]:
    """Each child's notice (the latest naming them)."""
    with sessions() as db:
        return {c.person_id: c.notice_id for c in db.scalars(select(NoticeChild).order_by(NoticeChild.id))}


def add_route_notices(
    sessions: sessionmaker[Session], world: World, names: dict[str, str]
) -> dict[tuple[str, str], int]:
    """For the route matrix: two notices per school pupil of the world (one to acknowledge on the page, one through
    the API), each on a work item of its own, the child named ``names[person]``."""
    made: dict[tuple[str, str], int] = {}
    with sessions() as db:
        for person, (code, role) in world.item_routes.items():
            if role is not Role.SCHOOL_SAFEGUARDING_LEAD:
                continue
            original = db.get_one(WorkItem, world.items[person])
            for use in ("page", "api"):
                item = WorkItem(
                    flag_key=f"route-notice-{person}-{use}",
                    person_id=person,
                    rule_id=NOTICE_RULE,
                    rule_version="1",
                    episode=use,
                    organisation_id=world.organisations[code],
                    role=role,
                    purpose=Purpose.OPERATION_ENCOMPASS,
                    due_by=original.due_by,
                    evidence=list(original.evidence),
                )
                db.add(item)
                db.flush()
                notice = Notice(
                    work_item_id=item.id,
                    organisation_id=item.organisation_id,
                    incident_at=utcnow() - dt.timedelta(hours=3),
                    police_contact="PC 1 Test, 01632 960000",
                    due_by=original.due_by,
                )
                notice.children.append(
                    NoticeChild(
                        work_item=item,
                        person_id=person,
                        child_name=f"Testgiven {names[person]}",
                        child_date_of_birth=dt.date(2012, 5, 1),
                        involvement="named",
                    )
                )
                db.add(notice)
                db.flush()
                made[(person, use)] = notice.id
        db.commit()
    return made
