"""The landscape review: the survey report (a page with charts, a CSV and a PDF), defining and sending surveys
(administrators), answering one for one's own organisation (any member; the last answer wins), and the
partnership's work plan with partners' comments (moderated as in the library). Every change is an operation of
:mod:`commonground.whatworks.landscape`; this module reads forms and renders templates."""

from __future__ import annotations

import datetime as dt
import textwrap
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from commonground.access.actions import SubjectKind
from commonground.access.resolver import Subject
from commonground.errors import UserError
from commonground.store.models import Organisation
from commonground.web.deps import Access, require
from commonground.web.params import IdPath
from commonground.web.render import page, redirect
from commonground.whatworks import landscape as work
from commonground.whatworks import library as lib
from commonground.whatworks import survey as sv
from commonground.whatworks.forces import BARRIERS, FORCES, ORGANISATION_KINDS, PRACTICES, REGIONS
from commonground.whatworks.models import (
    CommentStatus,
    PlanStatus,
    QuestionKind,
    Survey,
    SurveyRecipient,
    SurveyResponse,
    SurveyStatus,
)
from commonground.whatworks.plan import PLAN_STATUS_LABELS, PlanFields, plan_items

router = APIRouter(include_in_schema=False)

DONE: dict[str, str] = {
    "survey-created": "The survey has been created. Add questions, then send it.",
    "question-added": "The question has been added.",
    "survey-sent": "The survey has been sent.",
    "survey-closed": "The survey is closed: no more answers.",
    "survey-answered": ("Thank you. Your organisation's answers have been saved; you can change them until it closes."),
    "plan-saved": "The work-plan item has been saved.",
    "plan-comment-held": "Thank you. Your comment will be shown once a moderator has approved it.",
}
"""What this area's forms confirm after a redirect (``?done=CODE``); gathered by ``pages.done_messages()``."""

SURVEY_STATUS_LABELS = {
    SurveyStatus.DRAFT: ("Draft", "grey"),
    SurveyStatus.SENT: ("Open for answers", "green"),
    SurveyStatus.CLOSED: ("Closed", "blue"),
}


def _survey(access: Access, survey_id: int) -> Survey:
    return work.visible_survey(access, survey_id=survey_id)


def _surveys(access: Access) -> list[Survey]:
    query = select(Survey).order_by(Survey.created_at.desc(), Survey.id.desc())
    if not work.may(access, "manage-survey"):
        query = query.where(Survey.status != SurveyStatus.DRAFT)
    return list(access.db.scalars(query))


def _short(label: str, width: int = 24, lines: int = 3) -> list[str]:
    """A chart's labels have 180 pixels a line: long ones wrap onto up to three lines (#17: they were cut after 25
    characters); only a label longer than that is shortened, and the tables beside the charts give it whole."""
    wrapped = textwrap.wrap(label, width, break_long_words=True) or [""]
    if len(wrapped) > lines:
        wrapped = [*wrapped[: lines - 1], textwrap.shorten(" ".join(wrapped[lines - 1 :]), width, placeholder="…")]
    return wrapped


def rate_bars(rates: list[sv.Rate]) -> list[tuple[list[str], float, str]]:
    return [(_short(r.label), r.percent, "blue") for r in rates]


def count_bars(counts: list[sv.Count]) -> list[tuple[list[str], float, str]]:
    return [(_short(c.choice), c.percent, "blue") for c in counts]


def _common() -> dict[str, Any]:
    return {
        "survey_status_labels": SURVEY_STATUS_LABELS,
        "kinds": ORGANISATION_KINDS,
        "topics": sv.TOPICS,
        "rate_bars": rate_bars,
        "count_bars": count_bars,
    }


