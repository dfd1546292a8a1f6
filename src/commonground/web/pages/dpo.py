"""The data protection officer's pages: data-sharing agreements (read, make, end), the audit log with its filters and
verification, and the break-glass reports to review. Subject access is in
:mod:`commonground.web.pages.subject_access`.

Agreements are read through ``view-agreements`` (so anyone sees their own organisation's, the DPO all of them) and
changed through ``manage-agreements``. The operations of :mod:`commonground.cases.agreements`,
:mod:`commonground.cases.audit_log` and :mod:`commonground.cases.break_glass` do the work, with their history rows
and audit events, and the JSON API calls the same ones: this module reads forms and renders templates.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy import select

from commonground.access.actions import ACTIONS
from commonground.access.agreements import UK, About, AgreementSpec, in_force
from commonground.access.models import Agreement, User
from commonground.access.purposes import Purpose
from commonground.access.roles import ROLE_LABELS, Role
from commonground.cases import accounts as account_work
from commonground.cases import agreements as agreement_work
from commonground.cases import audit_log, break_glass
from commonground.cases.organisations import list_organisations
from commonground.contracts import FEEDS
from commonground.errors import UserError
from commonground.store.models import Organisation
from commonground.web.deps import Access, require
from commonground.web.params import IdPath
from commonground.web.render import page, redirect

router = APIRouter(include_in_schema=False)

DONE: dict[str, str] = {
    "agreement-made": "The agreement has been made. It is in force from its start date.",
    "agreement-ended": "The agreement has ended. Access under it stopped at once.",
    "break-glass-reviewed": "Your review of the break-glass access has been recorded.",
    "already-reviewed": "That break-glass access had already been reviewed.",
    "access-approved": "The account's access to records is approved. It works from the person's next request.",
}
"""What this area's forms confirm after a redirect (``?done=CODE``); gathered by ``pages.done_messages()``."""

AUDIT_PAGE = 50
PERSON_ID = r"^[A-Za-z0-9_.:/-]*$"


# --- agreements -------------------------------------------------------------------------------------------------


def state_of(agreement: Agreement, *, at: dt.datetime) -> str:
    """'in_force', 'ended' (ended early or past its end date) or 'future' (not started yet)."""
    if in_force(agreement, at=at):
        return "in_force"
    today = at.astimezone(UK).date()
    if agreement.ended_at is None and agreement.valid_from > today:
        return "future"
    return "ended"


STATE_LABELS = {"in_force": ("In force", "green"), "ended": ("Ended", "grey"), "future": ("Not started", "blue")}


def _organisations(access: Access) -> dict[int, Organisation]:
    return {o.id: o for o in list_organisations(access.db)}


@router.get("/agreements", response_class=HTMLResponse)
def agreements_page(
    access: Annotated[Access, Depends(require("view-agreements"))],
    organisation: Annotated[str, Query(max_length=40)] = "",
    state: Annotated[str, Query(max_length=10)] = "",
) -> HTMLResponse:
    organisations = _organisations(access)
    rows = []
    newest_first = sorted(agreement_work.visible_agreements(access), key=lambda a: a.valid_from, reverse=True)
    for agreement in newest_first:
        org = organisations[agreement.organisation_id]
        now_state = state_of(agreement, at=access.now)
        if (organisation and org.code != organisation) or (state and now_state != state):
            continue
        rows.append({"agreement": agreement, "organisation": org, "state": now_state})
    return page(
        access,
        "dpo_agreements.html",
        title="Data-sharing agreements",
        rows=rows,
        organisations=list(organisations.values()),
        organisation_filter=organisation,
        state_filter=state,
        state_labels=STATE_LABELS,
    )


