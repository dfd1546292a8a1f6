"""The queue: the flags routed to my organisation and role, red first, with claim, assign and close.

Each item's colour is its RAG rating (its priority, given by the rules with the reason in words); the time left to
its deadline is said apart, in words, with an "Overdue" tag of its own once it has passed (#17).

Reading the queue opens identifiable records (who is flagged, for what): each item is checked by the resolver for
the purpose its rule serves and audited as read; an item no agreement covers is withheld and counted. The
operations are :mod:`commonground.cases.queue`'s; this module reads the forms and renders the pages.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from commonground.access.models import User
from commonground.cases import people
from commonground.cases.person_view import Identity, RuleResult
from commonground.cases.queue import Move, QueueFilter, browse_queue, colleagues, move_work_item, read_work_item
from commonground.cases.withdrawals import not_raised_words, withdrawal_of
from commonground.cases.work_items import Outcome, Rating, WorkItem, WorkItemStatus
from commonground.errors import UserError
from commonground.web.deps import Access, require
from commonground.web.params import IdPath
from commonground.web.present import agency
from commonground.web.render import due_words, page, redirect
from commonground.web.rule_titles import item_title, rule_title

router = APIRouter(include_in_schema=False)

DONE: dict[str, str] = {
    "claimed": "You have claimed the work item.",
    "assigned": "The work item has been assigned.",
    "closed": "The work item is closed.",
    "reopened": "The work item is open again.",
}
"""What this area's forms confirm after a redirect (``?done=CODE``); gathered by ``pages.done_messages()``."""

DONE_OF = {Move.CLAIM: "claimed", Move.ASSIGN: "assigned", Move.CLOSE: "closed", Move.REOPEN: "reopened"}
"""The confirmation of each move."""

STATUS_LABELS = {
    WorkItemStatus.OPEN: "Not started",
    WorkItemStatus.IN_PROGRESS: "In progress",
    WorkItemStatus.CLOSED: "Closed",
}


RATING_FILTER = [("", "Any"), ("red", "Red"), ("amber", "Amber"), ("green", "Green"), ("none", "Not rated")]
DUE_FILTER = [("", "Any"), ("overdue", "Overdue"), ("not_overdue", "Not yet due")]
SORTS = [("rating", "Rating, red first"), ("due", "Deadline, soonest first")]


@dataclass(frozen=True)
class Row:
    item: WorkItem
    identity: Identity | None
    overdue: bool
    """Open and past its deadline (a closed item is never overdue)."""
    due: str
    """The time left in words ("due in 3 hours", "overdue by 2 days"), or "closed"."""
    title: str
    assignee: str | None


def _deadline(item: WorkItem, access: Access) -> tuple[bool, str]:
    """Whether the open item is past its deadline, and the time left in words."""
    if item.status is WorkItemStatus.CLOSED:
        return False, "closed"
    return due_words(item.due_by, access.now)


def _identity(access: Access, person_id: str) -> Identity | None:
    view = access.request.app.state.person_views.current()
    return view.identity(person_id) if view is not None else None


