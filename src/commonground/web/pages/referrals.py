"""Referrals as pages: the lists sent and received, making one from a flag, and one referral with its history and
the forms for the steps the state machine allows now (and only those).

Every page calls the same operations as the API (:mod:`commonground.cases.referral_work`): a referral that is
not the organisation's is "not found"; reading one is checked by the resolver and audited; each step is audited in
the same transaction. Free text travels only in POST bodies.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query
from fastapi.responses import HTMLResponse, Response

from commonground.access.purposes import Purpose
from commonground.access.roles import ROLE_GRANTS
from commonground.cases.person_view import Identity
from commonground.cases.queue import read_work_item
from commonground.cases.referral_work import (
    make_referral,
    open_for_handling,
    read_referral,
    read_referrals,
    take_referral_step,
)
from commonground.cases.referrals import (
    CONSENT_LABELS,
    MAX_TEXT,
    STATUS_LABELS,
    STEP_LABELS,
    Consent,
    NewReferral,
    Referral,
    ReferralStatus,
    Step,
    allowed_steps,
    partners,
)
from commonground.cases.work_items import WorkItem
from commonground.errors import Refused, UserError
from commonground.store.organisation_types import OrganisationType
from commonground.web.deps import Access, require
from commonground.web.idempotency import new_key
from commonground.web.params import IdPath
from commonground.web.render import in_words, page, redirect
from commonground.web.rule_titles import rule_title

ADULT = 18
"""From this age a person is an adult, and no school is offered as a recipient."""

router = APIRouter(include_in_schema=False)

DONE: dict[str, str] = {
    "referral-sent": "Your referral has been sent.",
    "referral-accept": "You have accepted the referral.",
    "referral-reject": (
        "You have rejected the referral. The organisation that sent it can see your reason; "
        "your organisation can no longer open the person's records through it."
    ),
    "referral-record_action": "The action has been recorded.",
    "referral-transfer": "The referral has been transferred. It is no longer with your organisation.",
    "referral-close": "The referral is closed. Your organisation can no longer open the person's records through it.",
}
"""What this area's forms confirm after a redirect (``?done=CODE``); gathered by ``pages.done_messages()``."""

STATUS_COLOURS: dict[ReferralStatus, str] = {
    ReferralStatus.SENT: "amber",
    ReferralStatus.ACCEPTED: "green",
    ReferralStatus.REJECTED: "red",
    ReferralStatus.CLOSED: "grey",
}

CONSENT_CHOICES: list[tuple[str, str, str]] = [
    (Consent.GIVEN.value, "Yes, the person (or someone who can consent for them) agreed", ""),
    (
        Consent.NOT_NEEDED.value,
        "Consent is not needed",
        "Say why below, for instance: safeguarding, asking would place the child at risk.",
    ),
    (
        Consent.REFUSED.value,
        "Consent was refused, and the referral goes ahead",
        "Say below why sharing without consent is justified (a risk of significant harm, say).",
    ),
]

STEP_FIELDS: dict[Step, str] = {
    Step.REJECT: "reject_reason",
    Step.RECORD_ACTION: "action_note",
    Step.TRANSFER: "transfer_reason",
    Step.CLOSE: "close_outcome",
}
"""The form field that carries each step's note (one per form, so that every field on the page has its own id)."""


@dataclass(frozen=True)
class Row:
    referral: Referral
    identity: Identity | None
    title: str
    colour: str


def _identity(access: Access, person_id: str) -> Identity | None:
    view = access.request.app.state.person_views.current()
    return view.identity(person_id) if view is not None else None


def _row(access: Access, referral: Referral) -> Row:
    return Row(
        referral=referral,
        identity=_identity(access, referral.person_id),
        title=rule_title(access, referral.rule_id) if referral.rule_id else "Referral",
        colour=STATUS_COLOURS[referral.status],
    )


@router.get("/referrals", response_class=HTMLResponse)
def referrals_page(
    access: Annotated[Access, Depends(require("view-referrals"))],
    status: Annotated[str, Query(max_length=20)] = "open",
    side: Annotated[str, Query(max_length=10)] = "all",
) -> HTMLResponse:
    me = access.me()
    shown = read_referrals(
        access,
        sent=side in ("all", "sent"),
        received=side in ("all", "received"),
        status=ReferralStatus(status) if status in {s.value for s in ReferralStatus} else None,
        open_only=status == "open",
        limit=400,
    )
    access.db.commit()
    rows = [_row(access, r) for r in shown.items]
    return page(
        access,
        "referrals.html",
        title="Referrals",
        received=[r for r in rows if r.referral.to_organisation_id == me.organisation_id],
        sent=[r for r in rows if r.referral.from_organisation_id == me.organisation_id],
        withheld=shown.withheld,
        chosen_status=status,
        side=side,
        status_labels=STATUS_LABELS,
        statuses=[
            ("open", "Not finished (sent or accepted)"),
            *((s.value, STATUS_LABELS[s]) for s in ReferralStatus),
            ("all", "All"),
        ],
    )


