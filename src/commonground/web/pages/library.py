"""The good-practice library: search and filter published entries, read one (with its studies, EMMIE fields, the
EIF evidence level, local evaluations labelled LOCAL and moderated comments), write and submit an entry, review
entries (two reviewers, neither the submitter), moderate comments.

Nothing here is about a person. Every change is an operation of :mod:`commonground.whatworks.entries` (or
:mod:`commonground.whatworks.local_evaluations`), audited in its transaction; this module reads forms and renders
templates."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Query
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from commonground.access.models import User
from commonground.errors import UserError
from commonground.store.models import Organisation
from commonground.web.deps import Access, require
from commonground.web.params import IdPath
from commonground.web.render import page, redirect
from commonground.whatworks import entries as entry_work
from commonground.whatworks import library as lib
from commonground.whatworks import local_evaluations as local
from commonground.whatworks.models import CommentStatus, EntryStatus, LibraryEntry, ReviewDecision
from commonground.whatworks.scales import (
    AGE_BANDS,
    EFFECT_DIRECTIONS,
    EIF_LEVELS,
    EIF_SHORT,
    EMMIE_DIMENSIONS,
    EMMIE_QUALITY,
    NEED_LEVELS,
    PROBLEMS,
    SETTINGS,
    STUDY_DESIGNS,
)

router = APIRouter(include_in_schema=False)

DONE: dict[str, str] = {
    "entry-saved": "The entry has been saved as a draft.",
    "entry-submitted": "The entry has been submitted for review. Two reviewers will look at it.",
    "entry-reviewed": "Your review has been recorded.",
    "comment-held": "Thank you. Your comment will be shown once a moderator has approved it.",
    "comment-approved": "The comment has been approved and is now shown.",
    "comment-removed": "The comment has been removed.",
    "evaluation-linked": "The local evaluation has been linked to the entry.",
}
"""What this area's forms confirm after a redirect (``?done=CODE``); gathered by ``pages.done_messages()``."""

STATUS_LABELS = {
    EntryStatus.DRAFT: ("Draft", "grey"),
    EntryStatus.SUBMITTED: ("Submitted", "blue"),
    EntryStatus.IN_REVIEW: ("In review (one approval)", "purple"),
    EntryStatus.PUBLISHED: ("Published", "green"),
    EntryStatus.RETURNED: ("Returned with comments", "amber"),
}


def vocabularies() -> dict[str, Any]:
    return {
        "problems": PROBLEMS,
        "age_bands": AGE_BANDS,
        "settings": SETTINGS,
        "need_levels": NEED_LEVELS,
        "eif_levels": EIF_LEVELS,
        "eif_short": EIF_SHORT,
        "emmie_dimensions": EMMIE_DIMENSIONS,
        "emmie_quality": EMMIE_QUALITY,
        "directions": EFFECT_DIRECTIONS,
        "designs": STUDY_DESIGNS,
        "status_labels": STATUS_LABELS,
        "effect_words": lib.effect_words,
    }


@router.get("/library", response_class=HTMLResponse)
def library_page(
    access: Annotated[Access, Depends(require("view-library"))],
    q: Annotated[str, Query(max_length=200)] = "",
    problem: Annotated[str, Query(max_length=40)] = "",
    age_band: Annotated[str, Query(max_length=40)] = "",
    setting: Annotated[str, Query(max_length=40)] = "",
    need_level: Annotated[str, Query(max_length=40)] = "",
    outcome: Annotated[str, Query(max_length=200)] = "",
    evidence: Annotated[str, Query(max_length=12)] = "",
) -> HTMLResponse:
    filters = lib.Filters(
        text=q,
        problem=problem,
        age_band=age_band,
        setting=setting,
        need_level=need_level,
        outcome=outcome,
        eif_level=evidence,
    )
    entries = lib.search_entries(access.db, filters)
    me = access.me()
    mine = list(
        access.db.scalars(
            select(LibraryEntry)
            .where(LibraryEntry.author_user_id == me.user_id, LibraryEntry.status != EntryStatus.PUBLISHED)
            .order_by(LibraryEntry.updated_at.desc())
        )
    )
    return page(
        access,
        "library.html",
        title="What works: the good-practice library",
        entries=entries,
        mine=mine,
        filters=filters,
        outcomes=lib.outcome_names(access.db),
        may_submit=entry_work.may(access, "submit-library-entry"),
        may_review=entry_work.may(access, "review-library-entry"),
        may_moderate=entry_work.may(access, "moderate-comments"),
        **vocabularies(),
    )


def _organisations(access: Access) -> list[Organisation]:
    return list(access.db.scalars(select(Organisation).where(Organisation.active).order_by(Organisation.name)))


def _form_page(
    access: Access, *, entry: LibraryEntry | None, values: dict[str, Any], errors: dict[str, str], status: int = 200
) -> HTMLResponse:
    return page(
        access,
        "library_form.html",
        title="Change the entry" if entry else "Add an entry to the library",
        entry=entry,
        values=values,
        errors=errors,
        organisations=_organisations(access),
        status=status,
        **vocabularies(),
    )


