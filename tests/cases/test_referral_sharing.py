"""Referrals that share item by item (#16, #17): the sender chooses the records, among those they may open and the
partner could receive; the partner opens those records, and no others of the person, for the referral's purpose
only, and only while the referral is with it; the form offers only the partners and purposes that can work; a
response deadline within limits, overdue referrals shown to the receiver; a referral made from the person's page.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import duckdb
import pytest
from fastapi import FastAPI
from person_view_fixture import ViewPerson, write_test_view
from referral_support import FEED, FLAG_RECORD, HUB, OTHER_RECORD, PARTNER, PERSON, SUMMARY, As, body, refer
from service_support import SETUP, form_csrf
from service_world import World, build_referral_world
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from commonground.access.actions import SubjectKind
from commonground.access.agreements import About, AgreementSpec, create_agreement
from commonground.access.audit import verify_audit
from commonground.access.models import AuditEvent, PersonRelationship
from commonground.access.purposes import Purpose
from commonground.access.resolver import AgreementTerms, Principal, Subject, resolve
from commonground.access.roles import Role
from commonground.cases.person_documents import DOCUMENTS_FILE, write_person_documents
from commonground.cases.referrals import LONGEST_RESPONSE, RESPONSE_DAYS, Referral
from commonground.store.organisation_types import OrganisationType
from commonground.store.settings import HubSettings

CHILDREN = "safeguarding_children"


def _world(sessions: sessionmaker[Session], settings: HubSettings) -> World:
    """The referral world (the drug and alcohol service has an agreement about the cases referred to it), a
    person view in which the child has two police records (the flag's, and another), and for the service an
    agreement about its own cases for another purpose too."""
    world = build_referral_world(sessions, partners=("DAS",))
    _write_view(Path(settings.data_dir))
    with sessions() as db:
        create_agreement(
            db,
            spec=AgreementSpec(
                reference="DSA-DAS-ADULTS",
                title="Adults referred to the recovery service",
                organisation="DAS",
                feeds=(FEED,),
                about=(About.OWN_CASES,),
                purposes=(Purpose.SAFEGUARDING_ADULTS,),
                lawful_basis="UK GDPR 6(1)(e); Care Act 2014 s42",
                valid_from=dt.date(2020, 1, 1),
            ),
            by=SETUP,
        )
        db.commit()
    return world


def _write_view(data_dir: Path) -> None:
    path = write_test_view(data_dir, [ViewPerson(PERSON, "Alex", "Example", dt.date(2012, 5, 1), FEED, FLAG_RECORD)])
    con = duckdb.connect(str(path))
    try:
        con.execute(
            "INSERT INTO records VALUES (?, ?, ?, 0.99, 'Alex', 'Example', '2012-05-01', 'F', 'QX1 1AA', "
            "'1 Test Street', NULL)",
            [PERSON, FEED, OTHER_RECORD],
        )
        con.execute(
            "INSERT INTO events VALUES (?, ?, ?, ?, ?)",
            [PERSON, FEED, OTHER_RECORD, dt.datetime(2025, 3, 2, 10, 0), json.dumps({"role": "witness"})],
        )
        write_person_documents(con, path.parent / DOCUMENTS_FILE)
    finally:
        con.close()


def _person(client: As, purpose: str = CHILDREN) -> Any:
    return client.get(f"/api/people/{PERSON}?purpose={purpose}")


def _records(answer: Any) -> list[str]:
    return sorted(r["record_id"] for r in answer.json()["records"])


# --- what the partner opens -----------------------------------------------------------------------------------------


def test_the_partner_opens_only_the_shared_record_for_the_purpose_while_the_referral_is_with_it(
    app: FastAPI, sessions: sessionmaker[Session], settings: HubSettings
) -> None:
    """A partner that was sent a referral opened the whole record, for any purpose, for ever (#16); now it opens
    the records the sender chose, for the referral's purpose, until the referral is rejected."""
    world = _world(sessions, settings)
    partner = As(app, sessions, world, PARTNER)
    assert _person(partner).status_code == 404  # nothing before the referral
    hub, rid = refer(app, sessions, world)
    assert _records(_person(hub)) == [FLAG_RECORD, OTHER_RECORD]  # the sender sees both

    opened = _person(partner)
    assert opened.status_code == 200, opened.text
    assert _records(opened) == [FLAG_RECORD] and opened.json()["shared_only"] is True
    assert [e["record_id"] for e in opened.json()["events"]] == [FLAG_RECORD]

    # For another purpose its agreements open the person (substance-misuse records, about everyone, and its own
    # cases' police records): but the record shared for safeguarding children is not among them.
    other_purpose = _person(partner, "safeguarding_adults")
    assert other_purpose.status_code == 200 and _records(other_purpose) == []
    assert other_purpose.json()["shared_only"] is False

    rejected = partner.post(f"/api/referrals/{rid}/transitions", json={"step": "reject", "note": "Not ours."})
    assert rejected.status_code == 200
    assert _person(partner).status_code == 404  # rejecting it ended what it opened
    assert partner.get(f"/api/referrals/{rid}").status_code == 403

    with sessions() as db:  # every read audited, a referral makes no relationship any more
        reads = db.scalars(
            select(AuditEvent).where(AuditEvent.action == "view-person", AuditEvent.person_id == PERSON)
        ).all()
        assert [r.outcome for r in reads].count("allowed") == 3 and "denied" in {r.outcome for r in reads}
        assert db.scalars(select(PersonRelationship).where(PersonRelationship.source == "referrals")).all() == []
        assert verify_audit(db).ok


def test_a_closed_referral_opens_nothing_more_and_the_sender_still_sees_what_it_shared(
    app: FastAPI, sessions: sessionmaker[Session], settings: HubSettings
) -> None:
    world = _world(sessions, settings)
    hub, rid = refer(app, sessions, world)
    partner = As(app, sessions, world, PARTNER)
    page = partner.get(f"/referrals/{rid}")
    assert page.status_code == 200 and 'id="shared-items"' in page.text
    assert "The rest of the person's record is not shared with you" in page.text
    for step in ({"step": "accept"}, {"step": "close", "note": "Seen twice; engaged with support."}):
        assert partner.post(f"/api/referrals/{rid}/transitions", json=step).status_code == 200
    assert _person(partner).status_code == 404
    sent = hub.get(f"/referrals/{rid}")
    assert 'id="shared-items"' in sent.text and "The records you shared with Northshire Recovery Service" in sent.text
    made = hub.get(f"/api/referrals/{rid}").json()
    assert made["shared_items"] == [{"feed": FEED, "record_id": FLAG_RECORD}]


def test_the_partners_person_page_shows_the_shared_record_and_says_the_rest_is_not_shared(
    app: FastAPI, sessions: sessionmaker[Session], settings: HubSettings
) -> None:
    world = _world(sessions, settings)
    refer(app, sessions, world, items=[{"feed": FEED, "record_id": OTHER_RECORD}])
    partner = As(app, sessions, world, PARTNER)
    question = partner.get(f"/people/{PERSON}")
    assert 'value="safeguarding_children"' in question.text  # the referral's purpose is offered
    assert 'value="crime_prevention"' not in question.text  # nothing opens the record for another
    page = partner.get(f"/people/{PERSON}?purpose={CHILDREN}")
    assert page.status_code == 200, page.text
    assert 'id="shared-only"' in page.text and "The rest of their record is not shared with you" in page.text
    assert f"<code>{OTHER_RECORD}</code>" in page.text and f"<code>{FLAG_RECORD}</code>" not in page.text


# --- what the sender may share --------------------------------------------------------------------------------------


def test_the_sender_shares_only_records_they_may_open_that_the_partner_could_receive(
    app: FastAPI, sessions: sessionmaker[Session], settings: HubSettings
) -> None:
    world = _world(sessions, settings)
    hub = As(app, sessions, world, HUB)
    none = hub.post("/api/referrals", json=body(world, items=[]))
    assert none.status_code == 422
    unknown = hub.post("/api/referrals", json=body(world, items=[{"feed": FEED, "record_id": "I77"}]))
    assert unknown.status_code == 400 and "choose only records of this person" in unknown.json()["detail"]
    health = hub.post("/api/referrals", json=body(world, items=[{"feed": "mental_health_contacts", "record_id": "M1"}]))
    assert health.status_code == 403  # the sender's own agreements do not open such records (audited)
    both = hub.post(
        "/api/referrals",
        json=body(world, items=[{"feed": FEED, "record_id": FLAG_RECORD}, {"feed": FEED, "record_id": OTHER_RECORD}]),
    )
    assert both.status_code == 201, both.text
    assert [i["record_id"] for i in both.json()["shared_items"]] == [FLAG_RECORD, OTHER_RECORD]
    with sessions() as db:
        assert verify_audit(db).ok


def test_the_form_offers_only_partners_and_purposes_that_can_work_and_records_one_by_one(
    app: FastAPI, sessions: sessionmaker[Session], settings: HubSettings
) -> None:
    world = _world(sessions, settings)
    hub = As(app, sessions, world, HUB)
    item = world.items[PERSON]
    choose = hub.get(f"/referrals/new?work_item={item}")
    assert choose.status_code == 200, choose.text
    das = world.organisations["DAS"]
    assert f'value="{das}:{CHILDREN}"' in choose.text
    assert f'value="{das}:safeguarding_adults"' not in choose.text  # the hub may not open the record for it
    for code in ("POL", "NHS", "SCHB", "PHT"):  # no agreement that could receive a police record for the purpose
        assert f'value="{world.organisations[code]}:' not in choose.text
    form = hub.get(f"/referrals/new?work_item={item}&choice={das}:{CHILDREN}")
    assert form.status_code == 200, form.text
    for record in (FLAG_RECORD, OTHER_RECORD):
        assert f'name="items" type="checkbox" value="{FEED}:{record}"' in form.text
    assert " checked" not in form.text.split('name="items"')[1].split(">")[0]  # nothing chosen for the sender
    refused = hub.get(f"/referrals/new?work_item={item}&choice={world.organisations['POL']}:{CHILDREN}")
    assert refused.status_code == 400 and "Choose a partner and a purpose from the list" in refused.text


def test_a_referral_is_made_from_the_person_page(
    app: FastAPI, sessions: sessionmaker[Session], settings: HubSettings
) -> None:
    world = _world(sessions, settings)
    hub = As(app, sessions, world, HUB)
    person = hub.get(f"/people/{PERSON}?purpose={CHILDREN}")
    assert f'href="/referrals/new?person={PERSON}"' in person.text
    das = world.organisations["DAS"]
    form = hub.get(f"/referrals/new?person={PERSON}&choice={das}:{CHILDREN}")
    assert form.status_code == 200, form.text
    fields = {
        "csrf_token": form_csrf(form.text),
        "person": PERSON,
        "to_organisation": str(das),
        "purpose": CHILDREN,
        "summary": SUMMARY,
        "consent": "given",
        "lawful_basis": "UK GDPR 6(1)(e); Children Act 2004 s11",
        "respond_by": (dt.date.today() + dt.timedelta(days=3)).isoformat(),
    }
    nothing = hub.client.post("/referrals", data=fields, follow_redirects=False)
    assert nothing.status_code == 400 and "Choose at least one record to share" in nothing.text
    assert SUMMARY in nothing.text  # what was typed is kept
    sent = hub.client.post("/referrals", data={**fields, "items": f"{FEED}:{OTHER_RECORD}"}, follow_redirects=False)
    assert sent.status_code == 303, sent.text
    with sessions() as db:
        referral = db.scalars(select(Referral)).one()
        assert referral.work_item_id is None and referral.items == [(FEED, OTHER_RECORD)]
        assert referral.respond_by == dt.date.today() + dt.timedelta(days=3)
    unknown = hub.get("/referrals/new?person=P-NOBODY")
    assert unknown.status_code == 404


# --- the response deadline ------------------------------------------------------------------------------------------


def test_the_response_deadline_is_within_limits_and_an_overdue_referral_shows_to_the_receiver(
    app: FastAPI, sessions: sessionmaker[Session], settings: HubSettings
) -> None:
    world = _world(sessions, settings)
    hub = As(app, sessions, world, HUB)
    today = dt.date.today()
    past = hub.post("/api/referrals", json=body(world, respond_by=(today - dt.timedelta(days=1)).isoformat()))
    assert past.status_code == 400 and "cannot be in the past" in past.json()["detail"]
    late = today + dt.timedelta(days=LONGEST_RESPONSE + 1)
    too_late = hub.post("/api/referrals", json=body(world, respond_by=late.isoformat()))
    assert too_late.status_code == 400 and f"at most {LONGEST_RESPONSE} days" in too_late.json()["detail"]
    _, rid = refer(app, sessions, world)
    made = hub.get(f"/api/referrals/{rid}").json()
    assert made["respond_by"] == (today + dt.timedelta(days=RESPONSE_DAYS)).isoformat()
    assert made["overdue"] is False

    partner = As(app, sessions, world, PARTNER)
    assert "past the response deadline" not in partner.get("/").text
    with sessions() as db:  # as if sent weeks ago and never answered
        db.execute(update(Referral).where(Referral.id == rid).values(respond_by=today - dt.timedelta(days=2)))
        db.commit()
    assert partner.get(f"/api/referrals/{rid}").json()["overdue"] is True
    home = partner.get("/")
    assert 'id="referrals-overdue"' in home.text and "1 is past the response deadline" in home.text
    listing = partner.get("/referrals")
    assert 'id="overdue"' in listing.text and "Overdue" in listing.text
    assert partner.post(f"/api/referrals/{rid}/transitions", json={"step": "accept"}).status_code == 200
    assert partner.get(f"/api/referrals/{rid}").json()["overdue"] is False  # answered: no longer overdue


# --- the resolver ---------------------------------------------------------------------------------------------------


class SharedFacts:
    """An organisation with an agreement about its own cases, and one record shared with it for one purpose."""

    def __init__(self, shares: dict[Purpose, frozenset[tuple[str, str]]]) -> None:
        self._shares = shares

    def agreements_in_force(self, *, organisation_id: int, at: dt.datetime) -> list[AgreementTerms]:
        return [
            AgreementTerms(
                reference="DSA-OWN",
                feeds=frozenset({FEED, "substance_treatment"}),
                about=frozenset({About.OWN_CASES}),
                purposes=frozenset({Purpose.SAFEGUARDING_CHILDREN, Purpose.SAFEGUARDING_ADULTS}),
            )
        ]

    def relationships(self, *, person_id: str, organisation_id: int, at: dt.datetime) -> frozenset[About]:
        return frozenset()

    def relationships_of_each(
        self, *, person_ids: Any, organisation_id: int, at: dt.datetime
    ) -> dict[str, frozenset[About]]:
        return {p: frozenset() for p in person_ids}

    def shares(self, *, person_id: str, organisation_id: int, at: dt.datetime) -> Any:
        return self._shares if person_id == PERSON else {}


@pytest.mark.parametrize(
    ("feeds", "purpose", "person", "allowed"),
    [
        (frozenset(), Purpose.SAFEGUARDING_CHILDREN, PERSON, True),  # the person, for the referral's purpose
        (frozenset({FEED}), Purpose.SAFEGUARDING_CHILDREN, PERSON, True),  # the referral's own records
        (frozenset(), Purpose.SAFEGUARDING_ADULTS, PERSON, False),  # another purpose
        (frozenset({"substance_treatment"}), Purpose.SAFEGUARDING_CHILDREN, PERSON, False),  # a record not shared
        (frozenset(), Purpose.SAFEGUARDING_CHILDREN, "P-OTHER", False),  # another person
    ],
)
def test_the_resolver_opens_shared_records_for_their_purpose_only(
    feeds: frozenset[str], purpose: Purpose, person: str, allowed: bool
) -> None:
    facts = SharedFacts({Purpose.SAFEGUARDING_CHILDREN: frozenset({(FEED, FLAG_RECORD)})})
    me = Principal(
        user_id=1,
        label="team@das.example",
        organisation_id=6,
        organisation_type=OrganisationType.DRUG_ALCOHOL_SERVICE,
        role=Role.PARTNER_TEAM_MEMBER,
    )
    subject = Subject(kind=SubjectKind.PERSON, id=person, person_id=person, feeds=feeds)
    decision = resolve(
        "view-person", principal=me, facts=facts, at=dt.datetime.now(dt.UTC), subject=subject, purpose=purpose
    )
    assert decision.allowed is allowed, decision.reason
