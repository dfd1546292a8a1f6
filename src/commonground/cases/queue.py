"""The queue: the work items routed to a person's organisation and role, read and changed through the resolver.

Reading a work item opens identifiable records (who is flagged, for what): each item is checked for a purpose (the
one the reader states, or the one its rule serves) and audited as read; an item no agreement covers is withheld and
counted. An item routed to another organisation or role is "not found". Claiming, assigning, closing and reopening
are checked for ``update-work-item`` and audited by :func:`commonground.cases.work_items.update_work_item`. Nothing
here commits: the caller does, once the answer is ready.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import Select, case, select

from commonground.access import audit
from commonground.access.context import Context
from commonground.access.models import User
from commonground.access.purposes import Purpose
from commonground.access.resolver import Decision, Subject
from commonground.cases.link_reviews import LinkReviewSource, raise_link_review
from commonground.cases.reads import Shown, read_each
from commonground.cases.work_items import Outcome, Rating, WorkItem, WorkItemStatus, subject_of, update_work_item
from commonground.errors import NotFound, UserError

NOT_A_COLLEAGUE = "a work item can be assigned only to an active colleague in the role it is routed to"
PAGE_LIMIT = 200
"""The queue page shows at most this many items."""


def open_work_item(
    ctx: Context,
    *,
    item_id: int,
    action: str = "view-work-items",
    purpose: Purpose | None = None,
    break_glass_reason: str | None = None,
    not_found: bool = False,
) -> tuple[WorkItem, Decision, Subject]:
    """The work item if the resolver lets the person take ``action`` on it for ``purpose`` (by default the purpose
    its rule serves). Otherwise the refusal is audited and raised: as "not found" for an item routed elsewhere (or
    for any refusal, with ``not_found``). Nothing is audited when it is allowed."""
    item = ctx.db.get(WorkItem, item_id)
    if item is None:
        raise NotFound()
    subject = subject_of(item)
    decision = ctx.require(
        action,
        subject,
        purpose=purpose or item.purpose,
        break_glass_reason=break_glass_reason,
        not_found=not_found,
    )
    return item, decision, subject


def read_work_item(
    ctx: Context,
    *,
    item_id: int,
    purpose: Purpose | None = None,
    break_glass_reason: str | None = None,
    not_found: bool = False,
) -> WorkItem:
    """Open one work item to show it (:func:`open_work_item`) and audit the read, with the break-glass reason when
    the resolver let it through by breaking glass."""
    item, decision, subject = open_work_item(
        ctx, item_id=item_id, purpose=purpose, break_glass_reason=break_glass_reason, not_found=not_found
    )
    ctx.audit_reads([(decision, subject)], purpose=purpose or item.purpose, reason=break_glass_reason)
    return item


def _mine(ctx: Context, *, by_rating: bool = False) -> Select[WorkItem]:
    """The work routed to the person's organisation and role: soonest deadline first, or with ``by_rating`` red
    first, then amber, then green, then items with no rating (a school's notice), each soonest deadline first."""
    me = ctx.me()
    query = select(WorkItem).where(WorkItem.organisation_id == me.organisation_id, WorkItem.role == me.role)
    if by_rating:
        rank = case({r.value: r.rank for r in Rating}, value=WorkItem.rating, else_=len(Rating))
        return query.order_by(rank, WorkItem.due_by, WorkItem.id)
    return query.order_by(WorkItem.due_by, WorkItem.id)


def list_work_items(
    ctx: Context, *, purpose: Purpose, status: WorkItemStatus | None = None, limit: int = 100
) -> Shown[WorkItem]:
    """The person's queue, soonest deadline first, read for the purpose they state: at most ``limit`` items shown,
    and every item of the queue that the purpose does not open counted as withheld."""
    query = _mine(ctx)
    if status is not None:
        query = query.where(WorkItem.status == status)
    return read_each(
        ctx,
        "view-work-items",
        ctx.db.scalars(query),
        subject_of=subject_of,
        purpose_of=lambda _: purpose,
        at_most=limit,
    )


@dataclass(frozen=True)
class QueueFilter:
    """What the queue page filters on: ``status`` is ``active`` (not closed), a status, or anything else for all;
    ``rating`` a RAG rating (``red``, ``amber``, ``green``) or ``none`` for the unrated; ``due`` ``overdue`` for
    the items past their deadline or ``not_overdue``; ``rule`` a rule id; ``person`` a person id; ``mine`` ``yes``
    for the items assigned to the reader. ``sort`` is ``rating`` (red first) or ``due`` (soonest deadline first)."""

    status: str = "active"
    rating: str = ""
    due: str = ""
    rule: str = ""
    person: str = ""
    mine: str = ""
    sort: str = "rating"


def browse_queue(
    ctx: Context, *, filters: QueueFilter, keep: Callable[[WorkItem], bool] | None = None
) -> Shown[WorkItem]:
    """The queue page's items: each read for the purpose its rule serves, those ``keep`` keeps shown (at most
    :data:`PAGE_LIMIT`; reading stops there) and audited; the refused ones counted as withheld."""
    query = _mine(ctx, by_rating=filters.sort != "due")
    if filters.rating in {r.value for r in Rating}:
        query = query.where(WorkItem.rating == Rating(filters.rating))
    elif filters.rating == "none":
        query = query.where(WorkItem.rating.is_(None))
    if filters.due == "overdue":
        query = query.where(WorkItem.due_by < ctx.now)
    elif filters.due == "not_overdue":
        query = query.where(WorkItem.due_by >= ctx.now)
    if filters.status == "active":
        query = query.where(WorkItem.status != WorkItemStatus.CLOSED)
    elif filters.status in {s.value for s in WorkItemStatus}:
        query = query.where(WorkItem.status == WorkItemStatus(filters.status))
    if filters.rule:
        query = query.where(WorkItem.rule_id == filters.rule)
    if filters.person.strip():
        query = query.where(WorkItem.person_id == filters.person.strip())
    if filters.mine == "yes":
        query = query.where(WorkItem.assigned_to_user_id == ctx.me().user_id)
    return read_each(
        ctx,
        "view-work-items",
        ctx.db.scalars(query.limit(1000)),
        subject_of=subject_of,
        purpose_of=lambda item: item.purpose,
        keep=keep,
        at_most=PAGE_LIMIT,
        stop_when_full=True,
    )


def _is_colleague(ctx: Context, item: WorkItem, user_id: int | None) -> bool:
    """Whether ``user_id`` is an active account of the organisation and role the item is routed to."""
    user = ctx.db.get(User, user_id) if user_id else None
    return user is not None and user.active and (user.organisation_id, user.role) == (item.organisation_id, item.role)


def change_work_item(
    ctx: Context,
    *,
    item_id: int,
    purpose: Purpose,
    status: WorkItemStatus | None = None,
    assigned_to_user_id: int | None = None,
    outcome: str | None = None,
    outcome_code: Outcome | None = None,
) -> WorkItem:
    """Claim, assign or close a work item, for the purpose the person states (the API's change); a move the work
    item's status does not allow, or an assignee who is not an active colleague in its role, is a
    :class:`UserError`. Closing as "wrong person" raises a link review of the item's evidence."""
    item, _, _ = open_work_item(ctx, item_id=item_id, action="update-work-item", purpose=purpose)
    if assigned_to_user_id is not None and not _is_colleague(ctx, item, assigned_to_user_id):
        raise UserError(NOT_A_COLLEAGUE, field="assigned_to_user_id")
    was_closed = item.status is WorkItemStatus.CLOSED
    update_work_item(
        ctx.db,
        item=item,
        by=ctx.me().actor,
        status=status,
        assigned_to_user_id=assigned_to_user_id,
        outcome=outcome,
        outcome_code=outcome_code,
        purpose=purpose,
    )
    _review_if_wrong_person(ctx, item, was_closed=was_closed)
    return item


def _review_if_wrong_person(ctx: Context, item: WorkItem, *, was_closed: bool) -> None:
    """A work item just closed as "wrong person" raises a link review of the records behind it."""
    if was_closed or item.status is not WorkItemStatus.CLOSED or item.outcome_code is not Outcome.WRONG_PERSON:
        return
    me = ctx.me()
    review = raise_link_review(
        ctx.db,
        person_id=item.person_id,
        records=list(item.evidence),
        reason=item.outcome or "",
        purpose=item.purpose,
        source=LinkReviewSource.WORK_ITEM,
        raised_by_user_id=me.user_id,
        organisation_id=me.organisation_id,
        work_item_id=item.id,
    )
    audit.record(
        ctx.db,
        audit.Event(
            actor=me.actor,
            action="update-work-item",
            subject_type="work_item",
            subject_id=str(item.id),
            person_id=item.person_id,
            purpose=item.purpose.value,
            detail={"link_review": review.id},
        ),
    )


class Move(StrEnum):
    """The queue page's four buttons."""

    CLAIM = "claim"
    ASSIGN = "assign"
    CLOSE = "close"
    REOPEN = "reopen"


_STATUS_AFTER = {
    Move.CLAIM: WorkItemStatus.IN_PROGRESS,
    Move.CLOSE: WorkItemStatus.CLOSED,
    Move.REOPEN: WorkItemStatus.IN_PROGRESS,
}
"""The status each move leads to (assigning leaves it as it is)."""


def move_work_item(
    ctx: Context,
    *,
    item_id: int,
    move: Move | None,
    assignee: int | None = None,
    outcome: str = "",
    outcome_code: str = "",
) -> WorkItem:
    """One of the queue page's moves, for the purpose the item's rule serves: claim it (in progress, assigned to
    oneself), assign it to a colleague, close it with an outcome, or reopen it. The item is opened first, so a
    refusal (audited) comes before anything about the form: ``None`` (a move the page does not know), an assignee
    who is not an active colleague in its role (``field="assignee"``), a close without an outcome in words
    (``field="outcome"``) or without a coded one (``field="outcome_code"``) are then each a :class:`UserError`.
    Closing as "wrong person" raises a link review of the item's evidence."""
    item, _, _ = open_work_item(ctx, item_id=item_id, action="update-work-item")
    if move is None:
        raise UserError("unknown change")
    if move is Move.ASSIGN and not _is_colleague(ctx, item, assignee):
        raise UserError(NOT_A_COLLEAGUE, field="assignee")
    code = Outcome(outcome_code) if outcome_code in {o.value for o in Outcome} else None
    if move is Move.CLOSE and not outcome.strip():
        raise UserError("closing a work item needs an outcome", field="outcome")
    if move is Move.CLOSE and code is None:
        raise UserError("closing a work item needs a coded outcome", field="outcome_code")
    me = ctx.me()
    was_closed = item.status is WorkItemStatus.CLOSED
    update_work_item(
        ctx.db,
        item=item,
        by=me.actor,
        status=None if move is Move.ASSIGN else _STATUS_AFTER[move],
        assigned_to_user_id={Move.CLAIM: me.user_id, Move.ASSIGN: assignee}.get(move),
        outcome=outcome.strip() if move is Move.CLOSE else None,
        outcome_code=code if move is Move.CLOSE else None,
        purpose=item.purpose,
    )
    _review_if_wrong_person(ctx, item, was_closed=was_closed)
    return item


def colleagues(ctx: Context, item: WorkItem) -> list[User]:
    """The active accounts of the person's organisation in the role the item is routed to (those it can go to)."""
    return list(
        ctx.db.scalars(
            select(User)
            .where(User.organisation_id == ctx.me().organisation_id, User.role == item.role, User.active.is_(True))
            .order_by(User.display_name)
        )
    )