def _values_of(entry: LibraryEntry | None) -> dict[str, Any]:
    if entry is None:
        return {"eif_level": "not_rated", "emmie": {}}
    return {
        "title": entry.title,
        "summary": entry.summary,
        "problem": entry.problem,
        "problem_detail": entry.problem_detail,
        "age_band": entry.age_band,
        "setting": entry.setting,
        "need_level": entry.need_level,
        "mechanism": entry.mechanism,
        "outcomes": lib.format_outcomes(entry.outcomes),
        "emmie": entry.emmie,
        "eif_level": entry.eif_level,
        "eif_rationale": entry.eif_rationale,
        "studies": lib.format_studies(entry.studies),
        "implementation": entry.implementation,
        "cost": entry.cost,
        "local_lead": str(entry.local_lead_organisation_id or ""),
        "local_contact": entry.local_contact,
    }


def _fields(values: dict[str, Any], errors: dict[str, str]) -> lib.EntryFields | None:
    outcomes: tuple[lib.Outcome, ...] = ()
    studies: tuple[lib.Study, ...] = ()
    try:
        outcomes = lib.parse_outcomes(values["outcomes"])
    except UserError as error:
        errors["outcomes"] = str(error)
    try:
        studies = lib.parse_studies(values["studies"])
    except UserError as error:
        errors["studies"] = str(error)
    lead = values["local_lead"]
    fields = lib.EntryFields(
        title=values["title"],
        summary=values["summary"],
        problem=values["problem"],
        problem_detail=values["problem_detail"],
        age_band=values["age_band"],
        setting=values["setting"],
        need_level=values["need_level"],
        mechanism=values["mechanism"],
        outcomes=outcomes,
        emmie=values["emmie"],
        eif_level=values["eif_level"],
        eif_rationale=values["eif_rationale"],
        studies=studies,
        implementation=values["implementation"],
        cost=values["cost"],
        local_lead_organisation_id=int(lead) if lead.isdigit() else None,
        local_contact=values["local_contact"],
    )
    errors.update({k: v for k, v in fields.errors().items() if k not in errors})
    return None if errors else fields


async def _posted(access: Access) -> dict[str, Any]:
    form = await access.request.form()

    def text(name: str, limit: int = lib.MAX_TEXT) -> str:
        value = form.get(name, "")
        if not isinstance(value, str) or len(value) > limit:
            raise HTTPException(400, f"the field {name} is too long")
        return value

    return {
        **{
            name: text(name)
            for name in (
                "title",
                "summary",
                "problem",
                "problem_detail",
                "age_band",
                "setting",
                "need_level",
                "mechanism",
                "outcomes",
                "eif_level",
                "eif_rationale",
                "studies",
                "implementation",
                "cost",
                "local_lead",
                "local_contact",
            )
        },
        "emmie": {
            key: {"evidence": text(f"emmie_{key}"), "quality": text(f"emmie_{key}_quality", 20) or "not_rated"}
            for key in EMMIE_DIMENSIONS
        },
    }


@router.get("/library/new", response_class=HTMLResponse)
def new_entry_page(access: Annotated[Access, Depends(require("submit-library-entry"))]) -> HTMLResponse:
    return _form_page(access, entry=None, values=_values_of(None), errors={})


@router.post("/library/new", response_model=None)
async def create_entry(access: Annotated[Access, Depends(require("submit-library-entry"))]) -> Response:
    values = await _posted(access)
    errors: dict[str, str] = {}
    fields = _fields(values, errors)
    if fields is None:
        return _form_page(access, entry=None, values=values, errors=errors, status=400)
    entry = entry_work.create_entry(access, fields=fields)
    return redirect(f"/library/{entry.id}", done="entry-saved")


@router.get("/library/reviews", response_class=HTMLResponse)
def reviews_page(access: Annotated[Access, Depends(require("review-library-entry"))]) -> HTMLResponse:
    me = access.me()
    waiting = list(
        access.db.scalars(
            select(LibraryEntry)
            .where(LibraryEntry.status.in_([EntryStatus.SUBMITTED, EntryStatus.IN_REVIEW]))
            .order_by(LibraryEntry.submitted_at, LibraryEntry.id)
        )
    )
    rows = []
    for entry in waiting:
        reviews = lib.reviews_of(access.db, entry, current_round=True)
        mine = me.user_id in (entry.author_user_id, entry.submitted_by_user_id)
        done = any(r.reviewer_user_id == me.user_id for r in reviews)
        rows.append((entry, reviews, mine, done))
    return page(access, "library_reviews.html", title="Entries waiting for review", rows=rows, **vocabularies())


@router.get("/library/moderation", response_class=HTMLResponse)
def moderation_page(access: Annotated[Access, Depends(require("moderate-comments"))]) -> HTMLResponse:
    return page(
        access,
        "library_moderation.html",
        title="Comments waiting for moderation",
        comments=lib.pending_comments(access.db),
    )


