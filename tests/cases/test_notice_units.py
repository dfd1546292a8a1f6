"""One Operation Encompass notice per incident and school, each child named (#17), reaching every child (#20).

Siblings at one school are one notice; a child of the same incident at another school is on that school's notice
only. Making notices again names nobody twice; a child found later joins the notice while it is unacknowledged (an
acknowledgement covers only the children the lead saw), and is on a new notice of the same incident once it is
acknowledged. A child whose parent was involved elsewhere is told of in those words. The page and the email say
what a school's designated safeguarding lead needs and nothing more: no internal numbers, no adults, no account."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import duckdb
from fastapi import FastAPI
from fastapi.testclient import TestClient
from person_view_fixture import ViewPerson, write_test_view
from service_support import SETUP, form_csrf, login_as
from service_world import World, build_world
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from commonground.access.agreements import About, AgreementSpec, create_agreement
from commonground.access.models import AuditEvent
from commonground.access.purposes import Purpose
from commonground.access.roles import Role
from commonground.cases.notices import NOTICE_RULE, Notice, NoticeChild, notices_from_work_items
from commonground.cases.outbox import OutboxMessage
from commonground.cases.person_view import PersonView
from commonground.cases.work_items import FlagRecord, RouteTo, WorkItem, WorkItemStatus, upsert_work_items
from commonground.store.db import utcnow
from commonground.store.organisation_types import OrganisationType

INCIDENT = "INC-0100"
AT = dt.datetime(2026, 12, 6, 22, 40)  # local time, as partner feeds record it
CONTACT = "PC 1203 Singh, Safeguarding Hub, 01632 960077"
PUPILS = {
    # person id -> (given name, family name, school code, the record naming them on the incident)
    "P-SIB-1": ("Rowena", "Tamsett", "SCHA", "I-SIB-1"),
    "P-SIB-2": ("Lowen", "Tamsett", "SCHA", "I-SIB-2"),
    "P-SIB-3": ("Merryn", "Tamsett", "SCHB", "I-SIB-3"),
}
PARENT_CHILD = ("P-PAR-1", "Idony", "Brackwell", "SCHA", "PI-0200")


def _view(data_dir: Path) -> Path:
    """Three siblings named on one incident (two at school A, one at school B), and a child whose father was the
    suspect of another incident at his own flat (the child's evidence is the parent's, signal parent_elsewhere)."""
    person, given, family, _school, incident_row = PARENT_CHILD
    people = [
        ViewPerson(p, g, f, dt.date(2015, 3, 9), "police_incident_persons", record)
        for p, (g, f, _s, record) in PUPILS.items()
    ]
    people.append(ViewPerson(person, given, family, dt.date(2014, 6, 2), "school_roll", "R-PAR-1"))
    path = write_test_view(data_dir, people)
    con = duckdb.connect(str(path))
    try:
        for p in PUPILS:
            data = {
                "role": "child_present",
                "occurred_at": AT.isoformat(sep=" "),
                "category": "domestic",
                "qualifiers": ["domestic_abuse", "child_present"],
                "summary": "Shouting heard by neighbours; both adults spoken to.",
                "officer_contact": CONTACT,
                "incident_id": INCIDENT,
            }
            con.execute("UPDATE events SET data = ?, moment = ? WHERE person_id = ?", [json.dumps(data), AT, p])
        con.execute(
            "INSERT INTO incidents VALUES (?, 'INC-0200', TIMESTAMP '2026-12-06 23:10', "
            "'DC 7781 Patel, Public Protection, 01632 960002')",
            [incident_row],
        )
        con.execute(
            "INSERT INTO flags (person_id, rule_id, rule_version, latest_evidence) VALUES (?, ?, 2, ?)",
            [person, NOTICE_RULE, dt.datetime(2026, 12, 6, 23, 10)],
        )
        con.execute(
            "INSERT INTO evidence VALUES (?, ?, 2, 'flag', '2', 'parent_elsewhere', 'police_incidents', ?, "
            "'P-FATHER-9', TIMESTAMP '2026-12-06 23:10')",
            [person, NOTICE_RULE, incident_row],
        )
    finally:
        con.close()
    return path


def _items(sessions: sessionmaker[Session], people: list[str], *, school: dict[str, str] | None = None) -> None:
    """The notice rule's work items for ``people``, routed to their schools (as ``hub sync`` makes them)."""
    flags = []
    for p in people:
        if p == PARENT_CHILD[0]:
            code, evidence, episode = PARENT_CHILD[3], f"police_incidents:{PARENT_CHILD[4]}", "2026-12-06T23:10:00"
        else:
            code, evidence, episode = PUPILS[p][2], f"police_incident_persons:{PUPILS[p][3]}", AT.isoformat()
        flags.append(
            FlagRecord(
                person_id=p,
                rule_id=NOTICE_RULE,
                rule_version="2",
                route_to=RouteTo(
                    organisation_type=OrganisationType.SCHOOL,
                    role=Role.SCHOOL_SAFEGUARDING_LEAD,
                    organisation=(school or {}).get(p, code),
                ),
                due_by=utcnow() + dt.timedelta(hours=10),
                evidence_ids=(evidence,),
                purpose=Purpose.OPERATION_ENCOMPASS,
                episode=episode,
            )
        )
    with sessions() as db:
        upsert_work_items(db, flags, by=SETUP)
        db.commit()