def _legal_basis(access: Access, item: WorkItem) -> str:
    view = access.request.app.state.person_views.current()
    if view is None:
        return ""
    for result in view.rule_results(item.person_id, feeds=item.evidence_feeds):
        if result.rule_id == item.rule_id and result.legal_basis:
            return str(result.legal_basis)
    return ""


def _new_form(
    access: Access,
    item: WorkItem,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    me = access.me()
    identity = _identity(access, item.person_id)
    age = identity.age_on(access.now.date()) if identity else None
    offered = [
        o
        for o in partners(access.db, excluding=me.organisation_id)
        if not (o.type is OrganisationType.SCHOOL and (age is None or age >= ADULT))  # #17: schools for an adult
    ]
    defaults = {
        "to_organisation": "",
        "summary": "",
        "consent": "",
        "consent_note": "",
        "lawful_basis": _legal_basis(access, item),
        "purpose": item.purpose.value,
    }
    return page(
        access,
        "referral_new.html",
        title="Refer to a partner",
        item=item,
        identity=identity,
        flag_title=rule_title(access, item.rule_id),
        partners=[("", "Choose an organisation")] + [(str(o.id), o.name) for o in offered],
        consent_choices=CONSENT_CHOICES,
        purposes=[(p.value, p.value.replace("_", " ").capitalize(), p.description) for p in Purpose],
        values={**defaults, **(values or {})},
        errors=errors or {},
        error_title=bool(errors),
        form_key=new_key(),  # the form's idempotency key: sent twice, the referral is made once
        status=status,
    )


@router.get("/referrals/new", response_class=HTMLResponse)
def new_referral_page(
    access: Annotated[Access, Depends(require("make-referral"))],
    work_item: Annotated[int, Query(ge=1, le=2_147_483_647)],
) -> HTMLResponse:
    item = read_work_item(access, item_id=work_item, not_found=True)
    access.db.commit()
    return _new_form(access, item)


def _form_errors(values: dict[str, str]) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not values["to_organisation"].isdigit():
        errors["to_organisation"] = "Choose the organisation to refer to"
    if len(values["summary"].strip()) < 3:
        errors["summary"] = "Enter why you are referring"
    if values["consent"] not in {c.value for c in Consent}:
        errors["consent"] = "Select whether the person consented"
    elif values["consent"] != Consent.GIVEN.value and len(values["consent_note"].strip()) < 3:
        errors["consent_note"] = (
            "Enter why consent is not needed"
            if values["consent"] == Consent.NOT_NEEDED.value
            else "Enter why the referral goes ahead without consent"
        )
    if len(values["lawful_basis"].strip()) < 3:
        errors["lawful_basis"] = "Enter the lawful basis for sharing"
    if values["purpose"] not in {p.value for p in Purpose}:
        errors["purpose"] = "Select the purpose of the referral"
    return errors


@router.post("/referrals", response_model=None)
def create_referral(
    access: Annotated[Access, Depends(require("make-referral"))],
    work_item: Annotated[int, Form(ge=1, le=2_147_483_647)],
    to_organisation: Annotated[str, Form(max_length=12)] = "",
    summary: Annotated[str, Form(max_length=MAX_TEXT)] = "",
    consent: Annotated[str, Form(max_length=20)] = "",
    consent_note: Annotated[str, Form(max_length=MAX_TEXT)] = "",
    lawful_basis: Annotated[str, Form(max_length=MAX_TEXT)] = "",
    purpose: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    item = read_work_item(access, item_id=work_item, not_found=True)
    values = {
        "to_organisation": to_organisation,
        "summary": summary,
        "consent": consent,
        "consent_note": consent_note,
        "lawful_basis": lawful_basis,
        "purpose": purpose,
    }
    errors = _form_errors(values)
    if not errors:
        try:
            referral = make_referral(
                access,
                work_item_id=item.id,
                new=NewReferral(
                    to_organisation_id=int(to_organisation),
                    summary=summary,
                    consent=Consent(consent),
                    consent_note=consent_note,
                    lawful_basis=lawful_basis,
                    purpose=Purpose(purpose),
                ),
            )
        except Refused as refused:  # #17: a full-page 403 lost what was typed; the refusal is audited and kept
            access.db.commit()
            errors["purpose"] = _sentence(f"this referral cannot be made: {in_words(refused.reason)}")
            return _new_form(access, item, values=values, errors=errors, status=403)
        except UserError as error:
            access.db.rollback()
            errors[error.field or "summary"] = _sentence(str(error))
        else:
            access.db.commit()
            return redirect(f"/referrals/{referral.id}", done="referral-sent")
    access.db.commit()
    return _new_form(access, item, values=values, errors=errors, status=400)


def _sentence(text: str) -> str:
    """A capital first letter and nothing else changed (``str.capitalize`` lower-cased the partner's name)."""
    return text[:1].upper() + text[1:]


def _detail(
    access: Access,
    referral: Referral,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    me = access.me()
    receiving = referral.to_organisation_id == me.organisation_id
    may_handle = receiving and "handle-referral" in _granted(access)
    steps = [s for s in allowed_steps(referral.status) if s is not Step.SEND] if may_handle else []
    return page(
        access,
        "referral.html",
        title=f"Referral {referral.id}",
        referral=referral,
        row=_row(access, referral),
        receiving=receiving,
        steps=[s.value for s in steps],
        step_fields={s.value: f for s, f in STEP_FIELDS.items()},
        step_labels={s.value: label for s, label in STEP_LABELS.items()},
        status_labels=STATUS_LABELS,
        consent_labels=CONSENT_LABELS,
        transfer_to=[("", "Choose an organisation")]
        + [
            (str(o.id), o.name)
            for o in partners(access.db, excluding=me.organisation_id)
            if o.id != referral.from_organisation_id
        ],
        errors=errors or {},
        error_title=bool(errors),
        values=values or {},
        status=status,
    )


def _granted(access: Access) -> frozenset[str]:
    return ROLE_GRANTS[access.me().role]


@router.get("/referrals/{referral_id}", response_class=HTMLResponse)
def referral_page(referral_id: IdPath, access: Annotated[Access, Depends(require("view-referrals"))]) -> HTMLResponse:
    referral = read_referral(access, referral_id=referral_id)
    access.db.commit()
    return _detail(access, referral)


@router.post("/referrals/{referral_id}", response_model=None)
def referral_step(
    referral_id: IdPath,
    access: Annotated[Access, Depends(require("handle-referral"))],
    step: Annotated[str, Form(max_length=20)],
    reject_reason: Annotated[str, Form(max_length=MAX_TEXT)] = "",
    action_note: Annotated[str, Form(max_length=MAX_TEXT)] = "",
    transfer_reason: Annotated[str, Form(max_length=MAX_TEXT)] = "",
    close_outcome: Annotated[str, Form(max_length=MAX_TEXT)] = "",
    to_organisation: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    open_for_handling(access, referral_id=referral_id)  # 404 or 403 before anything else
    values = {
        "reject_reason": reject_reason,
        "action_note": action_note,
        "transfer_reason": transfer_reason,
        "close_outcome": close_outcome,
        "to_organisation": to_organisation,
    }
    chosen = Step(step) if step in {s.value for s in Step} and step != Step.SEND.value else None
    errors: dict[str, str] = {}
    field = STEP_FIELDS.get(chosen) if chosen else None
    if chosen is None:
        errors["step"] = "Choose what to do with the referral"
    elif field is not None and len(values[field].strip()) < 3:
        errors[field] = {
            Step.REJECT: "Enter why you are rejecting the referral",
            Step.RECORD_ACTION: "Enter what was done",
            Step.TRANSFER: "Enter why you are transferring the referral",
            Step.CLOSE: "Enter the outcome before closing the referral",
        }[chosen]
    if chosen is Step.TRANSFER and not to_organisation.isdigit():
        errors["to_organisation"] = "Choose the organisation to transfer the referral to"
    if not errors and chosen is not None:
        try:
            take_referral_step(
                access,
                referral_id=referral_id,
                step=chosen,
                note=values[field] if field else None,
                to_organisation_id=int(to_organisation) if chosen is Step.TRANSFER else None,
            )
        except UserError as error:
            access.db.rollback()
            errors[field or "step"] = str(error).capitalize()
        else:
            access.db.commit()
            done = f"referral-{chosen.value}"
            # A step that ends the referral for this organisation (transfer, reject, close) ends its access to
            # the person's records too: back to the list, with the confirmation.
            ends = chosen in (Step.TRANSFER, Step.REJECT, Step.CLOSE)
            return redirect("/referrals" if ends else f"/referrals/{referral_id}", done=done)
    referral = read_referral(access, referral_id=referral_id)
    access.db.commit()
    return _detail(access, referral, errors=errors, values=values, status=400)


def person_referrals(access: Access, person_id: str, purpose: Purpose) -> dict[str, Any]:
    """The person page's section: referrals about this person that my organisation sent or received."""
    if "view-referrals" not in _granted(access):
        return {}
    shown = read_referrals(access, person_id=person_id, limit=100)
    return {
        "referrals": [_row(access, r) for r in shown.items],
        "referrals_withheld": shown.withheld,
        "referral_status_labels": STATUS_LABELS,
        "person_sections": ["person_referrals.html"],
    }


PERSON_SECTION = person_referrals
"""This area's part of the person page (gathered by ``pages.person_sections()``)."""