@router.post("/library/comments/{comment_id}")
def moderate(
    comment_id: IdPath,
    access: Annotated[Access, Depends(require("moderate-comments"))],
    do: Annotated[str, Form(max_length=10)],
) -> Response:
    if do not in ("approve", "remove"):
        raise HTTPException(400, "unknown change")
    entry_work.moderate_comment(access, comment_id=comment_id, approve=do == "approve")
    return redirect("/library/moderation", done="comment-approved" if do == "approve" else "comment-removed")


@router.get("/library/{entry_id}", response_class=HTMLResponse)
def entry_page(entry_id: IdPath, access: Annotated[Access, Depends(require("view-library"))]) -> HTMLResponse:
    entry = entry_work.visible_entry(access, entry_id=entry_id)
    me = access.me()
    moderator = entry_work.may(access, "moderate-comments", entry.id)
    reviewer = entry_work.may(access, "review-library-entry", entry.id)
    reviews = lib.reviews_of(access.db, entry)
    names = {u.id: u for u in access.db.scalars(select(User).where(User.id.in_([r.reviewer_user_id for r in reviews])))}
    return page(
        access,
        "library_entry.html",
        title=entry.title,
        entry=entry,
        reviews=reviews,
        reviewers=names,
        evaluations=local.local_evaluations(access.db, entry),
        comments=lib.comments_for(
            access.db, target_type="library", target_id=entry.id, user_id=me.user_id, moderator=moderator
        ),
        is_author=me.user_id in (entry.author_user_id, entry.submitted_by_user_id),
        may_edit=entry.status in lib.EDITABLE and entry.author_user_id == me.user_id,
        may_review=reviewer
        and entry.status in lib.UNDER_REVIEW
        and me.user_id not in (entry.author_user_id, entry.submitted_by_user_id)
        and not any(r.reviewer_user_id == me.user_id and r.round == entry.round for r in reviews),
        may_link=reviewer,
        may_comment=entry_work.may(access, "comment", entry.id) and entry.status is EntryStatus.PUBLISHED,
        moderator=moderator,
        pending=CommentStatus.PENDING,
        today=access.now.date().isoformat(),
        **vocabularies(),
    )


@router.get("/library/{entry_id}/edit", response_class=HTMLResponse)
def edit_entry_page(
    entry_id: IdPath, access: Annotated[Access, Depends(require("submit-library-entry"))]
) -> HTMLResponse:
    entry = entry_work.editable_entry(access, entry_id=entry_id)
    return _form_page(access, entry=entry, values=_values_of(entry), errors={})


@router.post("/library/{entry_id}/edit", response_model=None)
async def edit_entry(entry_id: IdPath, access: Annotated[Access, Depends(require("submit-library-entry"))]) -> Response:
    entry = entry_work.editable_entry(access, entry_id=entry_id)
    values = await _posted(access)
    errors: dict[str, str] = {}
    fields = _fields(values, errors)
    if fields is None:
        return _form_page(access, entry=entry, values=values, errors=errors, status=400)
    entry_work.update_entry(access, entry_id=entry.id, fields=fields)
    return redirect(f"/library/{entry.id}", done="entry-saved")


@router.post("/library/{entry_id}/submit")
def submit_entry(entry_id: IdPath, access: Annotated[Access, Depends(require("submit-library-entry"))]) -> Response:
    entry = entry_work.submit_entry(access, entry_id=entry_id)
    return redirect(f"/library/{entry.id}", done="entry-submitted")


@router.post("/library/{entry_id}/review")
def review_entry(
    entry_id: IdPath,
    access: Annotated[Access, Depends(require("review-library-entry"))],
    decision: Annotated[str, Form(max_length=10)],
    comments: Annotated[str, Form(max_length=lib.MAX_TEXT)] = "",
) -> Response:
    if decision not in {d.value for d in ReviewDecision}:
        entry_work.visible_entry(access, entry_id=entry_id)  # a missing entry is not found, whatever the form says
        raise HTTPException(400, "choose whether to approve or return the entry")
    entry_work.review_entry(access, entry_id=entry_id, decision=ReviewDecision(decision), comments=comments)
    return redirect(f"/library/{entry_id}", done="entry-reviewed")


@router.post("/library/{entry_id}/comments")
def comment_on_entry(
    entry_id: IdPath,
    access: Annotated[Access, Depends(require("comment"))],
    text: Annotated[str, Form(max_length=lib.MAX_COMMENT)] = "",
) -> Response:
    entry_work.comment_on_entry(access, entry_id=entry_id, text=text)
    return redirect(f"/library/{entry_id}#comments", done="comment-held")


@router.post("/library/{entry_id}/evaluations")
def link_evaluation(
    entry_id: IdPath,
    access: Annotated[Access, Depends(require("review-library-entry"))],
    title: Annotated[str, Form(max_length=200)],
    evaluated_on: Annotated[dt.date, Form()],
    summary: Annotated[str, Form(max_length=lib.MAX_TEXT)] = "",
    figures: Annotated[str, Form(max_length=lib.MAX_TEXT)] = "",
    reference: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    local.link_evaluation(
        access,
        entry_id=entry_id,
        title=title,
        summary=summary,
        evaluated_on=evaluated_on,
        figures=figures,
        reference=reference,
    )
    return redirect(f"/library/{entry_id}#local", done="evaluation-linked")
