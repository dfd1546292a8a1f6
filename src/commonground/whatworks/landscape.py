"""The landscape review's checked operations: define, send and close a survey (administrators), answer one for
one's own organisation (the last answer wins), keep the partnership's work plan and comment on its items
(moderated as in the library).

Each takes the operation :class:`~commonground.access.context.Context`, authorises through the resolver, acts
through :mod:`commonground.whatworks.survey`, :mod:`~commonground.whatworks.plan` and
:mod:`~commonground.whatworks.library` (which audit every change) and commits; the landscape pages call them.
A draft survey is not found by anyone who cannot manage surveys.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from commonground.access.actions import SubjectKind
from commonground.access.context import Context
from commonground.access.resolver import Subject
from commonground.errors import NotFound
from commonground.whatworks import library as lib
from commonground.whatworks import survey as sv
from commonground.whatworks.entries import kept
from commonground.whatworks.models import (
    Comment,
    PlanItem,
    Survey,
    SurveyRecipient,
    SurveyResponse,
    SurveyStatus,
)
from commonground.whatworks.plan import PlanFields, create_plan_item, update_plan_item


def subject_of(survey_id: int | None = None) -> Subject:
    return Subject(kind=SubjectKind.SURVEY, id=str(survey_id) if survey_id else None)


def may(ctx: Context, name: str) -> bool:
    """Whether the person may take the landscape action ``name``, nothing audited."""
    return ctx.check(name, subject_of()).allowed


def visible_survey(ctx: Context, *, survey_id: int) -> Survey:
    """A survey the person may see: a draft only to those who manage surveys."""
    survey = ctx.db.get(Survey, survey_id)
    if survey is None or (survey.status is SurveyStatus.DRAFT and not may(ctx, "manage-survey")):
        raise NotFound()
    return survey


def create_survey(ctx: Context, *, title: str, introduction: str, standard: bool) -> Survey:
    """A new draft survey (with the standard questions, when ``standard``)."""
    ctx.require("manage-survey", subject_of())
    by = ctx.me().actor
    return kept(ctx, lambda: sv.create_survey(ctx.db, title=title, introduction=introduction, standard=standard, by=by))


def add_question(ctx: Context, *, survey_id: int, spec: sv.QuestionSpec) -> None:
    """Add a question to a survey not sent yet."""
    survey = visible_survey(ctx, survey_id=survey_id)
    ctx.require("manage-survey", subject_of(survey_id))
    by = ctx.me().actor
    kept(ctx, lambda: sv.add_question(ctx.db, survey=survey, spec=spec, by=by))


def send_survey(
    ctx: Context, *, survey_id: int, force_codes: Iterable[str], organisation_ids: Iterable[int], partner_region: str
) -> list[SurveyRecipient]:
    """Send a survey to forces of the reference list and to the partnership's organisations."""
    survey = visible_survey(ctx, survey_id=survey_id)
    ctx.require("manage-survey", subject_of(survey_id))
    by = ctx.me().actor
    return kept(
        ctx,
        lambda: sv.send_survey(
            ctx.db,
            survey=survey,
            force_codes=force_codes,
            organisation_ids=organisation_ids,
            partner_region=partner_region,
            by=by,
        ),
    )


def close_survey(ctx: Context, *, survey_id: int) -> None:
    """Close a survey: no more answers."""
    survey = visible_survey(ctx, survey_id=survey_id)
    ctx.require("manage-survey", subject_of(survey_id))
    by = ctx.me().actor
    kept(ctx, lambda: sv.close_survey(ctx.db, survey=survey, by=by))


def my_recipient(ctx: Context, survey: Survey) -> SurveyRecipient:
    """The person's organisation as a recipient of an open survey; otherwise not found."""
    recipient = sv.recipient_for(ctx.db, survey, ctx.me().organisation_id)
    if recipient is None or survey.status is not SurveyStatus.SENT:
        raise NotFound()
    return recipient


def answer_survey(ctx: Context, *, survey_id: int, answers: dict[str, Any]) -> SurveyResponse:
    """Record the answers of the person's organisation (replacing its earlier answer)."""
    ctx.require("answer-survey", subject_of(survey_id))
    survey = visible_survey(ctx, survey_id=survey_id)
    recipient = my_recipient(ctx, survey)
    by = ctx.me().actor
    return kept(ctx, lambda: sv.answer_survey(ctx.db, survey=survey, recipient=recipient, answers=answers, by=by))


def plan_item(ctx: Context, *, item_id: int) -> PlanItem:
    ctx.require("view-landscape", subject_of())
    item = ctx.db.get(PlanItem, item_id)
    if item is None:
        raise NotFound()
    return item


def create_plan(ctx: Context, *, fields: PlanFields) -> PlanItem:
    """A new item of the partnership's work plan."""
    ctx.require("manage-survey", subject_of())
    by = ctx.me().actor
    return kept(ctx, lambda: create_plan_item(ctx.db, fields=fields, by=by))


def update_plan(ctx: Context, *, item_id: int, fields: PlanFields) -> PlanItem:
    item = plan_item(ctx, item_id=item_id)
    ctx.require("manage-survey", subject_of())
    by = ctx.me().actor
    return kept(ctx, lambda: update_plan_item(ctx.db, item=item, fields=fields, by=by))


def comment_on_plan(ctx: Context, *, item_id: int, text: str) -> Comment:
    """A comment on a work-plan item, held for moderation."""
    ctx.require("comment", Subject(kind=SubjectKind.LIBRARY))
    item = plan_item(ctx, item_id=item_id)
    by = ctx.me().actor
    return kept(ctx, lambda: lib.add_comment(ctx.db, target_type="plan", target_id=item.id, text=text, by=by))