@router.get("/queue", response_class=HTMLResponse)
def queue_page(
    access: Annotated[Access, Depends(require("view-work-items"))],
    status: Annotated[str, Query(max_length=20)] = "active",
    rag: Annotated[str, Query(max_length=10)] = "",
    due: Annotated[str, Query(max_length=12)] = "",
    rule: Annotated[str, Query(max_length=100)] = "",
    person: Annotated[str, Query(max_length=64)] = "",
    mine: Annotated[str, Query(max_length=3)] = "",
    sort: Annotated[str, Query(max_length=10)] = "rating",
) -> HTMLResponse:
    me = access.me()
    names = {
        u.id: u.display_name for u in access.db.scalars(select(User).where(User.organisation_id == me.organisation_id))
    }
    shown = browse_queue(
        access,
        filters=QueueFilter(status=status, rating=rag, due=due, rule=rule, person=person, mine=mine, sort=sort),
    )
    access.db.commit()
    rows = [
        Row(
            item,
            _identity(access, item.person_id),
            *_deadline(item, access),
            title=item_title(access, item),
            assignee=names.get(item.assigned_to_user_id) if item.assigned_to_user_id else None,
        )
        for item in shown.items
    ]
    rules = sorted({r.item.rule_id for r in rows} | ({rule} if rule else set()))
    open_rows = [r for r in rows if r.item.status is not WorkItemStatus.CLOSED]
    ratings = [(rating.label, sum(1 for r in open_rows if r.item.rating is rating), rating.value) for rating in Rating]
    unrated = sum(1 for r in open_rows if r.item.rating is None)
    if unrated:
        ratings.append(("Not rated", unrated, "grey"))
    overdue = sum(1 for r in open_rows if r.overdue)
    timing = [("Overdue", overdue, "overdue"), ("Not yet due", len(open_rows) - overdue, "grey")]
    ages = _age_buckets(rows, access)
    return page(
        access,
        "queue.html",
        title="Your queue",
        rows=rows,
        withheld=shown.withheld,
        status_filter=status,
        rag=rag,
        due=due,
        sort=sort if sort in {s for s, _ in SORTS} else "rating",
        rating_filter=RATING_FILTER,
        due_filter=DUE_FILTER,
        sorts=SORTS,
        rule=rule,
        person=person,
        mine=mine,
        rules=[(r, rule_title(access, r)) for r in rules],
        ratings=ratings,
        timing=timing,
        ages=ages,
        status_labels=STATUS_LABELS,
    )


def _age_buckets(rows: list[Row], access: Access) -> list[tuple[str, int, str]]:
    buckets = [("Under 1 day", 0), ("1 to 3 days", 0), ("3 to 7 days", 0), ("Over a week", 0)]
    counts = [0, 0, 0, 0]
    for row in rows:
        if row.item.status is WorkItemStatus.CLOSED:
            continue
        days = (access.now - row.item.created_at).total_seconds() / 86400
        counts[0 if days < 1 else 1 if days < 3 else 2 if days < 7 else 3] += 1
    return [(label, counts[i], "grey") for i, (label, _) in enumerate(buckets)]


@router.get("/queue/{item_id}", response_class=HTMLResponse)
def work_item_page(item_id: IdPath, access: Annotated[Access, Depends(require("view-work-items"))]) -> HTMLResponse:
    item = read_work_item(access, item_id=item_id)
    access.db.commit()
    return _work_item_view(access, item)


CLOSE_ERRORS = {
    "outcome": "Enter what was done before closing",
    "outcome_code": "Choose what came of the work item",
}
"""The close form's own words for each thing missing from it."""


def _through_others_opened(access: Access, item: WorkItem, result: RuleResult) -> RuleResult:
    """The flag's evidence without the records of other people (a household member) that the reader may not open
    for the item's purpose: the same rule as the person page's (:mod:`commonground.cases.inferences`)."""
    others = {e.via_person_id for e in result.evidence if e.via_person_id and e.via_person_id != item.person_id}
    if not others:
        return result
    openings = people.openings_for(access, person_id=item.person_id, purpose=item.purpose, others=others)
    kept = tuple(
        e
        for e in result.evidence
        if not e.via_person_id or e.via_person_id == item.person_id or openings.opens(e.feed, e.via_person_id)
    )
    return dataclasses.replace(result, evidence=kept)


@dataclass(frozen=True)
class EvidenceRow:
    at: dt.datetime | None
    feed: str
    record_id: str
    what: list[str]
    household: str | None


@dataclass(frozen=True)
class EvidenceInShort:
    summary: list[tuple[str, int, str]]
    """(what, how many records, from which agencies), most records first."""
    rows: list[EvidenceRow]
    """One row per record (a custody record that shows four things is one row), newest first."""


