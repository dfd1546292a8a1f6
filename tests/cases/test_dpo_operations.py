"""The data protection officer's operations called directly with a Context (no HTTP): a break-glass report is
reviewed once (a second review is refused as "already reviewed", 409, and changes nothing), agreements are made
and ended with each refusal naming its field, and whoever may not is refused and audited."""

from __future__ import annotations

import pytest
from service_support import context_of
from service_world import World, agreement_for, build_world
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from commonground.access.agreements import About
from commonground.access.models import AuditEvent, BreakGlassReport
from commonground.access.purposes import Purpose
from commonground.cases import agreements as agreement_work
from commonground.cases import audit_log, break_glass
from commonground.errors import NotFound, Refused, UserError


@pytest.fixture
def world(sessions: sessionmaker[Session]) -> World:
    return build_world(sessions, with_agreements=True)


def _events(db: Session, action: str, outcome: str = "allowed") -> list[AuditEvent]:
    return list(db.scalars(select(AuditEvent).where(AuditEvent.action == action, AuditEvent.outcome == outcome)))


def test_a_break_glass_report_is_reviewed_once(sessions: sessionmaker[Session], world: World) -> None:
    with sessions() as db:
        dpo = context_of(db, world.users["dpo@la.example"])
        with pytest.raises(UserError) as no_note:
            break_glass.review_break_glass(dpo, report_id=world.break_glass_report, note="ok")
        assert no_note.value.field == "note"
        reviewed = break_glass.review_break_glass(dpo, report_id=world.break_glass_report, note="Justified.")
        assert reviewed.reviewed_by_user_id == world.users["dpo@la.example"]
        with pytest.raises(break_glass.AlreadyReviewed) as again:
            break_glass.review_break_glass(dpo, report_id=world.break_glass_report, note="A second look.")
        assert (again.value.status, again.value.reason) == (409, "that break-glass access had already been reviewed")
        with pytest.raises(NotFound):
            break_glass.review_break_glass(dpo, report_id=world.break_glass_report + 1000, note="Justified.")
    with sessions() as db:
        report = db.get_one(BreakGlassReport, world.break_glass_report)
        assert report.review_note == "Justified."
        assert len(_events(db, "review-break-glass")) == 1
        assert break_glass.waiting_count(context_of(db, world.users["dpo@la.example"])) == 0


def test_only_the_dpo_reviews_and_a_refusal_is_audited(sessions: sessionmaker[Session], world: World) -> None:
    with sessions() as db:
        hub = context_of(db, world.users["hub@la.example"])
        with pytest.raises(Refused) as refused:
            break_glass.review_break_glass(hub, report_id=world.break_glass_report, note="Justified.")
        assert refused.value.status == 403
        with pytest.raises(Refused):
            audit_log.verify(hub)
    with sessions() as db:
        assert db.get_one(BreakGlassReport, world.break_glass_report).reviewed_at is None
        [denied] = _events(db, "review-break-glass", "denied")
        assert denied.actor_user_id == world.users["hub@la.example"]
        assert _events(db, "verify-audit", "denied")


def test_agreements_are_made_and_ended_once_with_each_refusal_naming_its_field(
    sessions: sessionmaker[Session], world: World
) -> None:
    spec = agreement_for("SCHA", "ed_attendances", Purpose.OPERATION_ENCOMPASS, about=About.EVERYONE)
    with sessions() as db:
        dpo = context_of(db, world.users["dpo@la.example"])
        with pytest.raises(UserError) as everyone:
            agreement_work.make_agreement(dpo, spec=spec.model_copy(update={"reference": "DSA-SCHOOL-ALL"}))
        assert everyone.value.field == "about"
        with pytest.raises(UserError) as nobody:
            agreement_work.make_agreement(dpo, spec=spec.model_copy(update={"organisation": "NOPE"}))
        assert nobody.value.field == "organisation"
        taken = next(iter(world.agreements))
        with pytest.raises(UserError) as reference:
            agreement_work.make_agreement(
                dpo, spec=spec.model_copy(update={"reference": taken, "about": ("own_cases",)})
            )
        assert reference.value.field == "reference"
        with pytest.raises(UserError) as no_reason:
            agreement_work.end_agreement(dpo, agreement_id=world.spare_agreement, reason="")
        assert (no_reason.value.field, str(no_reason.value)) == ("reason", "give the reason for ending the agreement")
        agreement_work.end_agreement(dpo, agreement_id=world.spare_agreement, reason="decommissioned")
        with pytest.raises(UserError) as ended:
            agreement_work.end_agreement(dpo, agreement_id=world.spare_agreement, reason="decommissioned")
        assert (ended.value.field, str(ended.value)) == ("reason", "this agreement has already ended")
    with sessions() as db:
        ends = [e for e in _events(db, "manage-agreements") if e.detail["change"] == "ended"]
        assert len(ends) == 1


def test_an_agreement_of_another_organisation_is_not_found(sessions: sessionmaker[Session], world: World) -> None:
    with sessions() as db:
        officer = context_of(db, world.users["officer@pol.example"])
        seen = {a.id for a in agreement_work.visible_agreements(officer)}
        assert seen == {aid for aid, code in world.agreements.values() if code == "POL"}
        with pytest.raises(NotFound):
            agreement_work.visible_agreement(officer, agreement_id=world.spare_agreement)
        with pytest.raises(NotFound):  # not found before refused: nobody learns that it exists
            agreement_work.end_agreement(officer, agreement_id=world.spare_agreement, reason="decommissioned")


def test_the_api_and_the_page_search_the_audit_log_alike(sessions: sessionmaker[Session], world: World) -> None:
    with sessions() as db:
        dpo = context_of(db, world.users["dpo@la.example"])
        glass = audit_log.events(dpo, person_id="P-GLASS", limit=10)
        assert [e.person_id for e in glass] == ["P-GLASS"]
        assert glass == audit_log.search(dpo, audit_log.AuditSearch(person="P-GLASS"), limit=10)
        newest = audit_log.events(dpo, limit=3)
        assert [e.seq for e in newest] == sorted((e.seq for e in newest), reverse=True)
        older = audit_log.events(dpo, before_seq=newest[-1].seq, limit=3)
        assert all(e.seq < newest[-1].seq for e in older)
        assert audit_log.verify(dpo).ok
