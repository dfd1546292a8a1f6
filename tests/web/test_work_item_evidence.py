"""A work item's evidence, as a practitioner reads it (#17): a summary first and one row per record (an item showed
104 rows, one custody record four times over, and no summary); and an item whose rule no longer holds on the
current build says so and lists the records that raised it (some items showed no "why" at all)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
from fastapi import FastAPI
from fastapi.testclient import TestClient
from notice_support import write_school_view
from service_support import SETUP, login_as
from service_world import build_world
from sqlalchemy.orm import Session, sessionmaker

from commonground.access.purposes import Purpose
from commonground.access.roles import Role
from commonground.cases.notices import NOTICE_RULE
from commonground.cases.work_items import FlagRecord, RouteTo, upsert_work_items
from commonground.store.db import utcnow
from commonground.store.organisation_types import OrganisationType
from commonground.web.rule_titles import NOT_ON_A_ROLL

PERSON = "P-LA-1"
HUB = "hub@la.example"


def _flag_with_evidence(data_dir: Path) -> None:
    path = write_school_view(data_dir)
    con = duckdb.connect(str(path))
    try:
        con.execute(
            "INSERT INTO rules VALUES ('test.rule', 'test', 1, 1, 'flag', 'adults', 'Repeat custody', "
            "'Custody on three days with several needs.', 'Crime and Disorder Act 1998 s115', 'safeguarding_children', "
            "365, NULL, [], NULL, NULL, NULL)"
        )
        con.execute(
            "INSERT INTO flags (person_id, rule_id, rule_version, first_evidence, latest_evidence) "
            "VALUES (?, 'test.rule', 1, TIMESTAMP '2026-09-01 10:00', TIMESTAMP '2026-10-01 21:30')",
            [PERSON],
        )
        for item, label in enumerate(("named on a police incident", "a vulnerability noted at the incident")):
            con.execute(
                "INSERT INTO rule_evidence_items VALUES ('test.rule', ?, 'police_incident_persons', 'Incident', "
                "'direct', 's', ?)",
                [str(item), label],
            )
        rows = [
            ("police_incident_persons", "I1", "0", "2026-10-01 21:30"),
            ("police_incident_persons", "I1", "1", "2026-10-01 21:30"),
            ("police_incident_persons", "I9", "0", "2026-09-01 10:00"),
        ]
        for feed, record, item, at in rows:
            con.execute(
                "INSERT INTO evidence (person_id, rule_id, rule_version, kind, signal, item, feed, record_id, "
                "via_person_id, evidence_at) VALUES (?, 'test.rule', 1, 'flag', 's', ?, ?, ?, NULL, ?)",
                [PERSON, item, feed, record, at],
            )
    finally:
        con.close()


def test_the_evidence_is_summarised_and_each_record_is_one_row(
    app: FastAPI, client: TestClient, sessions: sessionmaker[Session]
) -> None:
    world = build_world(sessions, with_agreements=True)
    _flag_with_evidence(app.state.settings.data_dir)
    login_as(client, sessions, world.users[HUB])
    page = client.get(f"/queue/{world.items[PERSON]}").text
    assert 'id="evidence-summary"' in page
    assert "The evidence (2 records)" in page  # I1 twice over is one row
    assert page.count("<code>I1</code>") == 1
    assert "Named on a police incident; a vulnerability noted at the incident" in page
    assert "Named on a police incident: 2 records" in page


def test_an_item_whose_rule_no_longer_holds_says_so(
    app: FastAPI, client: TestClient, sessions: sessionmaker[Session]
) -> None:
    world = build_world(sessions, with_agreements=True)
    write_school_view(app.state.settings.data_dir)  # no flag for P-LA-1 in this build
    login_as(client, sessions, world.users[HUB])
    page = client.get(f"/queue/{world.items[PERSON]}").text
    assert 'id="rule-no-longer-holds"' in page
    assert "<code>I1</code>" in page


def test_a_school_notice_for_a_child_on_no_roll_is_titled_as_what_it_is(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    """#17: items routed to the council were titled "Operation Encompass notice to the child's school"."""
    world = build_world(sessions, with_agreements=True)
    with sessions() as db:
        upsert_work_items(
            db,
            [
                FlagRecord(
                    person_id=PERSON,
                    rule_id=NOTICE_RULE,
                    rule_version="1",
                    route_to=RouteTo(
                        organisation_type=OrganisationType.LOCAL_AUTHORITY_CHILDRENS,
                        role=Role.HUB_PRACTITIONER,
                        organisation="LA",
                    ),
                    due_by=utcnow() + dt.timedelta(hours=10),
                    evidence_ids=("police_incident_persons:I1",),
                    purpose=Purpose.SAFEGUARDING_CHILDREN,
                    episode="2026-10-01T21:30:00",
                )
            ],
            by=SETUP,
        )
        db.commit()
    login_as(client, sessions, world.users[HUB])
    queue = client.get("/queue").text
    assert NOT_ON_A_ROLL in queue and "notice to the child&#39;s school" not in queue


def test_evidence_through_a_household_member_follows_the_readers_agreements(
    app: FastAPI, client: TestClient, sessions: sessionmaker[Session]
) -> None:
    """The work item page applies the person page's rule (#16): a school whose agreement covers its own pupils
    sees the pupil's police record behind a flag, not a parent's record from the same feed."""
    world = build_world(sessions, with_agreements=True)
    path = write_school_view(app.state.settings.data_dir)
    pupil = "P-SCHA-4"
    con = duckdb.connect(str(path))
    try:
        con.execute(
            "INSERT INTO flags (person_id, rule_id, rule_version, first_evidence, latest_evidence) "
            "VALUES (?, 'test.rule', 1, TIMESTAMP '2026-09-01 10:00', TIMESTAMP '2026-10-01 21:30')",
            [pupil],
        )
        for record, via in (("I4", None), ("PARENT-77", "P-PARENT-77")):
            con.execute(
                "INSERT INTO evidence (person_id, rule_id, rule_version, kind, signal, item, feed, record_id, "
                "via_person_id, evidence_at) VALUES (?, 'test.rule', 1, 'flag', 's', '0', "
                "'police_incident_persons', ?, ?, TIMESTAMP '2026-10-01 21:30')",
                [pupil, record, via],
            )
    finally:
        con.close()
    login_as(client, sessions, world.users["dsl@scha.example"])
    page = client.get(f"/queue/{world.items[pupil]}").text
    assert "<code>I4</code>" in page
    assert "PARENT-77" not in page