def _make(app: FastAPI, sessions: sessionmaker[Session]) -> tuple[int, int, int]:
    """Make the notices of new work items; returns (notices made, children named, emails queued)."""
    view = PersonView(app.state.person_views.current().path)
    try:
        with sessions() as db:
            run = notices_from_work_items(db, view, base_url="https://hub.example")
            db.commit()
    finally:
        view.close()
    return run.created, run.children, run.emails_queued


def _notice_of(sessions: sessionmaker[Session], person: str) -> int:
    with sessions() as db:
        return (
            db.scalars(
                select(NoticeChild.notice_id).where(NoticeChild.person_id == person).order_by(NoticeChild.id.desc())
            ).first()
            or 0
        )


def _school_covers_incident_rows(sessions: sessionmaker[Session]) -> None:
    """School A's agreement covers the police's incident rows too (the parent-elsewhere evidence is one)."""
    with sessions() as db:
        create_agreement(
            db,
            spec=AgreementSpec(
                reference="DSA-SCHA-INCIDENTS",
                title="Operation Encompass: incidents",
                organisation="SCHA",
                feeds=("police_incidents",),
                about=(About.OWN_CASES,),
                purposes=(Purpose.OPERATION_ENCOMPASS,),
                lawful_basis="Victims and Prisoners Act 2024 s20",
                valid_from=dt.date(2020, 1, 1),
            ),
            by=SETUP,
        )
        db.commit()


def _world(app: FastAPI, sessions: sessionmaker[Session]) -> World:
    world = build_world(sessions, with_agreements=True)
    _view(app.state.settings.data_dir)
    return world


