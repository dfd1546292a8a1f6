"""The casework operations called directly with an operation context, no HTTP: each authorises through the
resolver, acts and audits in one place. A work item or referral that is another organisation's is "not found" and
its refusal audited; a refusal of the resolver is raised as Refused and audited; a list withholds, and counts,
what no agreement covers, and audits only what it shows; a move the page does not know comes after the check."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from notice_support import add_route_notices
from person_view_fixture import ViewPerson, write_test_view
from service_support import context_of
from service_world import ITEMS, World, build_referral_world, build_world
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from commonground.access.context import Context
from commonground.access.models import AuditEvent
from commonground.access.purposes import Purpose
from commonground.access.resolver import Refusal
from commonground.cases import notice_work, people, queue, referral_work
from commonground.cases.inferences import Openings
from commonground.cases.person_view import PersonView
from commonground.cases.referrals import Consent, NewReferral, Referral, ReferralStatus, Step
from commonground.cases.work_items import Outcome, WorkItem, WorkItemStatus
from commonground.errors import NotFound, Refused, UserError
from commonground.store.settings import HubSettings

HUB = "hub@la.example"
PARTNER = "team@das.example"
OFFICER = "officer@pol.example"
SCHOOL_A = "dsl@scha.example"
SCHOOL_B = "dsl@schb.example"
ADMIN = "admin@la.example"
GLASS = "Child at immediate risk; the agreement is being renewed"


def context(db: Session, world: World, email: str, action: str = "view-self") -> Context:
    """What ``require(action)`` hands a route, for the account ``email`` of the world."""
    return context_of(db, world.users[email], action)


def events(db: Session, since: int = 0) -> list[AuditEvent]:
    db.expire_all()
    return list(db.scalars(select(AuditEvent).where(AuditEvent.seq > since).order_by(AuditEvent.seq)))


def last_seq(db: Session) -> int:
    return db.scalar(select(func.coalesce(func.max(AuditEvent.seq), 0))) or 0


def _referral_world(sessions: sessionmaker[Session]) -> World:
    return build_referral_world(sessions, partners=("DAS",))


def _new(world: World, to: str = "DAS", purpose: Purpose | None = None) -> NewReferral:
    return NewReferral(
        to_organisation_id=world.organisations[to],
        summary="Repeated incidents at home; please offer the family support.",
        consent=Consent.GIVEN,
        consent_note=None,
        lawful_basis="Children Act 2004 s11",
        purpose=purpose,
        items=(("police_incident_persons", "I1"),),  # the record behind P-LA-1's flag
    )


# --- the queue ------------------------------------------------------------------------------------------------------


def test_opening_a_work_item_routed_elsewhere_is_not_found_and_audited_as_denied(
    sessions: sessionmaker[Session],
) -> None:
    world = build_world(sessions, with_agreements=True)
    with sessions() as db:
        before = last_seq(db)
        ctx = context(db, world, HUB, "view-work-items")
        with pytest.raises(NotFound):
            queue.read_work_item(ctx, item_id=world.items["P-POL-2"], purpose=Purpose.CRIME_PREVENTION)
        [denied] = events(db, before)
        assert (denied.action, denied.outcome, denied.subject_type) == ("view-work-items", "denied", "work_item")
        assert (denied.subject_id, denied.person_id) == (str(world.items["P-POL-2"]), "P-POL-2")
        assert denied.actor_user_id == world.users[HUB] and denied.detail["why"] == "it belongs to another organisation"
        with pytest.raises(NotFound):  # no such item: nothing to refuse, nothing audited
            queue.read_work_item(ctx, item_id=999_999)
        assert events(db, denied.seq) == []


def test_a_work_item_read_is_audited_once_and_break_glass_keeps_its_reason(sessions: sessionmaker[Session]) -> None:
    world = build_world(sessions, with_agreements=True)
    item_id = world.items["P-LA-1"]
    with sessions() as db:
        before = last_seq(db)
        ctx = context(db, world, HUB, "view-work-items")
        item = queue.read_work_item(ctx, item_id=item_id)
        assert item.id == item_id
        with pytest.raises(Refused) as refused:  # another purpose, no reason: refused, not hidden
            queue.read_work_item(ctx, item_id=item_id, purpose=Purpose.CRIME_PREVENTION)
        assert not isinstance(refused.value, NotFound) and refused.value.refusal is Refusal.NO_AGREEMENT
        queue.read_work_item(ctx, item_id=item_id, purpose=Purpose.CRIME_PREVENTION, break_glass_reason=GLASS)
        db.commit()
        seen = [(e.outcome, e.purpose, e.break_glass, e.reason) for e in events(db, before)]
        assert seen == [
            # the first read was rolled back by the refusal (its transaction was the caller's, uncommitted)
            ("denied", None, False, None),
            ("allowed", Purpose.CRIME_PREVENTION.value, True, GLASS),
        ]


def test_a_readers_list_withholds_what_no_agreement_covers(sessions: sessionmaker[Session]) -> None:
    world = build_world(sessions, with_agreements=True)
    with sessions() as db:
        before = last_seq(db)
        ctx = context(db, world, HUB, "view-work-items")
        withheld = queue.list_work_items(ctx, purpose=Purpose.CRIME_PREVENTION)
        assert (withheld.items, withheld.withheld) == ([], 1)
        shown = queue.list_work_items(ctx, purpose=Purpose.SAFEGUARDING_CHILDREN)
        assert [i.person_id for i in shown.items] == ["P-LA-1"] and shown.withheld == 0
        db.commit()
        [read] = events(db, before)  # the withheld item is not audited as read; the shown one is, once
        assert (read.action, read.outcome, read.person_id) == ("view-work-items", "allowed", "P-LA-1")
        assert read.purpose == Purpose.SAFEGUARDING_CHILDREN.value


def test_the_queue_page_reads_only_what_its_filters_keep(
    sessions: sessionmaker[Session],
) -> None:
    world = build_world(sessions, with_agreements=True)
    with sessions() as db:
        before = last_seq(db)
        ctx = context(db, world, HUB, "view-work-items")
        kept = queue.browse_queue(ctx, filters=queue.QueueFilter(), keep=lambda item: False)
        assert (kept.items, kept.withheld) == ([], 0)
        assert events(db, before) == []  # read by nobody: nothing audited
        mine = queue.browse_queue(ctx, filters=queue.QueueFilter(mine="yes"))
        assert mine.items == []
        everything = queue.browse_queue(ctx, filters=queue.QueueFilter(status="all"))
        assert [i.person_id for i in everything.items] == ["P-LA-1"]


def test_a_move_the_page_does_not_know_comes_after_the_check(sessions: sessionmaker[Session]) -> None:
    world = build_world(sessions, with_agreements=True)
    with sessions() as db:
        before = last_seq(db)
        ctx = context(db, world, HUB, "update-work-item")
        with pytest.raises(NotFound):  # another organisation's item: not found (audited) before the move is read
            queue.move_work_item(ctx, item_id=world.items["P-POL-2"], move=None)
        assert [(e.action, e.outcome) for e in events(db, before)] == [("update-work-item", "denied")]
        with pytest.raises(UserError, match="unknown change"):
            queue.move_work_item(ctx, item_id=world.items["P-LA-1"], move=None)
        with pytest.raises(UserError) as no_outcome:
            queue.move_work_item(ctx, item_id=world.items["P-LA-1"], move=queue.Move.CLOSE, outcome="  ")
        assert no_outcome.value.field == "outcome"
        with pytest.raises(UserError) as stranger:
            queue.move_work_item(
                ctx, item_id=world.items["P-LA-1"], move=queue.Move.ASSIGN, assignee=world.users[PARTNER]
            )
        assert stranger.value.field == "assignee"
        item = queue.move_work_item(ctx, item_id=world.items["P-LA-1"], move=queue.Move.CLAIM)
        db.commit()
        assert item.status is WorkItemStatus.IN_PROGRESS and item.assigned_to_user_id == world.users[HUB]
        [claimed] = [e for e in events(db, before) if e.outcome == "allowed"]
        assert claimed.action == "update-work-item" and claimed.detail == {
            "status": "in_progress",
            "assigned_to_user_id": world.users[HUB],
        }


def test_the_apis_change_is_for_the_stated_purpose_and_refuses_a_stranger_as_assignee(
    sessions: sessionmaker[Session],
) -> None:
    world = build_world(sessions, with_agreements=True)
    with sessions() as db:
        ctx = context(db, world, HUB, "update-work-item")
        with pytest.raises(UserError) as stranger:
            queue.change_work_item(
                ctx,
                item_id=world.items["P-LA-1"],
                purpose=Purpose.SAFEGUARDING_CHILDREN,
                assigned_to_user_id=world.users[PARTNER],
            )
        assert stranger.value.field == "assigned_to_user_id"
        before = last_seq(db)
        queue.change_work_item(
            ctx,
            item_id=world.items["P-LA-1"],
            purpose=Purpose.SAFEGUARDING_CHILDREN,
            status=WorkItemStatus.CLOSED,
            outcome="Seen; no further action.",
            outcome_code=Outcome.NO_CONCERN,
        )
        db.commit()
        [closed] = events(db, before)
        assert closed.purpose == Purpose.SAFEGUARDING_CHILDREN.value and closed.detail["status"] == "closed"
        assert closed.detail["outcome_code"] == "no_concern"
        assert db.get_one(WorkItem, world.items["P-LA-1"]).closed_at is not None


# --- referrals ------------------------------------------------------------------------------------------------------


def test_making_a_referral_the_resolver_refuses_raises_refused_and_audits_it(sessions: sessionmaker[Session]) -> None:
    world = _referral_world(sessions)
    with sessions() as db:
        before = last_seq(db)
        ctx = context(db, world, HUB, "make-referral")
        with pytest.raises(Refused) as refused:  # no agreement of the hub's for crime prevention
            referral_work.make_referral(
                ctx, work_item_id=world.items["P-LA-1"], new=_new(world, purpose=Purpose.CRIME_PREVENTION)
            )
        assert not isinstance(refused.value, NotFound) and refused.value.status == 403
        [denied] = events(db, before)
        assert (denied.action, denied.outcome, denied.subject_type, denied.person_id) == (
            "make-referral",
            "denied",
            "referral",
            "P-LA-1",
        )
        assert db.scalar(select(func.count()).select_from(Referral)) == 0
        with pytest.raises(NotFound):  # a work item of another organisation's queue: not found
            referral_work.make_referral(ctx, work_item_id=world.items["P-POL-2"], new=_new(world))


def test_a_referral_is_made_read_and_stepped_and_only_its_parties_see_it(sessions: sessionmaker[Session]) -> None:
    world = _referral_world(sessions)
    with sessions() as db:
        hub = context(db, world, HUB, "make-referral")
        made = referral_work.make_referral(hub, work_item_id=world.items["P-LA-1"], new=_new(world))
        db.commit()
        assert made.purpose is Purpose.SAFEGUARDING_CHILDREN  # the work item's, none being given
        referral_id = made.id
    with sessions() as db:
        officer = context(db, world, OFFICER, "view-referrals")
        before = last_seq(db)
        with pytest.raises(NotFound):  # not party to it: not found, and nothing of theirs to refuse
            referral_work.read_referral(officer, referral_id=referral_id)
        assert events(db, before) == []
        hub = context(db, world, HUB, "handle-referral")
        with pytest.raises(Refused) as sender:  # the sender sees it but does not take its steps
            referral_work.take_referral_step(hub, referral_id=referral_id, step=Step.ACCEPT)
        assert sender.value.status == 403 and sender.value.reason == referral_work.NOT_THE_RECEIVER
        assert [(e.action, e.outcome) for e in events(db, before)] == [("handle-referral", "denied")]
        partner = context(db, world, PARTNER, "handle-referral")
        accepted = referral_work.take_referral_step(partner, referral_id=referral_id, step=Step.ACCEPT)
        db.commit()
        assert accepted.status is ReferralStatus.ACCEPTED
        listed = referral_work.read_referrals(partner, received=True, sent=False, open_only=True)
        assert [r.id for r in listed.items] == [referral_id] and listed.withheld == 0
        assert referral_work.referrals_waiting(partner) == 0  # accepted: no longer waiting for an answer


# --- notices and the outbox ----------------------------------------------------------------------------------------


def test_another_schools_notice_is_not_found_and_acknowledging_twice_is_refused(
    sessions: sessionmaker[Session],
) -> None:
    world = build_world(sessions, with_agreements=True)
    notices = add_route_notices(sessions, world, {p: f"Name{n}" for n, (p, *_rest) in enumerate(ITEMS)})
    notice_id = notices[("P-SCHA-4", "api")]
    with sessions() as db:
        before = last_seq(db)
        other = context(db, world, SCHOOL_B, "view-notices")
        with pytest.raises(NotFound):
            notice_work.read_notice(other, notice_id=notice_id)
        [denied] = events(db, before)
        assert (denied.action, denied.outcome, denied.subject_id) == ("view-notices", "denied", str(notice_id))
        own = context(db, world, SCHOOL_A, "acknowledge-notice")
        shown = notice_work.read_notices(own)
        assert {c.person_id for n in shown.items for c in n.children} == {"P-SCHA-4"} and shown.withheld == 0
        assert notice_work.waiting_summary(own)["waiting"] == 2
        notice = notice_work.acknowledge_notice(own, notice_id=notice_id)
        db.commit()
        assert notice.acknowledged_by_user_id == world.users[SCHOOL_A]
        with pytest.raises(UserError, match="already been acknowledged"):
            notice_work.acknowledge_notice(own, notice_id=notice_id)


def test_sending_the_outbox_is_audited_with_what_it_did(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    world = build_world(sessions, with_agreements=True)
    settings = HubSettings(data_dir=tmp_path, secret_key="s" * 40, smtp_port=1)  # type: ignore[arg-type]
    with sessions() as db:
        before = last_seq(db)
        ctx = context(db, world, ADMIN, "send-notices")
        report = notice_work.send_outbox(ctx, settings=settings, person_view=None)
        db.commit()
        [sent] = events(db, before)
        assert (sent.action, sent.subject_type) == ("send-notices", "notice")
        assert sent.detail == {
            "notices_created": 0,
            "emails_queued": 0,
            "sent": 0,
            "failed": 0,
            "waiting": 0,
            "notices_without_recipient": 0,
        }
        assert report.notices_created == 0


# --- people ---------------------------------------------------------------------------------------------------------


@pytest.fixture
def view(tmp_path: Path) -> PersonView:
    people_in_view = [
        ViewPerson(p, "Testgiven", f"Zed{p.replace('-', '')}", dt.date(2012, 5, 1), *e.split(":"))
        for p, _code, _role, e, _purpose in ITEMS
    ]
    return PersonView(write_test_view(tmp_path, people_in_view))


def test_a_person_is_found_and_read_for_a_purpose_and_refusals_are_audited(
    sessions: sessionmaker[Session], view: PersonView
) -> None:
    world = build_world(sessions, with_agreements=True)
    with sessions() as db:
        before = last_seq(db)
        hub = context(db, world, HUB, "find-person")
        found = people.find_people(hub, view=view, purpose=Purpose.SAFEGUARDING_CHILDREN, family_name="ZedPLA1")
        assert [i.person_id for i in found.items] == ["P-LA-1"]
        officer = context(db, world, OFFICER, "find-person")
        hidden = people.find_people(  # the police's agreement is for crime prevention only
            officer, view=view, purpose=Purpose.SAFEGUARDING_CHILDREN, family_name="ZedPLA1"
        )
        assert (hidden.items, hidden.withheld) == ([], 1)
        db.commit()
        with pytest.raises(NotFound):  # the API's document: any refusal is not found, and audited
            people.person_document(hub, view=view, person_id="P-LA-1", purpose=Purpose.CRIME_PREVENTION)
        doc = people.person_document(
            hub, view=view, person_id="P-LA-1", purpose=Purpose.CRIME_PREVENTION, break_glass_reason=GLASS
        )
        db.commit()
        assert doc["break_glass"] is True and doc["feeds_shown"] == ["police_incident_persons"]
        seen = [(e.action, e.outcome, e.break_glass, e.reason) for e in events(db, before)]
        assert seen == [
            ("find-person", "allowed", False, None),
            ("view-person", "denied", False, None),
            ("view-person", "allowed", True, GLASS),
        ]


def test_the_person_page_is_shown_before_its_read_is_audited(sessions: sessionmaker[Session], view: PersonView) -> None:
    world = build_world(sessions, with_agreements=True)
    with sessions() as db:
        ctx = context(db, world, HUB, "view-person")
        before = last_seq(db)

        def show(openings: Openings) -> tuple[frozenset[str], bool, int]:
            return openings.feeds, openings.everything, len(events(db, before))  # nothing audited yet

        shown = people.show_person(ctx, view=view, person_id="P-LA-1", purpose=Purpose.SAFEGUARDING_CHILDREN, show=show)
        assert shown == (frozenset({"police_incident_persons"}), False, 0)
        db.commit()
        assert [(e.action, e.outcome) for e in events(db, before)] == [("view-person", "allowed")]
        with pytest.raises(NotFound):
            people.show_person(ctx, view=view, person_id="P-NOBODY", purpose=Purpose.SAFEGUARDING_CHILDREN, show=show)
        assert people.purposes_open(ctx, person_id="P-LA-1") == [Purpose.SAFEGUARDING_CHILDREN]


def test_a_note_is_checked_for_its_purpose_before_its_text(sessions: sessionmaker[Session]) -> None:
    world = build_world(sessions, with_agreements=True)
    with sessions() as db:
        before = last_seq(db)
        ctx = context(db, world, HUB, "add-note")
        with pytest.raises(Refused):  # no agreement for this purpose: refused (audited) whatever the text
            people.add_person_note(ctx, person_id="P-LA-1", purpose=Purpose.CRIME_PREVENTION, text="")
        with pytest.raises(UserError, match="needs some text"):
            people.add_person_note(ctx, person_id="P-LA-1", purpose=Purpose.SAFEGUARDING_CHILDREN, text="  ")
        note = people.add_person_note(
            ctx, person_id="P-LA-1", purpose=Purpose.SAFEGUARDING_CHILDREN, text="Spoke to the school."
        )
        db.commit()
        assert [n.id for n in people.notes_on(ctx, person_id="P-LA-1")] == [note.id]
        assert [(e.action, e.outcome) for e in events(db, before)] == [("add-note", "denied"), ("add-note", "allowed")]