@router.get("/landscape", response_class=HTMLResponse)
def landscape_page(
    access: Annotated[Access, Depends(require("view-landscape"))],
    survey: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> HTMLResponse:
    surveys = _surveys(access)
    chosen = None
    if survey is not None:
        chosen = _survey(access, survey)
    else:
        chosen = next((s for s in surveys if s.status is not SurveyStatus.DRAFT), None)
    report = sv.analyse(access.db, chosen) if chosen is not None else None
    me = access.me()
    to_answer = [
        s for s in surveys if s.status is SurveyStatus.SENT and sv.recipient_for(access.db, s, me.organisation_id)
    ]
    return page(
        access,
        "landscape.html",
        title="Landscape review",
        surveys=surveys,
        report=report,
        to_answer=to_answer if work.may(access, "answer-survey") else [],
        may_manage=work.may(access, "manage-survey"),
        **_common(),
    )


@router.get("/landscape/surveys", response_class=HTMLResponse)
def surveys_page(access: Annotated[Access, Depends(require("view-landscape"))]) -> HTMLResponse:
    return page(
        access,
        "landscape_surveys.html",
        title="Landscape surveys",
        surveys=_surveys(access),
        may_manage=work.may(access, "manage-survey"),
        **_common(),
    )


@router.post("/landscape/surveys")
def create_survey(
    access: Annotated[Access, Depends(require("manage-survey"))],
    title: Annotated[str, Form(max_length=200)] = "",
    introduction: Annotated[str, Form(max_length=sv.MAX_ANSWER)] = "",
    standard: Annotated[str, Form(max_length=3)] = "",
) -> Response:
    made = work.create_survey(access, title=title, introduction=introduction, standard=standard == "yes")
    return redirect(f"/landscape/surveys/{made.id}", done="survey-created")


@router.get("/landscape/surveys/{survey_id}", response_class=HTMLResponse)
def survey_page(survey_id: IdPath, access: Annotated[Access, Depends(require("view-landscape"))]) -> HTMLResponse:
    survey = _survey(access, survey_id)
    recipients = sv.recipients_of(access.db, survey)
    answered = {
        r.recipient_id for r in access.db.scalars(select(SurveyResponse).where(SurveyResponse.survey_id == survey.id))
    }
    me = access.me()
    mine = sv.recipient_for(access.db, survey, me.organisation_id)
    partners = list(
        access.db.scalars(
            select(Organisation)
            .where(Organisation.active, Organisation.type.in_(sv.PARTNER_ORGANISATION_TYPES))
            .order_by(Organisation.name)
        )
    )
    return page(
        access,
        "landscape_survey.html",
        title=survey.title,
        survey=survey,
        recipients=recipients,
        answered=answered,
        mine=mine if work.may(access, "answer-survey") else None,
        may_manage=work.may(access, "manage-survey"),
        forces=FORCES,
        regions=REGIONS,
        partners=partners,
        kinds_of_question=[(k.value, k.value.capitalize()) for k in QuestionKind],
        **_common(),
    )


@router.post("/landscape/surveys/{survey_id}/questions")
def add_question(
    survey_id: IdPath,
    access: Annotated[Access, Depends(require("manage-survey"))],
    text: Annotated[str, Form(max_length=500)] = "",
    kind: Annotated[str, Form(max_length=10)] = "",
    topic: Annotated[str, Form(max_length=20)] = "other",
    choices: Annotated[str, Form(max_length=10_000)] = "",
    hint: Annotated[str, Form(max_length=500)] = "",
    required: Annotated[str, Form(max_length=3)] = "",
) -> Response:
    survey = _survey(access, survey_id)
    if kind not in {k.value for k in QuestionKind}:
        raise UserError("choose the kind of question")
    spec = sv.QuestionSpec(
        text=text,
        kind=QuestionKind(kind),
        topic=topic,
        choices=tuple(choices.splitlines()),
        hint=hint,
        required=required == "yes",
    )
    work.add_question(access, survey_id=survey.id, spec=spec)
    return redirect(f"/landscape/surveys/{survey.id}", done="question-added")


@router.post("/landscape/surveys/{survey_id}/send", response_model=None)
async def send_survey(survey_id: IdPath, access: Annotated[Access, Depends(require("manage-survey"))]) -> Response:
    survey = _survey(access, survey_id)
    form = await access.request.form()
    forces = [str(v) for v in form.getlist("forces")]
    if "all" in forces:
        forces = [f.code for f in FORCES]
    organisations = [int(v) for v in form.getlist("organisations") if isinstance(v, str) and v.isdigit()]
    region = form.get("region", "")
    work.send_survey(
        access,
        survey_id=survey.id,
        force_codes=forces,
        organisation_ids=organisations,
        partner_region=region if isinstance(region, str) else "",
    )
    return redirect(f"/landscape/surveys/{survey.id}", done="survey-sent")


@router.post("/landscape/surveys/{survey_id}/close")
def close_survey(survey_id: IdPath, access: Annotated[Access, Depends(require("manage-survey"))]) -> Response:
    work.close_survey(access, survey_id=survey_id)
    return redirect(f"/landscape/surveys/{survey_id}", done="survey-closed")


def _answer_page(
    access: Access,
    survey: Survey,
    recipient: SurveyRecipient,
    answers: dict[str, Any],
    errors: dict[str, str],
    status: int = 200,
) -> HTMLResponse:
    response = sv.response_of(access.db, recipient)
    return page(
        access,
        "landscape_answer.html",
        title=f"Answer: {survey.title}",
        survey=survey,
        recipient=recipient,
        answers=answers,
        errors=errors,
        response=response,
        status=status,
    )


@router.get("/landscape/surveys/{survey_id}/answer", response_class=HTMLResponse)
def answer_page(survey_id: IdPath, access: Annotated[Access, Depends(require("answer-survey"))]) -> HTMLResponse:
    survey = _survey(access, survey_id)
    recipient = work.my_recipient(access, survey)
    response = sv.response_of(access.db, recipient)
    return _answer_page(access, survey, recipient, dict(response.answers) if response else {}, {})


@router.post("/landscape/surveys/{survey_id}/answer", response_model=None)
async def answer(survey_id: IdPath, access: Annotated[Access, Depends(require("answer-survey"))]) -> Response:
    survey = _survey(access, survey_id)
    recipient = work.my_recipient(access, survey)
    form = await access.request.form()
    answers: dict[str, Any] = {}
    for question in survey.questions:
        name = f"q{question.id}"
        if question.kind is QuestionKind.MULTIPLE:
            answers[str(question.id)] = [str(v) for v in form.getlist(name)]
        else:
            value = form.get(name, "")
            answers[str(question.id)] = value if isinstance(value, str) else ""
    errors = sv.check_answers(survey, answers)
    if errors:
        return _answer_page(access, survey, recipient, answers, errors, status=400)
    work.answer_survey(access, survey_id=survey.id, answers=answers)
    return redirect(f"/landscape/surveys/{survey.id}", done="survey-answered")


def _filename(survey: Survey, suffix: str) -> str:
    return f"landscape-review-{survey.id}.{suffix}"


@router.get("/landscape/surveys/{survey_id}/report.csv")
def report_csv(survey_id: IdPath, access: Annotated[Access, Depends(require("view-landscape"))]) -> Response:
    survey = _survey(access, survey_id)
    body = sv.report_csv(sv.analyse(access.db, survey))
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{_filename(survey, "csv")}"'},
    )


