"""Doubted links: the person page's "some of these records are not this person", and the review queue where a
hub practitioner sees the records side by side and decides. The operations are
:mod:`commonground.cases.link_reviews`'; this module reads the forms and renders the pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query
from fastapi.responses import HTMLResponse, Response

from commonground.access.purposes import Purpose
from commonground.cases import link_reviews, people
from commonground.cases.inferences import Openings
from commonground.cases.link_reviews import MIN_REASON, LinkReview
from commonground.cases.person_view import Link, LinkedRecord, PersonView
from commonground.errors import NotFound, UserError
from commonground.web.deps import Access, require
from commonground.web.linkwords import link_words
from commonground.web.params import IdPath, PersonIdPath
from commonground.web.present import agency
from commonground.web.render import page, redirect

router = APIRouter(include_in_schema=False)

DONE: dict[str, str] = {
    "link_reported": "Thank you. The records you ticked are sent for review and held apart from the next build "
    "until someone decides.",
    "link_decided": "The review is decided. The next build follows your decision.",
}


def _view(access: Access) -> PersonView:
    view: PersonView | None = access.request.app.state.person_views.current()
    if view is None:
        raise NotFound("no linked build has been published to the hub yet")
    return view


def _purpose(value: str) -> Purpose:
    if value not in {p.value for p in Purpose}:
        raise UserError("say for which purpose you opened the record", field="purpose")
    return Purpose(value)


def _key(record: LinkedRecord) -> str:
    return f"{record.feed}:{record.record_id}"


def _report_form(
    access: Access,
    view: PersonView,
    person_id: str,
    purpose: Purpose,
    openings: Openings,
    *,
    errors: dict[str, str] | None = None,
    chosen: list[str] | None = None,
    reason: str = "",
) -> HTMLResponse:
    records = view.records(person_id, feeds=openings.feeds)
    identity = view.identity(person_id)
    return page(
        access,
        "link_report.html",
        title="Records that are not this person",
        person_id=person_id,
        name=identity.name if identity else person_id,
        purpose=purpose,
        records=records,
        key=_key,
        agency=agency,
        errors=errors or {},
        chosen=set(chosen or ()),
        reason=reason,
        min_reason=MIN_REASON,
        status=400 if errors else 200,
    )


@router.get("/people/{person_id}/not-the-same-person", response_class=HTMLResponse)
def report_form(
    person_id: PersonIdPath,
    access: Annotated[Access, Depends(require("report-link"))],
    purpose: Annotated[str, Query(max_length=40)] = "",
) -> HTMLResponse:
    chosen = _purpose(purpose)
    view = _view(access)
    response = people.show_person(
        access,
        view=view,
        person_id=person_id,
        purpose=chosen,
        show=lambda openings: _report_form(access, view, person_id, chosen, openings),
    )
    access.db.commit()
    return response


@router.post("/people/{person_id}/not-the-same-person")
def report(
    person_id: PersonIdPath,
    access: Annotated[Access, Depends(require("report-link"))],
    purpose: Annotated[str, Form(max_length=40)] = "",
    records: Annotated[list[str] | None, Form(max_length=200)] = None,
    reason: Annotated[str, Form(max_length=4_000)] = "",
) -> Response:
    chosen = _purpose(purpose)
    view = _view(access)
    ticked = records or []

    def act(openings: Openings) -> Response:
        shown = {_key(r) for r in view.records(person_id, feeds=openings.feeds)}
        try:
            link_reviews.report_wrong_link(
                access, person_id=person_id, purpose=chosen, records=ticked, shown=shown, reason=reason
            )
        except UserError as error:
            if error.field not in {"records", "reason"}:
                raise
            return _report_form(
                access,
                view,
                person_id,
                chosen,
                openings,
                errors={error.field: str(error)[:1].upper() + str(error)[1:]},
                chosen=ticked,
                reason=reason,
            )
        return redirect(f"/people/{person_id}?purpose={chosen.value}", done="link_reported")

    response = people.show_person(access, view=view, person_id=person_id, purpose=chosen, show=act)
    access.db.commit()
    return response


@router.get("/link-reviews", response_class=HTMLResponse)
def review_queue(access: Annotated[Access, Depends(require("review-links"))]) -> HTMLResponse:
    shown = link_reviews.reviews_to_decide(access)
    access.db.commit()
    return page(
        access,
        "link_reviews.html",
        title="Links to review",
        reviews=shown.items,
        withheld=shown.withheld,
    )


def _pair_page(
    access: Access, view: PersonView, review: LinkReview, *, errors: dict[str, str] | None, note: str
) -> HTMLResponse:
    """A band pair: the two records side by side and the model's reasons in words. Each record is looked for among
    both people's records that the reviewer's agreements open (a later build may have moved it)."""
    found: dict[str, LinkedRecord] = {}
    for person_id in dict.fromkeys([review.person_id, review.pair_person_id or review.person_id]):
        openings = people.openings_for(access, person_id=person_id, purpose=review.purpose, others=())
        found |= {_key(r): r for r in view.records(person_id, feeds=openings.feeds) if _key(r) in review.records}
    levels = review.comparison_levels or {}
    explanation = link_words(
        Link(
            left=review.records[0],
            right=review.records[1],
            match_weight=review.match_weight or 0.0,
            match_probability=review.match_probability or 0.0,
            weights={name: float(v["weight"]) for name, v in levels.items()},
            gammas={name: int(v["level"]) for name, v in levels.items()},
        )
    )
    return page(
        access,
        "link_review_pair.html",
        title="Are these two records the same person?",
        review=review,
        pair=[found.get(key) for key in review.records],
        link=explanation,
        agency=agency,
        errors=errors or {},
        note=note,
        status=400 if errors else 200,
    )


def _review_page(
    access: Access, review: LinkReview, *, errors: dict[str, str] | None = None, note: str = ""
) -> HTMLResponse:
    view = _view(access)
    if review.is_band_pair:
        return _pair_page(access, view, review, errors=errors, note=note)
    openings = people.openings_for(access, person_id=review.person_id, purpose=review.purpose, others=())
    records = view.records(review.person_id, feeds=openings.feeds)
    doubted = [r for r in records if _key(r) in review.records]
    others = [r for r in records if _key(r) not in review.records]
    keys = {_key(r) for r in records}
    links = [
        link_words(link)
        for link in view.links(review.person_id)
        if link.left in keys
        and link.right in keys
        and ((link.left in review.records) != (link.right in review.records))
    ]
    return page(
        access,
        "link_review.html",
        title="Are these records the same person?",
        review=review,
        doubted=doubted,
        others=others,
        hidden=len(review.records) - len(doubted),
        links=links,
        agency=agency,
        errors=errors or {},
        note=note,
        status=400 if errors else 200,
    )


@router.get("/link-reviews/{review_id}", response_class=HTMLResponse)
def review_page(review_id: IdPath, access: Annotated[Access, Depends(require("review-links"))]) -> HTMLResponse:
    review = link_reviews.open_review(access, review_id=review_id)
    response = _review_page(access, review)
    access.db.commit()
    return response


@router.post("/link-reviews/{review_id}")
def decide(
    review_id: IdPath,
    access: Annotated[Access, Depends(require("review-links"))],
    decision: Annotated[str, Form(max_length=20)] = "",
    note: Annotated[str, Form(max_length=4_000)] = "",
) -> Response:
    review = link_reviews.open_review(access, review_id=review_id)
    view = _view(access)
    everyone = [_key(r) for r in view.records(review.person_id, feeds=view.feeds_of(review.person_id))]
    same = {"same": True, "not_same": False}.get(decision)
    try:
        link_reviews.decide_review(access, review_id=review_id, same_person=same, note=note, kept_with=everyone)
    except UserError as error:
        if error.field not in {"decision", "note"}:
            raise
        access.db.rollback()
        review = link_reviews.open_review(access, review_id=review_id)
        response = _review_page(
            access, review, errors={error.field: str(error)[:1].upper() + str(error)[1:]}, note=note
        )
        access.db.commit()
        return response
    access.db.commit()
    return redirect("/link-reviews", done="link_decided")
