"""The partnership's work plan: items with an owner organisation, a due date and a status, linked to the barriers
the landscape review found and the practices it wants to spread; partners comment (moderated, as in the library)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from commonground.access import audit
from commonground.access.audit import Actor
from commonground.errors import UserError
from commonground.store.db import utcnow
from commonground.store.models import Organisation
from commonground.whatworks.forces import BARRIERS, PRACTICES
from commonground.whatworks.models import PlanItem, PlanStatus

PLAN_STATUS_LABELS: dict[PlanStatus, str] = {
    PlanStatus.NOT_STARTED: "Not started",
    PlanStatus.IN_PROGRESS: "In progress",
    PlanStatus.DONE: "Done",
    PlanStatus.BLOCKED: "Blocked",
}


@dataclass(frozen=True)
class PlanFields:
    title: str
    description: str
    owner_organisation_id: int
    due_on: dt.date
    status: PlanStatus = PlanStatus.NOT_STARTED
    barriers: Sequence[str] = ()
    practices: Sequence[str] = ()

    def errors(self) -> dict[str, str]:
        found: dict[str, str] = {}
        if not self.title.strip():
            found["title"] = "Enter a title"
        elif len(self.title) > 200:
            found["title"] = "A title is at most 200 characters"
        if len(self.description) > 10_000:
            found["description"] = "A description is at most 10,000 characters"
        if "\x00" in self.title + self.description:
            found["title"] = "Text cannot contain the NUL character"
        if any(b not in BARRIERS for b in self.barriers):
            found["barriers"] = "Choose barriers from the list"
        if any(p not in PRACTICES for p in self.practices):
            found["practices"] = "Choose practices from the list"
        return found


def _check(session: Session, fields: PlanFields) -> None:
    errors = fields.errors()
    if session.get(Organisation, fields.owner_organisation_id) is None:
        errors["owner"] = "Choose the organisation that owns the item"
    if errors:
        raise UserError("; ".join(errors.values()))


def _apply(item: PlanItem, fields: PlanFields) -> None:
    item.title = fields.title.strip()
    item.description = fields.description.strip()
    item.owner_organisation_id = fields.owner_organisation_id
    item.due_on = fields.due_on
    item.status = fields.status
    item.barriers = [b for b in BARRIERS if b in fields.barriers]
    item.practices = [p for p in PRACTICES if p in fields.practices]


def create_plan_item(session: Session, *, fields: PlanFields, by: Actor) -> PlanItem:
    _check(session, fields)
    item = PlanItem(created_by_user_id=by.user_id)
    _apply(item, fields)
    session.add(item)
    session.flush()
    audit.record(
        session,
        audit.Event(
            actor=by, action="manage-survey", subject_type="plan", subject_id=str(item.id), detail={"change": "created"}
        ),
    )
    return item


def update_plan_item(session: Session, *, item: PlanItem, fields: PlanFields, by: Actor) -> PlanItem:
    _check(session, fields)
    _apply(item, fields)
    item.updated_at = utcnow()
    audit.record(
        session,
        audit.Event(
            actor=by,
            action="manage-survey",
            subject_type="plan",
            subject_id=str(item.id),
            detail={"change": "updated", "status": item.status.value},
        ),
    )
    return item


def plan_items(session: Session) -> list[PlanItem]:
    return list(session.scalars(select(PlanItem).order_by(PlanItem.due_on, PlanItem.id)))
