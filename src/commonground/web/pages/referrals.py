"""Referrals as pages: the lists sent and received (with the answers overdue), making one from a flag or from the
person's page, and one referral with the records it shares, its history and the forms for the steps the state
machine allows now (and only those).

Making one takes two steps: first the partner and the purpose, among those that can work; then the records to
share, one by one, among those the sender may open and that partner could receive for that purpose, with the
summary, the consent, the lawful basis and the response deadline.

Every page calls the same operations as the API (:mod:`commonground.cases.referral_work`): a referral that is
not the organisation's is "not found"; reading one is checked by the resolver and audited; each step is audited in
the same transaction. Free text travels only in POST bodies.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from itertools import groupby
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query
from fastapi.responses import HTMLResponse, Response

from commonground.access.purposes import Purpose
from commonground.access.roles import ROLE_GRANTS
from commonground.cases import people
from commonground.cases.person_view import Event, Identity, PersonView
from commonground.cases.queue import read_work_item
from commonground.cases.referral_work import (
    Option,
    Shareable,
    make_referral,
    open_for_handling,
    read_referral,
    read_referrals,
    receivable_by,
    referral_options,
    shareable_records,
    take_referral_step,
)
from commonground.cases.referrals import (
    CONSENT_LABELS,
    LONGEST_RESPONSE,
    MAX_ITEMS,
    MAX_TEXT,
    RESPONSE_DAYS,
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
from commonground.errors import NotFound, Refused, UserError
from commonground.store.models import Organisation
from commonground.web.deps import Access, require
from commonground.web.params import IdPath
from commonground.web.present import agency, details, headline
from commonground.web.render import in_words, local_date, page, redirect
from commonground.web.rule_titles import rule_title

PERSON_ID = r"^[A-Za-z0-9_.-]{1,64}$"

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
    overdue: bool = False


def _view(access: Access) -> PersonView | None:
    view: PersonView | None = access.request.app.state.person_views.current()
    return view


def _identity(access: Access, person_id: str) -> Identity | None:
    view = _view(access)
    return view.identity(person_id) if view is not None else None


def _row(access: Access, referral: Referral) -> Row:
    return Row(
        referral=referral,
        identity=_identity(access, referral.person_id),
        title=rule_title(access, referral.rule_id) if referral.rule_id else "Referral from the person's record",
        colour=STATUS_COLOURS[referral.status],
        overdue=referral.overdue_on(access.now.date()),
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
        overdue=sum(1 for r in rows if r.overdue and r.referral.to_organisation_id == me.organisation_id),
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


def _legal_basis(access: Access, person_id: str, item: WorkItem | None) -> str:
    view = _view(access)
    if view is None or item is None:
        return ""
    for result in view.rule_results(person_id, feeds=item.evidence_feeds):
        if result.rule_id == item.rule_id and result.legal_basis:
            return str(result.legal_basis)
    return ""


@dataclass(frozen=True)
class Start:
    """Where a referral is made from: a flag (a work item the sender may read) or the person's record."""

    person_id: str
    item: WorkItem | None

    @property
    def hidden(self) -> dict[str, str]:
        return {"work_item": str(self.item.id)} if self.item else {"person": self.person_id}

    @property
    def query(self) -> str:
        return f"work_item={self.item.id}" if self.item else f"person={self.person_id}"


def _start(access: Access, work_item: int | None, person: str | None) -> Start:
    if work_item is not None:
        item = read_work_item(access, item_id=work_item, not_found=True)
        return Start(item.person_id, item)
    if person is None or _identity(access, person) is None:
        raise NotFound()
    return Start(person, None)


def _age(access: Access, person_id: str) -> int | None:
    identity = _identity(access, person_id)
    return identity.age_on(access.now.date()) if identity else None


def _options(access: Access, start: Start) -> list[Option]:
    return referral_options(
        access, view=_view(access), person_id=start.person_id, item=start.item, age=_age(access, start.person_id)
    )


def _choice_words(option: Option, purpose: Purpose) -> tuple[str, str, str]:
    return (f"{option.organisation.id}:{purpose.value}", f"{option.organisation.name}: {purpose.label.lower()}", "")


def _choose_page(access: Access, start: Start, *, error: str | None = None, status: int = 200) -> HTMLResponse:
    """The first step: the partner and the purpose, among those that can work."""
    options = _options(access, start)
    return page(
        access,
        "referral_choose.html",
        title="Refer to a partner",
        start=start,
        identity=_identity(access, start.person_id),
        flag_title=rule_title(access, start.item.rule_id) if start.item else None,
        choices=[_choice_words(o, p) for o in options for p in o.purposes],
        errors={"choice": error} if error else {},
        error_title=bool(error),
        status=status,
    )


