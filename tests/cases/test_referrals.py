"""Referrals: the state machine (every step from every status, from its one table), the API (made from a flag, a
partner accepts, acts, transfers and closes; a third organisation gets 404; every step audited and the chain
whole) and the pages (made, accepted and closed by form posts with CSRF)."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from types import SimpleNamespace

import pytest
from fastapi import FastAPI
from referral_support import (
    FEED,
    FLAG_RECORD,
    HUB,
    LEGAL_BASIS,
    OFFICER,
    PARTNER,
    PERSON,
    SCHOOL,
    TRIAGE,
    AdultView,
    As,
    FakeView,
    refer,
)
from referral_support import body as _body
from service_support import SETUP, form_csrf
from service_world import World, build_referral_world, referred_cases_agreement
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from commonground.access.agreements import create_agreement, end_agreement
from commonground.access.audit import Actor, verify_audit
from commonground.access.models import Agreement, AuditEvent, RecordShare, User
from commonground.access.purposes import Purpose
from commonground.access.relationships import shared_with
from commonground.cases.referrals import (
    NOTE_REQUIRED,
    REFERRAL_ACCESS,
    TRANSITIONS,
    Consent,
    NewReferral,
    Referral,
    ReferralEvent,
    ReferralStatus,
    Step,
    allowed_steps,
    next_status,
    send_referral,
    take_step,
)
from commonground.cases.work_items import WorkItem
from commonground.errors import UserError
from commonground.store.db import utcnow

SHAREABLE = frozenset({(FEED, FLAG_RECORD)})

STATUSES: list[ReferralStatus | None] = [None, *ReferralStatus]


# --- the state machine, from its one table -------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "step"), list(itertools.product(STATUSES, Step)))
def test_every_step_from_every_status_is_allowed_or_refused_by_the_table(
    status: ReferralStatus | None, step: Step
) -> None:
    if step in TRANSITIONS[status]:
        assert next_status(status, step) is TRANSITIONS[status][step]
        assert step in allowed_steps(status)
    else:
        with pytest.raises(UserError, match="cannot be given the step"):
            next_status(status, step)
        assert step not in allowed_steps(status)


def test_the_table_is_the_workflow() -> None:
    assert set(TRANSITIONS) == set(STATUSES)
    assert TRANSITIONS[None] == {Step.SEND: ReferralStatus.SENT}
    assert TRANSITIONS[ReferralStatus.SENT] == {
        Step.ACCEPT: ReferralStatus.ACCEPTED,
        Step.REJECT: ReferralStatus.REJECTED,
        Step.TRANSFER: ReferralStatus.SENT,
    }
    assert TRANSITIONS[ReferralStatus.ACCEPTED] == {
        Step.RECORD_ACTION: ReferralStatus.ACCEPTED,
        Step.TRANSFER: ReferralStatus.SENT,
        Step.CLOSE: ReferralStatus.CLOSED,
    }
    assert TRANSITIONS[ReferralStatus.REJECTED] == {}
    assert TRANSITIONS[ReferralStatus.CLOSED] == {}
    assert set(NOTE_REQUIRED) == {Step.REJECT, Step.TRANSFER, Step.RECORD_ACTION, Step.CLOSE}


# --- the partnership ------------------------------------------------------------------------------------------------


def _world(sessions: sessionmaker[Session], *, partners: tuple[str, ...] = ("DAS", "NHS")) -> World:
    return build_referral_world(sessions, partners=partners)


def _actor(db: Session, world: World, email: str) -> Actor:
    user = db.get_one(User, world.users[email])
    return Actor(label=email, user_id=user.id, organisation_id=user.organisation_id, role=user.role.value)


def _new(world: World, to: str = "DAS", consent: Consent = Consent.GIVEN, note: str | None = None) -> NewReferral:
    return NewReferral(
        to_organisation_id=world.organisations[to],
        summary="Repeated incidents at home; please offer the family support.",
        consent=consent,
        consent_note=note,
        lawful_basis=LEGAL_BASIS,
        purpose=Purpose.SAFEGUARDING_CHILDREN,
        items=((FEED, FLAG_RECORD),),
    )


def _send(db: Session, item: WorkItem, by: Actor, new: NewReferral) -> Referral:
    return send_referral(db, item=item, by=by, new=new, shareable=SHAREABLE)


def test_each_allowed_step_is_recorded_with_who_when_and_the_statuses(sessions: sessionmaker[Session]) -> None:
    world = _world(sessions)
    with sessions() as db:
        item = db.get_one(WorkItem, world.items[PERSON])
        hub, das, nhs = (_actor(db, world, e) for e in (HUB, PARTNER, TRIAGE))
        referral = _send(db, item, hub, _new(world))
        walk = [
            (das, Step.ACCEPT, None, None),
            (das, Step.RECORD_ACTION, "Visited the family; support plan agreed.", None),
            (das, Step.TRANSFER, "The mental-health team is better placed.", world.organisations["NHS"]),
            (nhs, Step.ACCEPT, None, None),
            (nhs, Step.CLOSE, "Support delivered; no further concerns.", None),
        ]
        for actor, step, note, to in walk:
            take_step(db, referral=referral, step=step, by=actor, note=note, to_organisation_id=to)
        db.commit()
        events = list(db.scalars(select(ReferralEvent).where(ReferralEvent.referral_id == referral.id)))
        assert [(e.step, e.from_status, e.to_status) for e in events] == [
            (Step.SEND, None, ReferralStatus.SENT),
            (Step.ACCEPT, ReferralStatus.SENT, ReferralStatus.ACCEPTED),
            (Step.RECORD_ACTION, ReferralStatus.ACCEPTED, ReferralStatus.ACCEPTED),
            (Step.TRANSFER, ReferralStatus.ACCEPTED, ReferralStatus.SENT),
            (Step.ACCEPT, ReferralStatus.SENT, ReferralStatus.ACCEPTED),
            (Step.CLOSE, ReferralStatus.ACCEPTED, ReferralStatus.CLOSED),
        ]
        assert [e.organisation_id for e in events] == [
            world.organisations[c] for c in ("LA", "DAS", "DAS", "DAS", "NHS", "NHS")
        ]
        assert events[3].to_organisation_id == world.organisations["NHS"]
        assert referral.status is ReferralStatus.CLOSED and referral.closed_at is not None
        assert referral.outcome == "Support delivered; no further concerns."
        assert referral.to_organisation_id == world.organisations["NHS"]
        for code in ("DAS", "NHS"):  # transferred away from one, closed by the other: neither opens it now (#16)
            assert shared_with(db, person_id=PERSON, organisation_id=world.organisations[code], at=utcnow()) == {}
        audited = list(db.scalars(select(AuditEvent).where(AuditEvent.subject_type == "referral")))
        assert [a.detail["step"] for a in audited] == [e.step.value for e in events]
        assert {a.action for a in audited} == {"make-referral", "handle-referral"}
        assert verify_audit(db).ok


@pytest.mark.parametrize(
    ("step", "message"),
    [
        (Step.REJECT, "a reason for rejecting"),
        (Step.TRANSFER, "a reason for transferring"),
        (Step.RECORD_ACTION, "what was done"),
        (Step.CLOSE, "the outcome"),
    ],
)
def test_a_step_that_needs_a_note_is_refused_without_one(
    sessions: sessionmaker[Session], step: Step, message: str
) -> None:
    world = _world(sessions, partners=("DAS",))
    with sessions() as db:
        item = db.get_one(WorkItem, world.items[PERSON])
        referral = _send(db, item, _actor(db, world, HUB), _new(world))
        das = _actor(db, world, PARTNER)
        if step in (Step.RECORD_ACTION, Step.CLOSE):
            take_step(db, referral=referral, step=Step.ACCEPT, by=das)
        before = referral.status
        with pytest.raises(UserError, match=message):
            take_step(
                db, referral=referral, step=step, by=das, note="  ", to_organisation_id=world.organisations["NHS"]
            )
        assert referral.status is before


def test_refused_steps_change_nothing_and_only_the_receiver_acts(sessions: sessionmaker[Session]) -> None:
    world = _world(sessions, partners=("DAS",))
    with sessions() as db:
        item = db.get_one(WorkItem, world.items[PERSON])
        hub, das = _actor(db, world, HUB), _actor(db, world, PARTNER)
        referral = _send(db, item, hub, _new(world))
        with pytest.raises(UserError, match="only the organisation the referral is sent to"):
            take_step(db, referral=referral, step=Step.ACCEPT, by=hub)
        with pytest.raises(UserError, match="cannot be given the step 'close'"):
            take_step(db, referral=referral, step=Step.CLOSE, by=das, note="done and dusted")
        take_step(db, referral=referral, step=Step.REJECT, by=das, note="Not a service we provide.")
        for step in (Step.ACCEPT, Step.REJECT, Step.TRANSFER, Step.RECORD_ACTION, Step.CLOSE):
            with pytest.raises(UserError, match="rejected referral cannot"):
                take_step(db, referral=referral, step=step, by=das, note="again, please", to_organisation_id=1)
        with pytest.raises(UserError, match="sent once"):
            take_step(db, referral=referral, step=Step.SEND, by=das)
        assert referral.status is ReferralStatus.REJECTED
        assert len(db.scalars(select(ReferralEvent)).all()) == 2


def test_consent_not_given_needs_a_reason_and_a_partner_must_be_another_organisation(
    sessions: sessionmaker[Session],
) -> None:
    world = _world(sessions, partners=("DAS",))
    with sessions() as db:
        item = db.get_one(WorkItem, world.items[PERSON])
        hub = _actor(db, world, HUB)
        with pytest.raises(UserError, match="why consent is not needed"):
            _send(db, item, hub, _new(world, consent=Consent.NOT_NEEDED))
        with pytest.raises(UserError, match="another organisation"):
            _send(db, item, hub, _new(world, to="LA"))
        with pytest.raises(UserError, match="active partner"):
            _send(db, item, hub, _new(world, to="PHT"))
        made = _send(
            db,
            item,
            hub,
            _new(world, consent=Consent.NOT_NEEDED, note="safeguarding: consent would place the child at risk"),
        )
        assert made.consent_note == "safeguarding: consent would place the child at risk"


# --- the API --------------------------------------------------------------------------------------------------------


def test_a_flag_is_referred_and_the_partner_accepts_acts_and_closes(
    app: FastAPI, sessions: sessionmaker[Session]
) -> None:
    world = _world(sessions, partners=("DAS",))
    partner = As(app, sessions, world, PARTNER)
    before = partner.get(f"/api/work-items/{world.items[PERSON]}?purpose=safeguarding_children")
    assert before.status_code == 404
    hub, rid = refer(app, sessions, world)
    made = hub.get(f"/api/referrals/{rid}").json()
    assert made["status"] == "sent" and made["purpose"] == "safeguarding_children"
    assert made["next_steps"] == ["accept", "reject", "transfer"]
    assert [e["step"] for e in made["events"]] == ["send"]

    received = partner.get("/api/referrals?side=received").json()
    assert [r["id"] for r in received["items"]] == [rid] and received["withheld"] == 0
    assert partner.get("/api/referrals?side=sent").json()["items"] == []
    steps = [
        {"step": "accept"},
        {"step": "record_action", "note": "Visited the family; support plan agreed."},
        {"step": "close", "note": "Support delivered; no further concerns."},
    ]
    for body in steps:
        done = partner.post(f"/api/referrals/{rid}/transitions", json=body)
        assert done.status_code == 200, done.text
    seen = hub.get(f"/api/referrals/{rid}").json()
    assert seen["status"] == "closed" and seen["outcome"] == "Support delivered; no further concerns."
    assert seen["next_steps"] == []
    assert [e["step"] for e in seen["events"]] == ["send", "accept", "record_action", "close"]
    assert hub.get("/api/referrals?side=sent").json()["items"][0]["id"] == rid

    again = partner.post(f"/api/referrals/{rid}/transitions", json={"step": "accept"})
    assert again.status_code == 403  # closing it ended the partner's access to it (#16)

    with sessions() as db:
        steps_audited = db.scalars(
            select(AuditEvent).where(
                AuditEvent.subject_type == "referral",
                AuditEvent.subject_id == str(rid),
                AuditEvent.action.in_(["make-referral", "handle-referral"]),
                AuditEvent.outcome == "allowed",
            )
        ).all()
        assert [a.detail["step"] for a in steps_audited] == ["send", "accept", "record_action", "close"]
        assert all(a.person_id == PERSON and a.purpose == "safeguarding_children" for a in steps_audited)
        reads = db.scalars(
            select(AuditEvent).where(AuditEvent.action == "view-referrals", AuditEvent.outcome == "allowed")
        ).all()
        assert reads and all(a.subject_id == str(rid) for a in reads)
        assert verify_audit(db).ok


def test_rejecting_needs_a_reason(app: FastAPI, sessions: sessionmaker[Session]) -> None:
    world = _world(sessions, partners=("DAS",))
    _, rid = refer(app, sessions, world)
    partner = As(app, sessions, world, PARTNER)
    bare = partner.post(f"/api/referrals/{rid}/transitions", json={"step": "reject"})
    assert bare.status_code == 422 and "a reason for rejecting" in bare.text
    done = partner.post(f"/api/referrals/{rid}/transitions", json={"step": "reject", "note": "Not a service we run."})
    assert done.status_code == 200 and done.json()["status"] == "rejected"
    assert done.json()["events"][-1]["note"] == "Not a service we run."
    close = partner.post(f"/api/referrals/{rid}/transitions", json={"step": "close", "note": "closing it anyway"})
    assert close.status_code == 403  # rejecting it ended the partner's access to it (#16)


def test_a_referral_is_transferred_to_another_partner(app: FastAPI, sessions: sessionmaker[Session]) -> None:
    world = _world(sessions)
    hub, rid = refer(app, sessions, world)
    partner = As(app, sessions, world, PARTNER)
    assert partner.post(f"/api/referrals/{rid}/transitions", json={"step": "accept"}).status_code == 200
    no_org = partner.post(f"/api/referrals/{rid}/transitions", json={"step": "transfer", "note": "better placed"})
    assert no_org.status_code == 422 and "to_organisation_id" in no_org.text
    back = partner.post(
        f"/api/referrals/{rid}/transitions",
        json={"step": "transfer", "note": "back to you", "to_organisation_id": world.organisations["LA"]},
    )
    assert back.status_code == 400 and "back to the organisation that sent it" in back.json()["detail"]
    unreadable = partner.post(
        f"/api/referrals/{rid}/transitions",
        json={"step": "transfer", "note": "Police may help.", "to_organisation_id": world.organisations["POL"]},
    )
    assert unreadable.status_code == 400 and "no data-sharing agreement in force" in unreadable.json()["detail"]
    moved = partner.post(
        f"/api/referrals/{rid}/transitions",
        json={
            "step": "transfer",
            "note": "The crisis team is better placed.",
            "to_organisation_id": world.organisations["NHS"],
        },
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["status"] == "sent" and moved.json()["to_organisation_id"] == world.organisations["NHS"]
    assert partner.get(f"/api/referrals/{rid}").status_code == 404  # no longer the partner's
    triage = As(app, sessions, world, TRIAGE)
    assert [r["id"] for r in triage.get("/api/referrals?side=received").json()["items"]] == [rid]
    assert triage.post(f"/api/referrals/{rid}/transitions", json={"step": "accept"}).json()["status"] == "accepted"
    assert hub.get(f"/api/referrals/{rid}").json()["status"] == "accepted"


def test_nobody_else_sees_or_handles_a_referral(app: FastAPI, sessions: sessionmaker[Session]) -> None:
    world = _world(sessions, partners=("DAS",))
    hub, rid = refer(app, sessions, world)
    officer = As(app, sessions, world, OFFICER)
    assert officer.get(f"/api/referrals/{rid}").status_code == 404
    assert officer.get("/api/referrals").json() == {"items": [], "withheld": 0}
    assert officer.post(f"/api/referrals/{rid}/transitions", json={"step": "accept"}).status_code == 404
    assert officer.get(f"/referrals/{rid}").status_code == 404
    school = As(app, sessions, world, SCHOOL)
    assert school.get(f"/api/referrals/{rid}").status_code == 403  # the role has no referrals at all
    sender = hub.post(f"/api/referrals/{rid}/transitions", json={"step": "accept"})
    assert sender.status_code == 403 and "only the organisation the referral is sent to" in sender.json()["detail"]
    not_mine = officer.post("/api/referrals", json=_body(world))  # another organisation's flag
    assert not_mine.status_code == 404
    with sessions() as db:
        assert db.scalar(select(Referral.status).where(Referral.id == rid)) is ReferralStatus.SENT
        denied = db.scalars(select(AuditEvent).where(AuditEvent.outcome == "denied")).all()
        assert {a.action for a in denied} >= {"view-referrals", "handle-referral"}
        assert verify_audit(db).ok


def test_a_partner_without_an_agreement_for_its_cases_cannot_be_sent_or_read_a_referral(
    app: FastAPI, sessions: sessionmaker[Session]
) -> None:
    world = _world(sessions, partners=())
    hub = As(app, sessions, world, HUB)
    refused = hub.post("/api/referrals", json=_body(world))
    assert refused.status_code == 400
    assert "has no data-sharing agreement in force that lets it open this referral" in refused.json()["detail"]
    with sessions() as db:
        create_agreement(db, spec=referred_cases_agreement("DAS"), by=SETUP)
        db.commit()
    _, rid = refer(app, sessions, world)
    with sessions() as db:  # the partner's agreement ends after the referral was sent: it can no longer read it
        agreement = db.scalars(select(Agreement).where(Agreement.reference == "DSA-DAS-REFERRALS")).one()
        end_agreement(db, agreement=agreement, by=SETUP, reason="the service was recommissioned")
        db.commit()
    partner = As(app, sessions, world, PARTNER)
    assert partner.get(f"/api/referrals/{rid}").status_code == 403
    assert partner.get("/api/referrals").json() == {"items": [], "withheld": 1}
    assert partner.post(f"/api/referrals/{rid}/transitions", json={"step": "accept"}).status_code == 403


def test_the_api_explains_bad_bodies(app: FastAPI, sessions: sessionmaker[Session]) -> None:
    world = _world(sessions, partners=("DAS",))
    hub = As(app, sessions, world, HUB)
    no_reason = hub.post("/api/referrals", json=_body(world, consent_note=None))
    assert no_reason.status_code == 422 and "consent_note is required" in no_reason.text
    own = hub.post("/api/referrals", json=_body(world, to_organisation_id=world.organisations["LA"]))
    assert own.status_code == 400 and "another organisation" in own.json()["detail"]
    extra = hub.post("/api/referrals", json=_body(world, colour="red"))
    assert extra.status_code == 422


# --- the pages ------------------------------------------------------------------------------------------------------


def test_pages_make_accept_and_close_a_referral(app: FastAPI, sessions: sessionmaker[Session]) -> None:
    app.state.person_views = SimpleNamespace(current=lambda: FakeView())
    world = _world(sessions, partners=("DAS",))
    hub = As(app, sessions, world, HUB)
    item = world.items[PERSON]
    choose = hub.get(f"/referrals/new?work_item={item}")
    assert choose.status_code == 200, choose.text
    assert "Northshire Recovery Service" in choose.text and "Alex Example" in choose.text
    assert "Northshire Public Health" not in choose.text  # not a partner that takes referrals
    form = hub.get(f"/referrals/new?work_item={item}&choice={world.organisations['DAS']}:safeguarding_children")
    assert form.status_code == 200, form.text
    assert LEGAL_BASIS in form.text and "Refer to Northshire Recovery Service" in form.text
    token = form_csrf(form.text)
    fields = {
        "csrf_token": token,
        "work_item": str(item),
        "to_organisation": str(world.organisations["DAS"]),
        "summary": "Repeated incidents at home; please offer the family support.",
        "consent": "not_needed",
        "consent_note": "",
        "lawful_basis": LEGAL_BASIS,
        "purpose": "safeguarding_children",
        "items": f"{FEED}:{FLAG_RECORD}",
    }
    missing = hub.client.post("/referrals", data=fields, follow_redirects=False)
    assert missing.status_code == 400
    assert "There is a problem" in missing.text and "Enter why consent is not needed" in missing.text
    assert "Error:" in missing.text and 'href="#consent_note"' in missing.text
    no_csrf = hub.client.post("/referrals", data={**fields, "csrf_token": "x"}, follow_redirects=False)
    assert no_csrf.status_code == 403
    sent = hub.client.post(
        "/referrals",
        data={**fields, "consent_note": "safeguarding: consent would place the child at risk"},
        follow_redirects=False,
    )
    assert sent.status_code == 303, sent.text
    url = sent.headers["location"].split("?")[0]
    rid = int(url.rsplit("/", 1)[1])
    page = hub.get(sent.headers["location"])
    assert "Your referral has been sent." in page.text and "A test flag" in page.text
    assert 'value="accept"' not in page.text  # the sender does not act on it
    assert f'href="/referrals/{rid}"' in hub.get("/referrals").text

    partner = As(app, sessions, world, PARTNER)
    assert "1 referral</strong> from partners" in partner.get("/").text  # waiting for the partner, on its home page
    listing = partner.get("/referrals")
    assert f'href="/referrals/{rid}"' in listing.text and "Received" in listing.text
    page = partner.get(url)
    assert 'value="accept"' in page.text and 'value="reject"' in page.text and 'value="transfer"' in page.text
    assert 'value="close"' not in page.text and 'value="record_action"' not in page.text
    token = form_csrf(page.text)
    accepted = partner.client.post(url, data={"csrf_token": token, "step": "accept"}, follow_redirects=False)
    assert accepted.status_code == 303
    page = partner.get(accepted.headers["location"])
    assert "You have accepted the referral." in page.text
    assert 'value="close"' in page.text and 'value="record_action"' in page.text and 'value="accept"' not in page.text
    bare = partner.client.post(url, data={"csrf_token": token, "step": "close"}, follow_redirects=False)
    assert bare.status_code == 400 and "Enter the outcome before closing the referral" in bare.text
    closed = partner.client.post(
        url, data={"csrf_token": token, "step": "close", "close_outcome": "Support delivered."}, follow_redirects=False
    )
    assert closed.status_code == 303
    assert closed.headers["location"] == "/referrals?done=referral-close"  # no longer the partner's to open
    page = partner.get(closed.headers["location"])
    assert "The referral is closed." in page.text and "can no longer open" in page.text
    assert partner.get(url).status_code == 403
    closed_page = hub.get(url)  # the sender still sees it, closed, with its outcome
    assert "Support delivered." in closed_page.text and 'name="step"' not in closed_page.text

    person = hub.get(f"/people/{PERSON}?purpose=safeguarding_children")
    assert person.status_code == 200, person.text
    assert 'id="referrals"' in person.text and f'href="/referrals/{rid}"' in person.text
    assert "Closed" in person.text
    with sessions() as db:
        assert verify_audit(db).ok


def test_a_partner_that_could_not_open_the_referral_is_the_error_of_the_partner_field(
    app: FastAPI, sessions: sessionmaker[Session]
) -> None:
    """The refusal names the partner, so it sits beside "Which organisation are you referring to?", whatever the
    partner is called (the page used to choose the field by looking for the word "organisation" in the message,
    and put this one on the summary) (#14)."""
    app.state.person_views = SimpleNamespace(current=lambda: FakeView())
    world = _world(sessions, partners=())  # the drug and alcohol service has no agreement for its own cases
    hub = As(app, sessions, world, HUB)
    item = world.items[PERSON]
    form = hub.get(f"/referrals/new?work_item={item}")
    assert "Northshire Recovery Service" not in form.text  # no agreement: not offered at all (#17)
    fields = {
        "csrf_token": form_csrf(form.text),
        "work_item": str(item),
        "to_organisation": str(world.organisations["DAS"]),
        "summary": "Repeated incidents at home; please offer the family support.",
        "consent": "given",
        "consent_note": "",
        "lawful_basis": LEGAL_BASIS,
        "purpose": "safeguarding_children",
        "items": f"{FEED}:{FLAG_RECORD}",
    }
    with sessions() as db:  # a form made before the agreement ended, sent after: refused on the partner field
        create_agreement(db, spec=referred_cases_agreement("DAS"), by=SETUP)
        db.commit()
    partner = f"{world.organisations['DAS']}:safeguarding_children"
    assert hub.get(f"/referrals/new?work_item={item}&choice={partner}").status_code == 200
    with sessions() as db:
        agreement = db.scalars(select(Agreement).where(Agreement.reference == "DSA-DAS-REFERRALS")).one()
        end_agreement(db, agreement=agreement, by=SETUP, reason="the service was recommissioned")
        db.commit()
    refused = hub.client.post("/referrals", data=fields, follow_redirects=False)
    assert refused.status_code == 400
    error = re.search(r'id="(\w+)-error"><span class="cg-visually-hidden">Error:</span> ([^<]+)', refused.text)
    assert error is not None
    assert error.group(1) == "to_organisation" and "has no data-sharing agreement in force" in error.group(2)


def _partner_reads(partner: As, rid: int) -> int:
    return int(partner.get(f"/api/referrals/{rid}").status_code)


@pytest.mark.parametrize(
    ("steps", "still_open"),
    [
        ([("accept", None)], True),
        ([("reject", "Not a service we run.")], False),
        ([("accept", None), ("close", "Seen twice; engaged with treatment.")], False),
    ],
)
def test_a_referral_opens_the_partners_access_only_while_it_is_with_them(
    app: FastAPI, sessions: sessionmaker[Session], steps: list[tuple[str, str | None]], still_open: bool
) -> None:
    """A partner that rejected or closed a referral could still open the person's records for ever (the
    relationship the referral made had no end); now it ends with the referral (#16)."""
    world = _world(sessions, partners=("DAS",))
    _, rid = refer(app, sessions, world)
    partner = As(app, sessions, world, PARTNER)
    assert _partner_reads(partner, rid) == 200
    for step, note in steps:
        body = {"step": step, **({"note": note} if note else {})}
        assert partner.post(f"/api/referrals/{rid}/transitions", json=body).status_code == 200
    assert (_partner_reads(partner, rid) == 200) is still_open
    with sessions() as db:
        (row,) = db.scalars(select(RecordShare).where(RecordShare.source == "referrals")).all()
        assert (row.feed, row.record_id, row.purpose) == (FEED, FLAG_RECORD, "safeguarding_children")
        assert (row.valid_until is not None and row.valid_until <= utcnow()) is not still_open


def test_a_referral_nobody_acts_on_stops_opening_the_record(app: FastAPI, sessions: sessionmaker[Session]) -> None:
    world = _world(sessions, partners=("DAS",))
    _, rid = refer(app, sessions, world)
    with sessions() as db:
        (row,) = db.scalars(select(RecordShare).where(RecordShare.source == "referrals")).all()
        assert row.valid_until is not None
        assert dt.timedelta(days=89) < row.valid_until - utcnow() <= REFERRAL_ACCESS
        row.valid_from -= REFERRAL_ACCESS + dt.timedelta(days=1)  # as if sent 91 days ago
        row.valid_until -= REFERRAL_ACCESS + dt.timedelta(days=1)
        db.commit()
    partner = As(app, sessions, world, PARTNER)
    assert _partner_reads(partner, rid) == 403


def test_a_transfer_moves_the_access_with_the_referral(app: FastAPI, sessions: sessionmaker[Session]) -> None:
    world = _world(sessions)
    _, rid = refer(app, sessions, world)
    partner = As(app, sessions, world, PARTNER)
    body = {
        "step": "transfer",
        "note": "The crisis team is better placed.",
        "to_organisation_id": world.organisations["NHS"],
    }
    assert partner.post(f"/api/referrals/{rid}/transitions", json=body).status_code == 200
    with sessions() as db:
        rows = {r.organisation_id: r for r in db.scalars(select(RecordShare).where(RecordShare.source == "referrals"))}
        now = utcnow()
        left, taken = rows[world.organisations["DAS"]].valid_until, rows[world.organisations["NHS"]].valid_until
        assert left is not None and left <= now
        assert taken is not None and taken > now


def test_a_referral_the_resolver_refuses_keeps_the_form_and_is_audited(
    app: FastAPI, sessions: sessionmaker[Session]
) -> None:
    """#17: choosing a purpose the sender's agreements do not cover gave a full-page 403 that lost what was typed,
    the refusal was not audited, and the partner's name was lower-cased in the message; a 15-year-old's referral
    offers schools, an adult's (the FakeView's person is born 2015) would not."""
    app.state.person_views = SimpleNamespace(current=lambda: FakeView())
    world = _world(sessions, partners=("DAS",))
    hub = As(app, sessions, world, HUB)
    item = world.items[PERSON]
    form = hub.get(f"/referrals/new?work_item={item}")
    assert "crime_prevention" not in form.text  # not offered: the hub's agreements do not cover it
    summary = "Repeated incidents at home; please offer the family support."
    fields = {
        "csrf_token": form_csrf(form.text),
        "work_item": str(item),
        "to_organisation": str(world.organisations["DAS"]),
        "summary": summary,
        "consent": "given",
        "consent_note": "",
        "lawful_basis": LEGAL_BASIS,
        "purpose": "crime_prevention",  # sent anyway (a form altered by hand)
        "items": f"{FEED}:{FLAG_RECORD}",
    }
    with sessions() as db:
        before = db.scalar(select(func.count()).select_from(AuditEvent)) or 0
    refused = hub.client.post("/referrals", data=fields, follow_redirects=False)
    assert refused.status_code == 403
    assert summary in refused.text and 'id="purpose-error"' in refused.text
    assert "This referral cannot be made" in refused.text
    with sessions() as db:
        denied = db.scalars(
            select(AuditEvent).where(AuditEvent.seq > before, AuditEvent.action == "make-referral")
        ).all()
        assert [e.outcome for e in denied] == ["denied"]


def test_an_adult_is_never_offered_a_school(app: FastAPI, sessions: sessionmaker[Session]) -> None:
    """#17: primary schools were offered as recipients for a 39-year-old."""
    world = _world(sessions, partners=("DAS",))
    hub = As(app, sessions, world, HUB)
    item = world.items[PERSON]
    with sessions() as db:  # the school could receive the police record, for the pupils referred to it
        create_agreement(db, spec=referred_cases_agreement("SCHA"), by=SETUP)
        db.commit()
    school = f'value="{world.organisations["SCHA"]}:'
    app.state.person_views = SimpleNamespace(current=lambda: FakeView())  # born 2015
    assert school in hub.get(f"/referrals/new?work_item={item}").text
    app.state.person_views = SimpleNamespace(current=lambda: AdultView())
    form = hub.get(f"/referrals/new?work_item={item}").text
    assert school not in form and f'value="{world.organisations["DAS"]}:' in form