@router.get("/landscape/surveys/{survey_id}/report.pdf")
def report_pdf(survey_id: IdPath, access: Annotated[Access, Depends(require("view-landscape"))]) -> Response:
    survey = _survey(access, survey_id)
    body = sv.report_pdf(sv.analyse(access.db, survey))
    return Response(
        body,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{_filename(survey, "pdf")}"'},
    )


# --- the work plan --------------------------------------------------------------------------------------------------


def _plan_context(access: Access) -> dict[str, Any]:
    return {
        "plan_status_labels": PLAN_STATUS_LABELS,
        "barriers": BARRIERS,
        "practices": PRACTICES,
        "organisations": list(
            access.db.scalars(select(Organisation).where(Organisation.active).order_by(Organisation.name))
        ),
        "may_manage": work.may(access, "manage-survey"),
    }


@router.get("/landscape/plan", response_class=HTMLResponse)
def plan_page(access: Annotated[Access, Depends(require("view-landscape"))]) -> HTMLResponse:
    items = plan_items(access.db)
    by_barrier = [(b, sum(1 for i in items if b in i.barriers)) for b in BARRIERS]
    return page(
        access,
        "landscape_plan.html",
        title="The partnership's work plan",
        items=items,
        by_barrier=by_barrier,
        errors={},
        values={},
        **_plan_context(access),
    )