def _form_context(access: Access, values: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    return {
        "values": values,
        "errors": errors,
        "organisation_options": [("", "Choose an organisation")]
        + [(o.code, f"{o.name} ({o.type.label})") for o in _organisations(access).values()],
        "feed_options": [(name, f"{c.title} ({name})") for name, c in sorted(FEEDS.items()) if c.person_level],
        "about_options": [
            (About.EVERYONE.value, "Anyone in the area"),
            (About.OWN_PUPILS.value, "The organisation's own pupils (schools only)"),
            (About.OWN_CASES.value, "People whose case was sent to the organisation"),
        ],
        "purpose_options": [(p.value, p.description) for p in Purpose],
    }


@router.get("/agreements/new", response_class=HTMLResponse)
def new_agreement_page(access: Annotated[Access, Depends(require("manage-agreements"))]) -> HTMLResponse:
    values = {"valid_from": access.now.astimezone(UK).date().isoformat(), "feeds": [], "about": [], "purposes": []}
    return page(
        access, "dpo_agreement_new.html", title="Make a data-sharing agreement", **_form_context(access, values, {})
    )


SPEC_FIELDS = (
    "reference",
    "title",
    "organisation",
    "feeds",
    "about",
    "purposes",
    "lawful_basis",
    "valid_from",
    "valid_until",
)
FIELD_MESSAGES = {
    "reference": "Enter a reference of letters, digits, '-', '_', '.' or '/', at least 3 characters",
    "title": "Enter a title of at least 3 characters",
    "organisation": "Choose the organisation that may see the records",
    "feeds": "Choose at least one feed of records about people",
    "about": "Choose about whom the organisation may see records",
    "purposes": "Choose at least one purpose",
    "lawful_basis": "Enter the lawful basis, at least 10 characters (for example UK GDPR 6(1)(e))",
    "valid_from": "Enter the start date like 2026-09-01",
    "valid_until": "Enter the end date like 2027-08-31, on or after the start date, or leave it empty",
}


@router.post("/agreements", response_class=HTMLResponse)
def make_agreement(
    access: Annotated[Access, Depends(require("manage-agreements"))],
    reference: Annotated[str, Form(max_length=64)] = "",
    title: Annotated[str, Form(max_length=200)] = "",
    organisation: Annotated[str, Form(max_length=40)] = "",
    feeds: Annotated[list[str] | None, Form()] = None,
    about: Annotated[list[str] | None, Form()] = None,
    purposes: Annotated[list[str] | None, Form()] = None,
    lawful_basis: Annotated[str, Form(max_length=2_000)] = "",
    valid_from: Annotated[str, Form(max_length=10)] = "",
    valid_until: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    values: dict[str, Any] = {
        "reference": reference.strip(),
        "title": title.strip(),
        "organisation": organisation,
        "feeds": feeds or [],
        "about": about or [],
        "purposes": purposes or [],
        "lawful_basis": lawful_basis.strip(),
        "valid_from": valid_from.strip(),
        "valid_until": valid_until.strip() or None,
    }
    errors: dict[str, str] = {}
    spec = None
    try:
        spec = AgreementSpec.model_validate(values)
    except ValidationError as error:
        for problem in error.errors():
            where = str(problem["loc"][0]) if problem["loc"] else "valid_until"
            errors.setdefault(
                where if where in SPEC_FIELDS else "valid_until", FIELD_MESSAGES.get(where, problem["msg"])
            )
    if spec is not None:
        try:
            created = agreement_work.make_agreement(access, spec=spec)
        except UserError as error:
            errors[error.field or "organisation"] = _capital(str(error))
        else:
            return redirect(f"/agreements/{created.id}", done="agreement-made")
    values["valid_until"] = values["valid_until"] or ""
    return page(
        access,
        "dpo_agreement_new.html",
        title="Make a data-sharing agreement",
        status=400,
        error_title=True,
        **_form_context(access, values, errors),
    )


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _agreement_page(
    access: Access, agreement: Agreement, *, errors: dict[str, str], reason: str = "", status: int = 200
) -> HTMLResponse:
    organisation = access.db.get_one(Organisation, agreement.organisation_id)
    history = agreement_work.agreement_history(access, agreement_id=agreement.id)
    people = {
        u.id: u.display_name
        for u in access.db.scalars(
            select(User).where(User.id.in_([h.changed_by_user_id for h in history if h.changed_by_user_id]))
        )
    }
    return page(
        access,
        "dpo_agreement.html",
        title=f"Agreement {agreement.reference}",
        status=status,
        error_title=bool(errors),
        agreement=agreement,
        agreement_organisation=organisation,
        state=state_of(agreement, at=access.now),
        state_labels=STATE_LABELS,
        history=history,
        people=people,
        feed_titles={name: c.title for name, c in FEEDS.items()},
        purpose_descriptions={p.value: p.description for p in Purpose},
        errors=errors,
        reason=reason,
    )


@router.get("/agreements/{agreement_id}", response_class=HTMLResponse)
def agreement_page(
    agreement_id: IdPath, access: Annotated[Access, Depends(require("view-agreements"))]
) -> HTMLResponse:
    return _agreement_page(access, agreement_work.visible_agreement(access, agreement_id=agreement_id), errors={})


@router.post("/agreements/{agreement_id}/end", response_class=HTMLResponse)
def end_agreement_form(
    agreement_id: IdPath,
    access: Annotated[Access, Depends(require("manage-agreements"))],
    reason: Annotated[str, Form(max_length=2_000)] = "",
) -> Response:
    try:
        ended = agreement_work.end_agreement(access, agreement_id=agreement_id, reason=reason.strip())
    except UserError as error:
        agreement = agreement_work.visible_agreement(access, agreement_id=agreement_id)
        errors = {error.field or "reason": _capital(str(error))}
        return _agreement_page(access, agreement, errors=errors, reason=reason, status=400)
    return redirect(f"/agreements/{ended.id}", done="agreement-ended")


def agreements_ending_soon(access: Access, *, days: int = 30) -> list[tuple[Agreement, Organisation]]:
    """Agreements in force now whose end date falls within ``days`` (for the DPO's home page)."""
    return agreement_work.agreements_ending_soon(access, days=days)


def break_glass_waiting(access: Access) -> int:
    """How many break-glass reports wait for a review (for the DPO's home page)."""
    return break_glass.waiting_count(access)


# --- the audit log ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditFilters(audit_log.AuditSearch):
    """The audit page's search, with links to its other pages."""

    def link(self, **change: Any) -> str:
        params = {
            "who": self.who,
            "action": self.action,
            "person": self.person,
            "since": self.since.isoformat() if self.since else "",
            "until": self.until.isoformat() if self.until else "",
            "outcome": self.outcome,
            "glass": "yes" if self.glass else "",
            **change,
        }
        return "/audit?" + urlencode({k: v for k, v in params.items() if v})


def _date(text: str, errors: dict[str, str], field: str) -> dt.date | None:
    if not text.strip():
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        errors[field] = "Enter a date like 2026-11-03"
        return None


@router.get("/audit", response_class=HTMLResponse)
def audit_page(
    access: Annotated[Access, Depends(require("view-audit"))],
    who: Annotated[str, Query(max_length=320)] = "",
    action: Annotated[str, Query(max_length=60)] = "",
    person: Annotated[str, Query(max_length=64, pattern=PERSON_ID)] = "",
    since: Annotated[str, Query(max_length=10)] = "",
    until: Annotated[str, Query(max_length=10)] = "",
    outcome: Annotated[str, Query(max_length=10)] = "",
    glass: Annotated[str, Query(max_length=3)] = "",
    before: Annotated[int | None, Query(ge=1, le=2**62)] = None,
) -> HTMLResponse:
    errors: dict[str, str] = {}
    filters = AuditFilters(
        who=who,
        action=action if action in ACTIONS else "",
        person=person,
        since=_date(since, errors, "since"),
        until=_date(until, errors, "until"),
        outcome=outcome,
        glass=glass == "yes",
        before=before,
    )
    names = audit_log.names(access)
    events = [] if errors else audit_log.search(access, filters, limit=AUDIT_PAGE + 1)
    more = len(events) > AUDIT_PAGE
    events = events[:AUDIT_PAGE]
    return page(
        access,
        "dpo_audit.html",
        title="Audit log",
        events=events,
        filters=filters,
        errors=errors,
        since=since,
        until=until,
        older=filters.link(before=events[-1].seq) if more and events else None,
        newest=filters.link() if before else None,
        organisations=names.organisations,
        role_labels={r.value: label for r, label in ROLE_LABELS.items()},
        action_options=[("", "Any")] + [(name, name) for name in sorted(ACTIONS)],
        people=names.emails,
    )


@router.get("/audit/verify", response_class=HTMLResponse)
def verify_page(access: Annotated[Access, Depends(require("verify-audit"))]) -> HTMLResponse:
    result = audit_log.verify(access)
    return page(access, "dpo_audit_verify.html", title="Check the audit log", result=result)


# --- break-glass reports -----------------------------------------------------------------------------------------


@router.get("/audit/break-glass", response_class=HTMLResponse)
def break_glass_page(access: Annotated[Access, Depends(require("view-audit"))]) -> HTMLResponse:
    return _break_glass(access, errors={})


def _break_glass(access: Access, *, errors: dict[str, str], note: str = "", status: int = 200) -> HTMLResponse:
    reports = break_glass.overview(access)
    return page(
        access,
        "dpo_break_glass.html",
        title="Break-glass reports",
        status=status,
        error_title=bool(errors),
        waiting=reports.waiting,
        reviewed=reports.reviewed,
        events=reports.events,
        users=reports.users,
        organisations={o.id: o.name for o in _organisations(access).values()},
        role_labels={r.value: r.label for r in Role},
        errors=errors,
        note=note,
    )


@router.post("/audit/break-glass/{report_id}/review", response_class=HTMLResponse)
def review_break_glass(
    report_id: IdPath,
    access: Annotated[Access, Depends(require("review-break-glass"))],
    note: Annotated[str, Form(max_length=2_000)] = "",
) -> Response:
    try:
        break_glass.review_break_glass(access, report_id=report_id, note=note.strip())
    except break_glass.AlreadyReviewed:
        return redirect("/audit/break-glass", done="already-reviewed")
    except UserError as error:
        errors = {f"{error.field or 'note'}-{report_id}": _capital(str(error))}
        return _break_glass(access, errors=errors, note=note, status=400)
    return redirect("/audit/break-glass", done="break-glass-reviewed")


# --- record access waiting for a second person (#16) ---------------------------------------------------------------


@router.get("/access-approvals", response_class=HTMLResponse)
def access_approvals_page(access: Annotated[Access, Depends(require("approve-access"))]) -> HTMLResponse:
    return _approvals(access, errors={})


def _approvals(access: Access, *, errors: dict[str, str], status: int = 200) -> HTMLResponse:
    waiting = account_work.awaiting_approval(access)
    return page(
        access,
        "dpo_access_approvals.html",
        title="Access waiting for your approval",
        status=status,
        waiting=waiting,
        organisations={o.id: o.name for o in _organisations(access).values()},
        changed_by=account_work.changed_by(access, waiting),
        errors=errors,
    )


@router.post("/access-approvals/{user_id}", response_class=HTMLResponse)
def approve_access(user_id: IdPath, access: Annotated[Access, Depends(require("approve-access"))]) -> Response:
    try:
        account_work.approve_access(access, user_id=user_id)
    except UserError as error:
        return _approvals(access, errors={f"approve-{user_id}": _capital(str(error))}, status=400)
    return redirect("/access-approvals", done="access-approved")