def test_siblings_at_one_school_are_one_notice_and_another_schools_pupil_is_not_named(
    app: FastAPI, client: TestClient, sessions: sessionmaker[Session]
) -> None:
    world = _world(app, sessions)
    _items(sessions, list(PUPILS))
    assert _make(app, sessions) == (2, 3, 2)  # one notice per school, one email per school's lead
    assert _make(app, sessions) == (0, 0, 0)  # again: nobody named twice
    a, b = _notice_of(sessions, "P-SIB-1"), _notice_of(sessions, "P-SIB-3")
    assert _notice_of(sessions, "P-SIB-2") == a != b

    login_as(client, sessions, world.users["dsl@scha.example"])
    listing = client.get("/notices")
    assert listing.text.count('href="/notices/') == 1
    assert "Rowena Tamsett" in listing.text and "Lowen Tamsett" in listing.text and "Merryn" not in listing.text
    page = client.get(f"/notices/{a}")
    assert page.status_code == 200
    assert "Your 2 pupils linked to this incident" in page.text
    assert "Rowena Tamsett" in page.text and "Lowen Tamsett" in page.text and "Merryn" not in page.text
    api = client.get("/api/notices").json()
    assert [[c["person_id"] for c in n["children"]] for n in api["notices"]] == [["P-SIB-1", "P-SIB-2"]]
    assert client.get(f"/notices/{b}").status_code == 404  # the sibling's school's notice
    done = client.post(f"/notices/{a}/acknowledge", data={"csrf_token": form_csrf(page.text)}, follow_redirects=False)
    assert done.status_code == 303

    login_as(client, sessions, world.users["dsl@schb.example"])
    other = client.get(f"/notices/{b}")
    assert "Merryn Tamsett" in other.text and "Rowena" not in other.text and "Lowen" not in other.text
    assert "Your pupil linked to this incident" in other.text
    with sessions() as db:
        notice = db.get_one(Notice, a)
        assert notice.acknowledged_at is not None
        assert {db.get_one(WorkItem, c.work_item_id).status for c in notice.children} == {WorkItemStatus.CLOSED}
        assert db.get_one(WorkItem, db.get_one(Notice, b).children[0].work_item_id).status is WorkItemStatus.OPEN
        events = db.scalars(select(AuditEvent).where(AuditEvent.subject_id == str(a))).all()
        by_action: dict[str, set[str | None]] = {}
        for event in events:
            by_action.setdefault(f"{event.action}/{event.outcome}", set()).add(event.person_id)
        assert by_action["create-notice/allowed"] == {"P-SIB-1", "P-SIB-2"}
        assert by_action["view-notices/allowed"] == {"P-SIB-1", "P-SIB-2"}  # each child's read, audited
        assert by_action["acknowledge-notice/allowed"] == {"P-SIB-1", "P-SIB-2"}
        assert all("P-SIB-3" not in ids for ids in by_action.values())
        emails = {m.to_address: m for m in db.scalars(select(OutboxMessage))}
        assert set(emails) == {"dsl@scha.example", "dsl@schb.example"}
        assert emails["dsl@scha.example"].notice_id == a


def test_a_child_found_later_joins_the_unread_notice_then_a_new_one_once_it_is_acknowledged(
    app: FastAPI, client: TestClient, sessions: sessionmaker[Session]
) -> None:
    """The decision for a child of an incident already notified (#17): while the school has not acknowledged the
    notice, the child joins it (one incident, one notice) and the lead is emailed that it now names another
    pupil; an acknowledgement made on a page that did not show that child is refused, so no one acknowledges a
    child they have not read about. Once acknowledged, a notice is the record of what the school read and is never
    changed: a child found after that is on a new notice, which says the school was told of the incident before."""
    world = _world(app, sessions)
    _items(sessions, ["P-SIB-1"])
    assert _make(app, sessions) == (1, 1, 1)
    first = _notice_of(sessions, "P-SIB-1")
    with sessions() as db:  # its first email has gone
        db.get_one(Notice, first).sent_at = utcnow()
        db.commit()
    login_as(client, sessions, world.users["dsl@scha.example"])
    read = client.get(f"/notices/{first}")
    assert "Your pupil linked to this incident" in read.text

    _items(sessions, ["P-SIB-2"])
    assert _make(app, sessions) == (0, 1, 1)  # joined the notice; one email saying so
    assert _notice_of(sessions, "P-SIB-2") == first
    stale = client.post(
        f"/notices/{first}/acknowledge",
        data={"csrf_token": form_csrf(read.text), "seen": re.findall(r'name="seen" value="(\d+)"', read.text)},
    )
    assert stale.status_code == 409
    assert "This notice now names another pupil: read it again, then acknowledge it." in stale.text
    assert "Lowen Tamsett" in stale.text
    with sessions() as db:
        assert db.get_one(Notice, first).acknowledged_at is None
        update = db.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
        assert update is not None and update.subject == "An Operation Encompass notice now names another pupil"
        assert "Lowen" not in update.body and "Tamsett" not in update.body and INCIDENT not in update.body
    fresh = client.get(f"/notices/{first}")
    seen = re.findall(r'name="seen" value="(\d+)"', fresh.text)
    assert len(seen) == 2
    done = client.post(
        f"/notices/{first}/acknowledge",
        data={"csrf_token": form_csrf(fresh.text), "seen": seen},
        follow_redirects=False,
    )
    assert done.status_code == 303

    _items(sessions, ["P-SIB-3"], school={"P-SIB-3": "SCHA"})  # a third child, found at school A after that
    assert _make(app, sessions) == (1, 1, 1)
    second = _notice_of(sessions, "P-SIB-3")
    assert second != first
    page = client.get(f"/notices/{second}")
    assert "Your school was told of this incident before" in page.text and f'href="/notices/{first}"' in page.text
    assert "Merryn Tamsett" in page.text and "Rowena" not in page.text
    with sessions() as db:
        assert [c.person_id for c in db.get_one(Notice, first).children] == ["P-SIB-1", "P-SIB-2"]