def _plan_fields(
    title: str, description: str, owner: int, due_on: dt.date, status: str, barriers: list[str], practices: list[str]
) -> PlanFields:
    if status not in {s.value for s in PlanStatus}:
        raise UserError("choose a status from the list")
    return PlanFields(
        title=title,
        description=description,
        owner_organisation_id=owner,
        due_on=due_on,
        status=PlanStatus(status),
        barriers=barriers,
        practices=practices,
    )


PlanTitle = Annotated[str, Form(max_length=200)]
PlanText = Annotated[str, Form(max_length=10_000)]


@router.post("/landscape/plan")
def create_plan(
    access: Annotated[Access, Depends(require("manage-survey"))],
    title: PlanTitle,
    owner: Annotated[int, Form(ge=1, le=2**31 - 1)],
    due_on: Annotated[dt.date, Form()],
    description: PlanText = "",
    status: Annotated[str, Form(max_length=20)] = "not_started",
    barriers: Annotated[list[str] | None, Form(max_length=20)] = None,
    practices: Annotated[list[str] | None, Form(max_length=20)] = None,
) -> Response:
    fields = _plan_fields(title, description, owner, due_on, status, barriers or [], practices or [])
    item = work.create_plan(access, fields=fields)
    return redirect(f"/landscape/plan/{item.id}", done="plan-saved")


@router.get("/landscape/plan/{item_id}", response_class=HTMLResponse)
def plan_item_page(item_id: IdPath, access: Annotated[Access, Depends(require("view-landscape"))]) -> HTMLResponse:
    item = work.plan_item(access, item_id=item_id)
    moderator = access.check("moderate-comments", Subject(kind=SubjectKind.LIBRARY)).allowed
    return page(
        access,
        "landscape_plan_item.html",
        title=item.title,
        item=item,
        comments=lib.comments_for(
            access.db, target_type="plan", target_id=item.id, user_id=access.me().user_id, moderator=moderator
        ),
        moderator=moderator,
        may_comment=access.check("comment", Subject(kind=SubjectKind.LIBRARY)).allowed,
        pending=CommentStatus.PENDING,
        **_plan_context(access),
    )


@router.post("/landscape/plan/{item_id}")
def update_plan(
    item_id: IdPath,
    access: Annotated[Access, Depends(require("manage-survey"))],
    title: PlanTitle,
    owner: Annotated[int, Form(ge=1, le=2**31 - 1)],
    due_on: Annotated[dt.date, Form()],
    description: PlanText = "",
    status: Annotated[str, Form(max_length=20)] = "not_started",
    barriers: Annotated[list[str] | None, Form(max_length=20)] = None,
    practices: Annotated[list[str] | None, Form(max_length=20)] = None,
) -> Response:
    item = work.plan_item(access, item_id=item_id)
    fields = _plan_fields(title, description, owner, due_on, status, barriers or [], practices or [])
    work.update_plan(access, item_id=item.id, fields=fields)
    return redirect(f"/landscape/plan/{item.id}", done="plan-saved")


@router.post("/landscape/plan/{item_id}/comments")
def comment_on_plan(
    item_id: IdPath,
    access: Annotated[Access, Depends(require("comment"))],
    text: Annotated[str, Form(max_length=lib.MAX_COMMENT)] = "",
) -> Response:
    work.comment_on_plan(access, item_id=item_id, text=text)
    return redirect(f"/landscape/plan/{item_id}#comments", done="plan-comment-held")