def evidence_in_short(result: RuleResult, *, person_id: str) -> EvidenceInShort:
    """The evidence of a flag, a summary first (#17: 104 rows, one custody record four times over, with no summary)."""
    rows: dict[tuple[str, str], EvidenceRow] = {}
    for e in result.evidence:
        key = (e.feed, e.record_id)
        if key not in rows:
            household = e.via_person_id if e.via_person_id and e.via_person_id != person_id else None
            rows[key] = EvidenceRow(e.evidence_at, e.feed, e.record_id, [], household)
        label = str(result.labels.get(e.item, e.item))
        if label not in rows[key].what:
            rows[key].what.append(label)
    counts: dict[str, set[tuple[str, str]]] = {}
    agencies: dict[str, set[str]] = {}
    for key, row in rows.items():
        for what in row.what:
            counts.setdefault(what, set()).add(key)
            agencies.setdefault(what, set()).add(agency(row.feed))
    summary = sorted(
        ((what, len(keys), ", ".join(sorted(agencies[what]))) for what, keys in counts.items()),
        key=lambda s: (-s[1], s[0]),
    )
    ordered = sorted(rows.values(), key=lambda r: (r.at is not None, r.at or dt.datetime.min), reverse=True)
    return EvidenceInShort(summary=summary, rows=ordered)


def _work_item_view(
    access: Access, item: WorkItem, *, errors: dict[str, str] | None = None, values: dict[str, str] | None = None
) -> HTMLResponse:
    """The work item's page; a close form sent back with ``errors`` keeps what was written in it (``values``)."""
    view = access.request.app.state.person_views.current()
    identity = view.identity(item.person_id) if view else None
    result = None
    if view is not None:
        results = [r for r in view.rule_results(item.person_id, feeds=item.evidence_feeds) if r.rule_id == item.rule_id]
        result = _through_others_opened(access, item, results[0]) if results else None
    team = colleagues(access, item)
    overdue, words = _deadline(item, access)
    return page(
        access,
        "work_item.html",
        title=item_title(access, item),
        item=item,
        identity=identity,
        result=result,
        colleagues=team,
        overdue=overdue,
        due=words,
        status_labels=STATUS_LABELS,
        agency=agency,
        assignee=next((c.display_name for c in team if c.id == item.assigned_to_user_id), None),
        evidence=evidence_in_short(result, person_id=item.person_id) if result else None,
        withdrawal=withdrawal_of(access.db, work_item_id=item.id),
        not_raised_now=not_raised_words(view.raise_within_days(item.rule_id) if view else None),
        outcomes=[(o.value, o.label, o.hint) for o in Outcome],
        outcome_label=item.outcome_code.label if item.outcome_code else None,
        errors=errors or {},
        values=values or {},
        status=400 if errors else 200,
    )


@router.post("/queue/{item_id}")
def change_work_item(
    item_id: IdPath,
    access: Annotated[Access, Depends(require("update-work-item"))],
    do: Annotated[str, Form(max_length=20)],
    assignee: Annotated[int | None, Form()] = None,
    outcome: Annotated[str, Form(max_length=4_000)] = "",
    outcome_code: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    move = Move(do) if do in {m.value for m in Move} else None
    try:
        move_work_item(
            access, item_id=item_id, move=move, assignee=assignee, outcome=outcome, outcome_code=outcome_code
        )
    except UserError as error:
        if error.field in CLOSE_ERRORS:
            access.db.rollback()
            errors = {
                field: words
                for field, words in CLOSE_ERRORS.items()
                if (field == "outcome" and not outcome.strip())
                or (field == "outcome_code" and outcome_code not in {o.value for o in Outcome})
            }
            item = read_work_item(access, item_id=item_id)
            access.db.commit()
            return _work_item_view(
                access, item, errors=errors, values={"outcome": outcome, "outcome_code": outcome_code}
            )
        if error.field == "assignee":  # the page's own words
            raise UserError("a work item can be assigned only to an active colleague in its role") from error
        raise
    access.db.commit()
    return redirect(f"/queue/{item_id}", done=DONE_OF[Move(do)])