def test_a_child_whose_parent_was_involved_elsewhere_is_told_of_in_those_words(
    app: FastAPI, client: TestClient, sessions: sessionmaker[Session]
) -> None:
    world = _world(app, sessions)
    _school_covers_incident_rows(sessions)
    _items(sessions, [PARENT_CHILD[0]])
    assert _make(app, sessions) == (1, 1, 1)
    notice_id = _notice_of(sessions, PARENT_CHILD[0])
    with sessions() as db:
        notice = db.get_one(Notice, notice_id)
        assert notice.incident_reference == "INC-0200"
        assert notice.police_contact == "DC 7781 Patel, Public Protection, 01632 960002"
        assert [c.involvement for c in notice.children] == ["parent_elsewhere"]
    login_as(client, sessions, world.users["dsl@scha.example"])
    page = client.get(f"/notices/{notice_id}")
    assert page.status_code == 200
    assert "Idony Brackwell" in page.text
    assert "A parent of this child was involved; the child was not at the address" in page.text
    assert "P-FATHER-9" not in page.text  # the parent is not named, not even by number


def test_the_page_and_the_email_say_what_a_school_needs_and_nothing_more(
    app: FastAPI, client: TestClient, sessions: sessionmaker[Session]
) -> None:
    """Read as the school's designated safeguarding lead reads them: the page says when the incident was, that the
    police attended, who of the school's pupils and how, the police reference and contact; no internal number
    (person, work item or notice), no account of the incident. The email is a link and a deadline only."""
    world = _world(app, sessions)
    _items(sessions, list(PUPILS))
    _make(app, sessions)
    notice_id = _notice_of(sessions, "P-SIB-1")
    login_as(client, sessions, world.users["dsl@scha.example"])
    page = client.get(f"/notices/{notice_id}")
    main = page.text.split("<main", 1)[1].split("</main>", 1)[0]
    words = re.sub(r"<[^>]+>", " ", main)
    for expected in (
        "The police attended a domestic-abuse incident",
        "6 Dec 2026, 22:40",  # the incident's date and time
        INCIDENT,
        CONTACT,
        "Rowena Tamsett",
        "Lowen Tamsett",
        "9 Mar 2015",
        "Present: named on the incident as present, a victim or a witness",
    ):
        assert expected in words, expected
    with sessions() as db:
        items = [c.work_item_id for c in db.get_one(Notice, notice_id).children]
    numbered = [f"notice {notice_id}", f"#{notice_id}", *(f"item {i}" for i in items), *(f"#{i}" for i in items)]
    for never in (*PUPILS, *numbered, "Shouting", "neighbours", "Merryn"):
        assert never.lower() not in words.lower(), never
    listing = re.sub(r"<[^>]+>", " ", client.get("/notices").text.split("<main", 1)[1])
    assert f"notice {notice_id}" not in listing.lower()
    with sessions() as db:
        [email] = db.scalars(select(OutboxMessage).where(OutboxMessage.to_address == "dsl@scha.example")).all()
    assert email.subject == "An Operation Encompass notice is waiting for you"
    assert f"https://hub.example/notices/{notice_id}" in email.body and "not a secure channel" in email.body
    for never in ("Rowena", "Lowen", "Tamsett", INCIDENT, "01632", "22:40", "domestic"):
        assert never not in email.body, never
