"""Linking a local evaluation to a library entry is one operation (whatworks.local_evaluations.link_evaluation),
whether from the entry's page or from an evaluation's result: called directly with a Context it links once and
audits once; from either page it links the same way; an entry the person may not see is not found, and a role
that may not link is refused and audited."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from service_support import SETUP, context_of, form_csrf, login_as
from service_world import World, build_world
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from commonground.access.audit import Actor
from commonground.access.models import AuditEvent
from commonground.errors import NotFound, Refused, UserError
from commonground.whatworks import library as lib
from commonground.whatworks.local_evaluations import link_evaluation, local_evaluations
from commonground.whatworks.models import LibraryEntry, LocalEvaluation
from commonground.whatworks.seed import seed_library


@pytest.fixture
def world(sessions: sessionmaker[Session]) -> World:
    return build_world(sessions, with_agreements=False)


@pytest.fixture
def published(sessions: sessionmaker[Session], world: World) -> int:
    with sessions() as db:
        entry_id = seed_library(db, SETUP)[0].id
        db.commit()
    return entry_id


def _links(db: Session) -> list[AuditEvent]:
    return [
        e
        for e in db.scalars(select(AuditEvent).where(AuditEvent.action == "review-library-entry"))
        if "local_evaluation_id" in e.detail
    ]


def test_linked_once_and_audited_once(sessions: sessionmaker[Session], world: World, published: int) -> None:
    with sessions() as db:
        hub = context_of(db, world.users["hub@la.example"])
        with pytest.raises(UserError) as figures:
            link_evaluation(
                hub, entry_id=published, title="Result", summary="", evaluated_on=dt.date(2026, 11, 1), figures="x"
            )
        assert figures.value.field == "figures"
        linked = link_evaluation(
            hub,
            entry_id=published,
            title=" Repeat crisis within six months ",
            summary="Matched comparison.",
            evaluated_on=dt.date(2026, 11, 1),
            figures="estimate: -0.08\nn_treated: 212\nbuild: b7",
            reference="run 7",
        )
        assert (linked.title, linked.figures) == (
            "Repeat crisis within six months",
            {"estimate": -0.08, "n_treated": 212, "build": "b7"},
        )
    with sessions() as db:
        assert [e.title for e in local_evaluations(db, db.get_one(LibraryEntry, published))] == [linked.title]
        [event] = _links(db)
        assert (event.subject_id, event.detail) == (str(published), {"local_evaluation_id": linked.id})


def test_an_entry_not_seen_is_not_found_and_a_role_not_granted_is_refused(
    sessions: sessionmaker[Session], world: World, published: int
) -> None:
    officer = world.users["officer@pol.example"]
    with sessions() as db:
        draft = lib.create_entry(
            db,
            fields=lib.EntryFields(
                title="Someone's draft",
                summary="S",
                problem="violence",
                age_band="adults",
                setting="community",
                need_level="universal",
            ),
            by=Actor(label="officer@pol.example", user_id=officer),
        )
        db.commit()
        hub = context_of(db, world.users["hub@la.example"])
        with pytest.raises(NotFound):
            link_evaluation(hub, entry_id=draft.id, title="R", summary="", evaluated_on=dt.date(2026, 1, 1), figures="")
        with pytest.raises(Refused):
            link_evaluation(
                context_of(db, officer),
                entry_id=published,
                title="R",
                summary="",
                evaluated_on=dt.date(2026, 1, 1),
                figures="",
            )
    with sessions() as db:
        assert db.scalars(select(LocalEvaluation)).all() == []
        denied = db.scalars(
            select(AuditEvent).where(AuditEvent.action == "review-library-entry", AuditEvent.outcome == "denied")
        ).all()
        assert [e.actor_user_id for e in denied] == [officer]


def test_either_page_links_the_same_way(
    client: TestClient, sessions: sessionmaker[Session], world: World, published: int
) -> None:
    login_as(client, sessions, world.users["hub@la.example"])
    token = form_csrf(client.get(f"/library/{published}").text)
    form = {"csrf_token": token, "title": "Local result", "evaluated_on": "2026-11-01", "figures": "estimate: -0.1"}
    from_entry = client.post(f"/library/{published}/evaluations", data=form, follow_redirects=False)
    from_result = client.post("/evaluations/link", data={**form, "entry_id": str(published)}, follow_redirects=False)
    for linked in (from_entry, from_result):
        assert linked.status_code == 303
        assert linked.headers["location"] == f"/library/{published}?done=evaluation-linked#local"
    with sessions() as db:
        rows = db.scalars(select(LocalEvaluation).order_by(LocalEvaluation.id)).all()
        assert [(r.entry_id, r.title, r.figures) for r in rows] == [(published, "Local result", {"estimate": -0.1})] * 2
        assert len(_links(db)) == 2
    missing = client.post("/evaluations/link", data={**form, "entry_id": "2000000"}, follow_redirects=False)
    assert missing.status_code == 404