@dataclass(frozen=True)
class Group:
    """Records offered in one group of the form: behind the flag, or one agency's other records."""

    title: str
    options: list[tuple[str, str]]


def _words(record: Shareable) -> str:
    event = Event(record.feed, record.record_id, record.at, dict(record.data))
    when = local_date(record.at) if record.at else "date not recorded"
    said = headline(event) if record.data else agency(record.feed)
    more = "; ".join(f"{k}: {v}" for k, v in details(event)[:3]) if record.data else ""
    found = f" (the flag found {record.what})" if record.what else ""
    return f"{when}: {said}{found}{' · ' + more if more else ''}"


def _groups(records: list[Shareable]) -> list[Group]:
    groups: list[Group] = []
    behind = [r for r in records if r.behind_flag]
    if behind:
        groups.append(Group("Records behind the flag", [(f"{r.feed}:{r.record_id}", _words(r)) for r in behind]))
    rest = sorted((r for r in records if not r.behind_flag), key=lambda r: agency(r.feed))
    for name, found in groupby(rest, key=lambda r: agency(r.feed)):
        groups.append(Group(f"Other records: {name}", [(f"{r.feed}:{r.record_id}", _words(r)) for r in found]))
    return groups


def _new_form(
    access: Access,
    start: Start,
    *,
    to: int,
    purpose: Purpose,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    """The second step: the records to share (only those the partner could receive for the purpose), and the
    rest of the referral. A purpose the resolver refuses keeps what was typed, with the refusal (audited) on the
    purpose and no records offered (#17)."""
    errors = dict(errors or {})
    option = next((o for o in _options(access, start) if o.organisation.id == to and purpose in o.purposes), None)
    partner = option.organisation if option else access.db.get(Organisation, to)
    refused = {"purpose", "to_organisation"} & set(errors)  # a refusal after posting: the form is kept (#17)
    if partner is None or (option is None and not refused):
        return _choose_page(access, start, error="Choose a partner and a purpose from the list", status=400)
    records: list[Shareable] = []
    if "purpose" not in errors:  # a refused purpose offers no records (the refusal is audited once)
        try:
            records = shareable_records(
                access, view=_view(access), person_id=start.person_id, purpose=purpose, item=start.item
            )  # a read of the person, audited
        except Refused as refused:  # audited by the resolver's context
            errors["purpose"] = _sentence(f"this referral cannot be made: {in_words(refused.reason)}")
            status = 403
    offered_keys = set(receivable_by(access, to, purpose=purpose, items=[r.key for r in records]))
    offered = [r for r in records if r.key in offered_keys]
    today = access.now.date()
    defaults: dict[str, Any] = {
        "summary": "",
        "consent": "",
        "consent_note": "",
        "lawful_basis": _legal_basis(access, start.person_id, start.item),
        "respond_by": (today + dt.timedelta(days=RESPONSE_DAYS)).isoformat(),
        "items": [],
    }
    return page(
        access,
        "referral_new.html",
        title="Refer to a partner",
        start=start,
        identity=_identity(access, start.person_id),
        flag_title=rule_title(access, start.item.rule_id) if start.item else None,
        partner=partner,
        purpose=purpose,
        groups=_groups(offered),
        not_offered=len(records) - len(offered),
        consent_choices=CONSENT_CHOICES,
        latest=local_date(today + dt.timedelta(days=LONGEST_RESPONSE)),
        longest=LONGEST_RESPONSE,
        values={**defaults, **(values or {})},
        errors=errors,
        error_title=bool(errors),
        status=status,
    )


def _parse_choice(choice: str) -> tuple[int, Purpose] | None:
    org, _, purpose = choice.partition(":")
    if not org.isdigit() or purpose not in {p.value for p in Purpose}:
        return None
    return int(org), Purpose(purpose)


@router.get("/referrals/new", response_class=HTMLResponse)
def new_referral_page(
    access: Annotated[Access, Depends(require("make-referral"))],
    work_item: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    person: Annotated[str | None, Query(pattern=PERSON_ID)] = None,
    choice: Annotated[str, Query(max_length=60)] = "",
) -> HTMLResponse:
    start = _start(access, work_item, person)
    chosen = _parse_choice(choice)
    if chosen is None:
        response = _choose_page(
            access, start, error="Choose a partner and a purpose" if choice else None, status=400 if choice else 200
        )
        access.db.commit()
        return response
    response = _new_form(access, start, to=chosen[0], purpose=chosen[1])
    access.db.commit()
    return response


def _form_errors(values: dict[str, Any]) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not values["items"]:
        errors["items"] = "Choose at least one record to share"
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
    try:
        if values["respond_by"].strip():
            dt.date.fromisoformat(values["respond_by"].strip())
    except ValueError:
        errors["respond_by"] = "Enter the response deadline as a date, like 2026-12-14"
    return errors


@router.post("/referrals", response_model=None)
def create_referral(
    access: Annotated[Access, Depends(require("make-referral"))],
    work_item: Annotated[int | None, Form(ge=1, le=2_147_483_647)] = None,
    person: Annotated[str | None, Form(pattern=PERSON_ID)] = None,
    to_organisation: Annotated[str, Form(max_length=12)] = "",
    purpose: Annotated[str, Form(max_length=40)] = "",
    items: Annotated[list[str] | None, Form(max_length=MAX_ITEMS)] = None,
    summary: Annotated[str, Form(max_length=MAX_TEXT)] = "",
    consent: Annotated[str, Form(max_length=20)] = "",
    consent_note: Annotated[str, Form(max_length=MAX_TEXT)] = "",
    lawful_basis: Annotated[str, Form(max_length=MAX_TEXT)] = "",
    respond_by: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    start = _start(access, work_item, person)
    chosen = _parse_choice(f"{to_organisation}:{purpose}")
    if chosen is None:
        response = _choose_page(access, start, error="Choose a partner and a purpose", status=400)
        access.db.commit()
        return response
    to, why = chosen
    picked = [i for i in (items or []) if ":" in i and len(i) <= 300]
    values: dict[str, Any] = {
        "summary": summary,
        "consent": consent,
        "consent_note": consent_note,
        "lawful_basis": lawful_basis,
        "respond_by": respond_by,
        "items": picked,
    }
    errors = _form_errors(values)
    status = 400
    if not errors:
        try:
            referral = make_referral(
                access,
                work_item_id=start.item.id if start.item else None,
                person_id=start.person_id,
                view=_view(access),
                new=NewReferral(
                    to_organisation_id=to,
                    summary=summary,
                    consent=Consent(consent),
                    consent_note=consent_note,
                    lawful_basis=lawful_basis,
                    purpose=why,
                    items=tuple((f, r) for f, _, r in (i.partition(":") for i in picked)),
                    respond_by=dt.date.fromisoformat(respond_by.strip()) if respond_by.strip() else None,
                ),
            )
        except Refused as refused:  # #17: a full-page 403 lost what was typed; the refusal is audited and kept
            access.db.commit()
            errors["purpose"] = _sentence(f"this referral cannot be made: {in_words(refused.reason)}")
            status = 403
        except UserError as error:
            access.db.rollback()
            errors[error.field if error.field in FORM_FIELDS else "summary"] = _sentence(str(error))
        else:
            access.db.commit()
            return redirect(f"/referrals/{referral.id}", done="referral-sent")
    response = _new_form(access, start, to=to, purpose=why, values=values, errors=errors, status=status)
    access.db.commit()
    return response


FORM_FIELDS = frozenset(
    {"items", "summary", "consent", "consent_note", "lawful_basis", "respond_by", "to_organisation"}
)
"""The fields of the second step a :class:`UserError` can name (any other is shown on the summary)."""


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
    shared, unseen = _shared_words(access, referral)
    return page(
        access,
        "referral.html",
        title=f"Referral {referral.id}",
        referral=referral,
        row=_row(access, referral),
        shared=shared,
        unseen=unseen,
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


def _shared_words(access: Access, referral: Referral) -> tuple[list[tuple[str, str]], int]:
    """The records the referral shares, in words, as the reader may open them (the receiver through the referral,
    the sender through its own agreements), each with its agency; and how many of them the reader may not open
    now (a finished referral opens nothing more to its receiver)."""
    view = _view(access)
    openings = people.openings_for(access, person_id=referral.person_id, purpose=referral.purpose, others=())
    visible = [item for item in referral.items if openings.shows(*item)]
    events = {}
    if view is not None and visible:
        feeds = frozenset(feed for feed, _ in visible)
        events = {(e.feed, e.record_id): e for e in view.events(referral.person_id, feeds=feeds)}
    words: list[tuple[str, str]] = []
    for feed, record_id in visible:
        event = events.get((feed, record_id))
        record = Shareable(
            feed, record_id, at=event.at if event else None, data=openings.data(feed, event.data) if event else {}
        )
        words.append((agency(feed), _words(record)))
    return words, len(referral.items) - len(visible)


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
