"""Operation Encompass notices: made once from the notice work items with the minimum data, one email per
safeguarding lead queued, shown to the school they are for and to no other (404 by page and API, whatever the
number in the URL), acknowledged with time and who, audited."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import duckdb
from fastapi import FastAPI
from fastapi.testclient import TestClient
from notice_support import CHILDREN, add_notice_items, notice_ids, write_school_view
from service_support import SETUP, form_csrf, login_as
from service_world import build_world
from smtp_support import smtp_server
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from commonground.access.accounts import create_user
from commonground.access.models import AuditEvent
from commonground.access.purposes import Purpose
from commonground.access.roles import Role
from commonground.cases.notices import NOTICE_RULE, Notice, NoticeChild, notices_from_work_items
from commonground.cases.outbox import OutboxMessage
from commonground.cases.person_view import PersonView
from commonground.cases.work_items import FlagRecord, RouteTo, WorkItem, WorkItemStatus, upsert_work_items
from commonground.store.db import utcnow
from commonground.store.models import Organisation
from commonground.store.organisation_types import OrganisationType

UK = ZoneInfo("Europe/London")


def _world(app: FastAPI, sessions: sessionmaker[Session]) -> tuple[dict[str, int], dict[str, int]]:
    world = build_world(sessions, with_agreements=True)
    write_school_view(app.state.settings.data_dir)
    add_notice_items(sessions)
    view = app.state.person_views.current()
    with sessions() as db:
        notices_from_work_items(db, view, base_url="https://hub.example")
        db.commit()
    return world.users, notice_ids(sessions)


def test_notices_are_made_once_with_the_minimum_data_and_an_email_per_lead(
    app: FastAPI, sessions: sessionmaker[Session]
) -> None:
    build_world(sessions, with_agreements=True)
    path = write_school_view(app.state.settings.data_dir)
    with sessions() as db:  # a second, active lead at school A, and an inactive one: only the active get email
        school = db.scalars(select(Organisation).where(Organisation.code == "SCHA")).one()
        create_user(
            db,
            email="dsl2@scha.example",
            display_name="dsl2",
            organisation=school,
            role=Role.SCHOOL_SAFEGUARDING_LEAD,
            by=SETUP,
        )
        gone = create_user(
            db,
            email="left@scha.example",
            display_name="left",
            organisation=school,
            role=Role.SCHOOL_SAFEGUARDING_LEAD,
            by=SETUP,
        )
        gone.active = False
        db.commit()
    add_notice_items(sessions)
    view = PersonView(path)
    try:
        with sessions() as db:
            first = notices_from_work_items(db, view, base_url="https://hub.example")
            db.commit()
            again = notices_from_work_items(db, view, base_url="https://hub.example")
            db.commit()
    finally:
        view.close()
    assert (first.created, first.emails_queued, first.no_recipient, first.not_in_view) == (2, 3, 0, 0)
    assert (again.created, again.emails_queued) == (0, 0)
    with sessions() as db:
        children = {c.person_id: c for c in db.scalars(select(NoticeChild))}
        child = children["P-SCHA-4"]
        a = child.notice
        assert [c.person_id for c in a.children] == ["P-SCHA-4"]
        assert child.child_name == "Amberly Quilliam"
        assert child.child_date_of_birth == dt.date(2015, 3, 9)
        assert a.incident_at == dt.datetime(2026, 10, 1, 21, 30, tzinfo=UK).astimezone(dt.UTC)
        assert child.child_present is True and child.involvement == "named"
        assert a.incident_reference == "INC-0004"
        assert a.police_contact == CHILDREN["P-SCHA-4"][4]
        item = db.get_one(WorkItem, child.work_item_id)
        assert a.due_by == item.due_by and a.organisation_id == item.organisation_id
        assert a.sent_at is None and a.acknowledged_at is None
        messages = list(db.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        assert sorted(m.to_address for m in messages) == ["dsl2@scha.example", "dsl@scha.example", "dsl@schb.example"]
        for message in messages:
            assert message.kind == "notice" and message.attempts == 0 and message.sent_at is None
            assert f"https://hub.example/notices/{message.notice_id}" in message.body
            for given, family, *_ in CHILDREN.values():
                assert given not in message.body and family not in message.body
            assert "INC-000" not in message.body and "01632" not in message.body
        created = db.scalars(select(AuditEvent).where(AuditEvent.action == "create-notice")).all()
        assert len(created) == 2


def test_without_a_person_view_nothing_is_made_and_the_items_wait(sessions: sessionmaker[Session]) -> None:
    build_world(sessions, with_agreements=True)
    add_notice_items(sessions)
    with sessions() as db:
        run = notices_from_work_items(db, None)
    assert (run.created, run.not_in_view) == (0, 2)


def test_a_school_sees_its_own_notices_and_never_another_schools(
    app: FastAPI, client: TestClient, sessions: sessionmaker[Session]
) -> None:
    users, ids = _world(app, sessions)
    csrf = login_as(client, sessions, users["dsl@scha.example"])
    page = client.get("/notices")
    assert page.status_code == 200
    assert "Amberly Quilliam" in page.text and "Brennick" not in page.text and "Ostrander" not in page.text
    own = client.get(f"/notices/{ids['P-SCHA-4']}")
    assert own.status_code == 200
    assert "Amberly Quilliam" in own.text and CHILDREN["P-SCHA-4"][4] in own.text and "INC-0004" in own.text
    assert "Verbal argument" not in own.text  # no account of the incident: the minimum data only
    other = ids["P-SCHB-5"]  # changing the number in the URL
    for response in (
        client.get(f"/notices/{other}", headers={"Accept": "text/html"}),
        client.get(f"/api/notices/{other}"),
        client.post(f"/api/notices/{other}/acknowledge", headers={"X-CSRF-Token": csrf}),
        client.post(f"/notices/{other}/acknowledge", data={"csrf_token": csrf}, follow_redirects=False),
    ):
        assert response.status_code == 404, response.request.url
        assert "Brennick" not in response.text and "Ostrander" not in response.text
    listed = client.get("/api/notices").json()
    assert [[c["person_id"] for c in n["children"]] for n in listed["notices"]] == [["P-SCHA-4"]]
    assert listed["withheld"] == 0
    with app.state.sessions() as db:
        notice = db.get_one(Notice, other)
        assert notice.acknowledged_at is None
        refused = db.scalars(
            select(AuditEvent).where(AuditEvent.outcome == "denied", AuditEvent.subject_id == str(other))
        ).all()
        assert len(refused) == 4
        reads = db.scalars(
            select(AuditEvent).where(AuditEvent.action == "view-notices", AuditEvent.outcome == "allowed")
        ).all()
        assert {r.person_id for r in reads} == {"P-SCHA-4"}


def test_other_roles_cannot_see_notices(app: FastAPI, client: TestClient, sessions: sessionmaker[Session]) -> None:
    users, ids = _world(app, sessions)
    login_as(client, sessions, users["hub@la.example"])
    assert client.get("/notices").status_code == 403
    assert client.get(f"/api/notices/{ids['P-SCHA-4']}").status_code == 403


def test_acknowledging_records_when_and_who_and_is_audited(
    app: FastAPI, client: TestClient, sessions: sessionmaker[Session]
) -> None:
    users, ids = _world(app, sessions)
    login_as(client, sessions, users["dsl@scha.example"])
    home = client.get("/")
    assert 'id="notices-waiting">1<' in home.text and "Read your notices" in home.text
    notice_id = ids["P-SCHA-4"]
    page = client.get(f"/notices/{notice_id}")
    assert "Acknowledge" in page.text
    done = client.post(
        f"/notices/{notice_id}/acknowledge", data={"csrf_token": form_csrf(page.text)}, follow_redirects=False
    )
    assert done.status_code == 303 and done.headers["location"] == f"/notices/{notice_id}?done=acknowledged"
    after = client.get(done.headers["location"])
    assert "You have acknowledged the notice." in after.text and "Acknowledged</strong> by dsl" in after.text
    with app.state.sessions() as db:
        notice = db.get_one(Notice, notice_id)
        assert notice.acknowledged_at is not None and notice.acknowledged_by_user_id == users["dsl@scha.example"]
        assert db.get_one(WorkItem, notice.work_item_id).status is WorkItemStatus.CLOSED
        event = db.scalars(select(AuditEvent).where(AuditEvent.action == "acknowledge-notice")).one()
        assert event.actor_user_id == users["dsl@scha.example"] and event.subject_id == str(notice_id)
        assert event.person_id == "P-SCHA-4" and event.purpose == "operation_encompass"
    again = client.post(f"/api/notices/{notice_id}/acknowledge", headers={"X-CSRF-Token": form_csrf(after.text)})
    assert again.status_code == 400
    listing = client.get("/notices")
    assert "No notice is waiting for you." in listing.text and f"/notices/{notice_id}" in listing.text
    assert 'id="notices-waiting">0<' in client.get("/").text


def test_the_administrator_sends_the_outbox_over_smtp(
    app: FastAPI, client: TestClient, sessions: sessionmaker[Session]
) -> None:
    world = build_world(sessions, with_agreements=True)
    write_school_view(app.state.settings.data_dir)
    add_notice_items(sessions)
    with smtp_server() as (mailbox, port):
        app.state.settings = app.state.settings.model_copy(
            update={"smtp_port": port, "smtp_sender": "hub@northshire.example", "public_url": "https://hub.example"}
        )
        csrf = login_as(client, sessions, world.users["admin@la.example"])
        response = client.post("/api/outbox/send", headers={"X-CSRF-Token": csrf})
    assert response.status_code == 200, response.text
    assert response.json() == {
        "notices_created": 2,
        "emails_queued": 2,
        "sent": 2,
        "failed": 0,
        "waiting": 0,
        "notices_without_recipient": 0,
    }
    received = {rcpt[0]: message for rcpt, message in mailbox.messages}
    assert set(received) == {"dsl@scha.example", "dsl@schb.example"}
    body = received["dsl@scha.example"].get_payload()
    assert "https://hub.example/notices/" in body and "not a secure channel" in body
    for given, family, *_ in CHILDREN.values():
        assert given not in str(received["dsl@scha.example"]) and family not in str(received["dsl@scha.example"])
    with app.state.sessions() as db:
        assert all(n.sent_at is not None for n in db.scalars(select(Notice)))
        assert db.scalars(select(AuditEvent).where(AuditEvent.action == "send-notices")).one().detail["sent"] == 2
    login_as(client, sessions, world.users["dsl@scha.example"])
    assert client.post("/api/outbox/send", headers={"X-CSRF-Token": csrf}).status_code == 403


def test_the_notice_shows_the_incident_that_raised_it_with_its_reference_and_contact(
    app: FastAPI, sessions: sessionmaker[Session]
) -> None:
    """#17: a school's notice showed an old incident naming the child instead of yesterday's incident at the
    child's home that raised it, and "police reference: not recorded; contact: not recorded" though the incident
    row has both."""
    build_world(sessions, with_agreements=True)
    path = write_school_view(app.state.settings.data_dir)  # P-SCHA-4 is named on INC-0004, 1 Oct 2026
    con = duckdb.connect(str(path))
    try:
        con.execute(
            "INSERT INTO incidents VALUES ('PI-77', 'INC-0077', TIMESTAMP '2026-12-06 22:40', "
            "'PC 1203 Singh, Safeguarding Hub, 01632 960077')"
        )
    finally:
        con.close()
    with sessions() as db:
        upsert_work_items(
            db,
            [
                FlagRecord(
                    person_id="P-SCHA-4",
                    rule_id=NOTICE_RULE,
                    rule_version="1",
                    route_to=RouteTo(
                        organisation_type=OrganisationType.SCHOOL,
                        role=Role.SCHOOL_SAFEGUARDING_LEAD,
                        organisation="SCHA",
                    ),
                    due_by=utcnow() + dt.timedelta(hours=10),
                    evidence_ids=("police_incident_persons:I4", "police_incidents:PI-77"),
                    purpose=Purpose.OPERATION_ENCOMPASS,
                    episode="2026-12-06T22:40:00",
                )
            ],
            by=SETUP,
        )
        db.commit()
    view = PersonView(path)
    try:
        with sessions() as db:
            notices_from_work_items(db, view, base_url="https://hub.example")
            db.commit()
    finally:
        view.close()
    with sessions() as db:
        [notice] = db.scalars(select(Notice)).all()
        assert notice.incident_at == dt.datetime(2026, 12, 6, 22, 40, tzinfo=UK).astimezone(dt.UTC)
        assert notice.incident_reference == "INC-0077"
        assert notice.police_contact == "PC 1203 Singh, Safeguarding Hub, 01632 960077"
        [child] = notice.children
        assert child.child_present is None  # not named on that incident: not recorded
        assert child.involvement == "at_home"
