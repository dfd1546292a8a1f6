"""Idempotent writes: a note form or a referral sent again with its key (a retry after an error or a lost answer)
is answered with the first answer and stores nothing again; pages put a fresh key in each form they render."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from person_view_fixture import ViewPerson, write_test_view
from service_support import form_csrf, login_as
from service_world import World, build_referral_world
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from commonground.access.models import AuditEvent
from commonground.cases.notes import Note
from commonground.cases.referrals import Referral
from commonground.store.idempotency import IdempotencyKey

PERSON = "P-LA-1"
HUB = "hub@la.example"
LEGAL_BASIS = "Children Act 2004 s11; UK GDPR 6(1)(e) and 9(2)(g); DPA 2018 Sch 1 para 18"
PAGE = f"/people/{PERSON}?purpose=safeguarding_children"


@pytest.fixture
def world(sessions: sessionmaker[Session], settings: Any) -> World:
    world = build_referral_world(sessions, partners=("DAS",))
    data_dir: Path = settings.data_dir
    write_test_view(
        data_dir,
        [ViewPerson(PERSON, "Testgiven", "Zedtest", dt.date(2012, 5, 1), "police_incident_persons", "I1")],
    )
    return world


def _count(sessions: sessionmaker[Session], model: Any) -> int:
    with sessions() as db:
        return db.scalar(select(func.count()).select_from(model)) or 0


def _note_form(client: TestClient) -> dict[str, str]:
    page = client.get(PAGE)
    assert page.status_code == 200, page.text[:500]
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page.text)
    assert key is not None, "the note form has no idempotency key"
    return {"csrf_token": form_csrf(page.text), "purpose": "safeguarding_children", "idempotency_key": key.group(1)}


def test_a_note_sent_twice_with_its_key_is_added_once(
    client: TestClient, sessions: sessionmaker[Session], world: World
) -> None:
    login_as(client, sessions, world.users[HUB])
    form = {**_note_form(client), "text": "Spoke with the school; no further concerns today."}
    first = client.post(f"/people/{PERSON}/notes", data=form, follow_redirects=False)
    again = client.post(f"/people/{PERSON}/notes", data=form, follow_redirects=False)
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"]
    assert _count(sessions, Note) == 1
    other = _note_form(client)
    assert other["idempotency_key"] != form["idempotency_key"]  # each rendered form has its own
    assert client.post(f"/people/{PERSON}/notes", data={**other, "text": "A second note."}).status_code == 200
    assert _count(sessions, Note) == 2


def test_a_refused_or_mistaken_write_forgets_its_key(
    client: TestClient, sessions: sessionmaker[Session], world: World
) -> None:
    login_as(client, sessions, world.users[HUB])
    form = _note_form(client)
    bad = client.post(f"/people/{PERSON}/notes", data={**form, "purpose": "nonsense", "text": "x"})
    assert bad.status_code == 400
    fixed = client.post(f"/people/{PERSON}/notes", data={**form, "text": "The corrected note."}, follow_redirects=False)
    assert fixed.status_code == 303 and _count(sessions, Note) == 1


def _referral(world: World) -> dict[str, Any]:
    return {
        "work_item_id": world.items[PERSON],
        "to_organisation_id": world.organisations["DAS"],
        "summary": "Repeated incidents at home; please offer the family support.",
        "consent": "not_needed",
        "consent_note": "safeguarding: consent would place the child at risk",
        "lawful_basis": LEGAL_BASIS,
        "items": [{"feed": "police_incident_persons", "record_id": "I1"}],  # the record behind the flag
    }


def test_an_api_referral_sent_twice_with_its_key_is_made_once(
    app: FastAPI, client: TestClient, sessions: sessionmaker[Session], world: World
) -> None:
    csrf = login_as(client, sessions, world.users[HUB])
    headers = {"X-CSRF-Token": csrf, "Idempotency-Key": "0b6f1c3e-retry-1"}
    first = client.post("/api/referrals", json=_referral(world), headers=headers)
    again = client.post("/api/referrals", json=_referral(world), headers=headers)
    assert first.status_code == again.status_code == 201, first.text
    assert first.json() == again.json()
    assert _count(sessions, Referral) == 1
    elsewhere = client.post("/api/organisations", json={"code": "X", "name": "X", "type": "nhs_trust"}, headers=headers)
    assert elsewhere.status_code in (403, 422)  # a key is for one request; this one may not add organisations anyway
    assert (
        client.post("/api/referrals", json=_referral(world), headers={**headers, "Idempotency-Key": "a b"}).status_code
        == 400
    )
    assert _count(sessions, Referral) == 1


def test_the_referral_form_carries_a_key_and_a_retry_makes_one_referral(
    client: TestClient, sessions: sessionmaker[Session], world: World
) -> None:
    login_as(client, sessions, world.users[HUB])
    choice = f"{world.organisations['DAS']}:safeguarding_children"  # the form's second step: partner and purpose
    page = client.get(f"/referrals/new?work_item={world.items[PERSON]}&choice={choice}")
    assert page.status_code == 200, page.text[:300]
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page.text)
    assert key is not None, "the referral form has no idempotency key"
    form = {
        "csrf_token": form_csrf(page.text),
        "idempotency_key": key.group(1),
        "work_item": str(world.items[PERSON]),
        "to_organisation": str(world.organisations["DAS"]),
        "summary": "Repeated incidents at home; please offer the family support.",
        "consent": "not_needed",
        "consent_note": "safeguarding: consent would place the child at risk",
        "lawful_basis": LEGAL_BASIS,
        "purpose": "safeguarding_children",
        "items": "police_incident_persons:I1",
    }
    first = client.post("/referrals", data=form, follow_redirects=False)
    again = client.post("/referrals", data=form, follow_redirects=False)
    assert first.status_code == again.status_code == 303, first.text[:500]
    assert first.headers["location"] == again.headers["location"]
    assert _count(sessions, Referral) == 1
    assert _count(sessions, IdempotencyKey) == 1


def _form_key(html: str, action: str, *, containing: str) -> str:
    """The idempotency key of the form on a page that posts to ``action`` and holds a field named ``containing``."""
    forms = re.findall(rf'<form method="post" action="{re.escape(action)}"[^>]*>(.*?)</form>', html, re.S)
    form = next((f for f in forms if f'name="{containing}"' in f), None)
    assert form is not None, f"no form posting to {action} with {containing}"
    key = re.search(r'name="idempotency_key" value="([^"]+)"', form)
    assert key is not None, f"the form posting to {action} has no idempotency key"
    return key.group(1)


def test_closing_a_work_item_twice_with_its_key_closes_it_once(
    client: TestClient, sessions: sessionmaker[Session], world: World
) -> None:
    """Every form that changes something sends a key, not only the note and referral forms: a double click on
    "Close" is answered with the first answer, not with "a closed item cannot be closed"."""
    login_as(client, sessions, world.users[HUB])
    item = world.items[PERSON]
    page = client.get(f"/queue/{item}")
    assert page.status_code == 200, page.text[:300]
    form = {
        "csrf_token": form_csrf(page.text),
        "idempotency_key": _form_key(page.text, f"/queue/{item}", containing="outcome_code"),
        "do": "close",
        "outcome_code": "no_concern",
        "outcome": "Known to the school; nothing more is needed.",
    }
    first = client.post(f"/queue/{item}", data=form, follow_redirects=False)
    again = client.post(f"/queue/{item}", data=form, follow_redirects=False)
    assert first.status_code == again.status_code == 303, again.text[:300]
    assert first.headers["location"] == again.headers["location"]
    with sessions() as db:
        updates = db.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "update-work-item"))
    assert updates == 1


def test_search_and_download_forms_can_be_sent_again(
    client: TestClient, sessions: sessionmaker[Session], world: World
) -> None:
    """A form that only reads (the subject access search, break glass) carries no key: sending it again reads
    again rather than answering "already received"."""
    login_as(client, sessions, world.users[HUB])
    page = client.get(f"/people/{PERSON}")
    assert 'action="/people/P-LA-1/break-glass"' in page.text
    glass = re.search(r'action="/people/P-LA-1/break-glass"[^>]*>(.*?)</form>', page.text, re.S)
    assert glass is not None and "idempotency_key" not in glass.group(1)


READ_OR_DOWNLOAD_FORMS = {"/people/{{ person_id }}/break-glass", "/subject-access/search", "/subject-access"}


def test_every_form_that_changes_something_sends_a_key() -> None:
    """The ``csrf()`` macro adds the key; only forms that read or download leave it out, and they are named here."""
    templates = Path(__file__).parents[2] / "src" / "commonground" / "web" / "templates"
    left_out: set[str] = set()
    for template in templates.glob("*.html"):
        text = template.read_text()
        for call in re.finditer(r"\{\{ csrf\(once=false\) \}\}", text):
            form = text[text.rfind("<form", 0, call.start()) : call.start()]
            action = re.search(r'action="([^"]+)"', form)
            assert action is not None, f"{template.name}: a form without an action leaves out its key"
            left_out.add(action.group(1))
    assert left_out == READ_OR_DOWNLOAD_FORMS
