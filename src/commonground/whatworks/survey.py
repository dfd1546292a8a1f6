"""The landscape review: an administrator defines a survey, sends it to partner organisations (forces from the
reference list of 43, and partners of the hub), organisations answer in the app (one answer per organisation: any
member may answer, the last answer wins), and the answers are analysed: who responded, how common each practice is,
the barriers ranked, by region. The report is a page, a CSV and a PDF."""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from commonground import spreadsheet
from commonground.access import audit
from commonground.access.audit import Actor
from commonground.errors import UserError
from commonground.store.db import utcnow
from commonground.store.models import Organisation
from commonground.store.organisation_types import OrganisationType
from commonground.whatworks.forces import BARRIERS, FORCES_BY_CODE, ORGANISATION_KINDS, PARTNERS, PRACTICES, SINCE
from commonground.whatworks.models import (
    QuestionKind,
    Survey,
    SurveyQuestion,
    SurveyRecipient,
    SurveyResponse,
    SurveyStatus,
)

TOPICS: dict[str, str] = {
    "practice": "A practice the organisation runs (how common)",
    "barrier": "A barrier (ranked)",
    "partner": "Who they work with",
    "since": "Since when",
    "other": "Other",
}
MAX_ANSWER = 4_000
PARTNER_ORGANISATION_TYPES = (
    OrganisationType.POLICE_FORCE,
    OrganisationType.NHS_TRUST,
    OrganisationType.LOCAL_AUTHORITY_CHILDRENS,
    OrganisationType.PUBLIC_HEALTH_TEAM,
    OrganisationType.DRUG_ALCOHOL_SERVICE,
)
"""The kinds of hub organisation a survey can be sent to (schools are not surveyed)."""


@dataclass(frozen=True)
class QuestionSpec:
    text: str
    kind: QuestionKind
    topic: str = "other"
    choices: tuple[str, ...] = ()
    hint: str = ""
    required: bool = False


STANDARD_QUESTIONS: tuple[QuestionSpec, ...] = (
    QuestionSpec(
        "Which of these collaborations does your organisation run or take part in?",
        QuestionKind.MULTIPLE,
        "practice",
        PRACTICES,
        "Select all that apply.",
    ),
    QuestionSpec(
        "Which partners do you run them with?", QuestionKind.MULTIPLE, "partner", PARTNERS, "Select all that apply."
    ),
    QuestionSpec("Since when has your longest-running collaboration run?", QuestionKind.SINGLE, "since", SINCE),
    QuestionSpec(
        "What holds your collaborations back?", QuestionKind.MULTIPLE, "barrier", BARRIERS, "Select all that apply."
    ),
    QuestionSpec("Anything else we should know?", QuestionKind.TEXT, "other"),
)


def _event(session: Session, by: Actor, action: str, subject_id: int, **detail: Any) -> None:
    audit.record(
        session,
        audit.Event(actor=by, action=action, subject_type="survey", subject_id=str(subject_id), detail=detail),
    )


def _clean(text: str, *, limit: int, what: str) -> str:
    text = text.strip()
    if len(text) > limit:
        raise UserError(f"{what} is at most {limit:,} characters")
    if "\x00" in text:
        raise UserError("text cannot contain the NUL character")
    return text


def create_survey(
    session: Session, *, title: str, introduction: str, by: Actor, standard: bool = True, synthetic: bool = False
) -> Survey:
    title = _clean(title, limit=200, what="a title")
    if not title:
        raise UserError("a survey needs a title")
    survey = Survey(
        title=title,
        introduction=_clean(introduction, limit=MAX_ANSWER, what="an introduction"),
        created_by_user_id=by.user_id,
        synthetic=synthetic,
    )
    session.add(survey)
    session.flush()
    _event(session, by, "manage-survey", survey.id, change="created")
    if standard:
        for spec in STANDARD_QUESTIONS:
            add_question(session, survey=survey, spec=spec, by=by)
    return survey


def add_question(session: Session, *, survey: Survey, spec: QuestionSpec, by: Actor) -> SurveyQuestion:
    if survey.status is not SurveyStatus.DRAFT:
        raise UserError("questions can be added only before the survey is sent")
    text = _clean(spec.text, limit=500, what="a question")
    if not text:
        raise UserError("a question needs some text")
    if spec.topic not in TOPICS:
        raise UserError("choose what the question is about from the list")
    choices = [_clean(c, limit=200, what="a choice") for c in spec.choices if c.strip()]
    if spec.kind is QuestionKind.TEXT:
        choices = []
    elif len(choices) < 2:
        raise UserError("a choice question needs at least two choices")
    elif len(set(choices)) != len(choices):
        raise UserError("each choice must be different")
    position = 1 + max((q.position for q in survey.questions), default=0)
    question = SurveyQuestion(
        survey_id=survey.id,
        position=position,
        text=text,
        hint=_clean(spec.hint, limit=500, what="a hint"),
        kind=spec.kind,
        topic=spec.topic,
        choices=choices,
        required=spec.required,
    )
    session.add(question)
    session.flush()
    session.refresh(survey, ["questions"])
    _event(session, by, "manage-survey", survey.id, change="question-added", question_id=question.id)
    return question


def partner_kind(organisation_type: OrganisationType) -> str:
    return {
        OrganisationType.POLICE_FORCE: "police_force",
        OrganisationType.NHS_TRUST: "health",
        OrganisationType.PUBLIC_HEALTH_TEAM: "health",
        OrganisationType.LOCAL_AUTHORITY_CHILDRENS: "local_authority",
    }.get(organisation_type, "other")


def send_survey(
    session: Session,
    *,
    survey: Survey,
    force_codes: Iterable[str],
    organisation_ids: Iterable[int],
    partner_region: str,
    by: Actor,
) -> list[SurveyRecipient]:
    """Send to forces of the reference list and to partner organisations of the hub (whose region is the
    partnership's, ``partner_region``). Sending again adds recipients; nobody is sent it twice."""
    if survey.status is SurveyStatus.CLOSED:
        raise UserError("the survey is closed")
    if not survey.questions:
        raise UserError("add at least one question before sending")
    codes = sorted(set(force_codes))
    unknown = [c for c in codes if c not in FORCES_BY_CODE]
    if unknown:
        raise UserError("choose forces from the reference list")
    ids = sorted(set(organisation_ids))
    partner_region = _clean(partner_region, limit=60, what="a region")
    if ids and not partner_region:
        raise UserError("say which region the partnership's organisations are in")
    existing = {r.name for r in recipients_of(session, survey)}
    hub_by_code = {o.code: o for o in session.scalars(select(Organisation).where(Organisation.code.in_(codes)))}
    added: list[SurveyRecipient] = []
    for code in codes:
        force = FORCES_BY_CODE[code]
        if force.name in existing:
            continue
        linked = hub_by_code.get(code)
        added.append(
            SurveyRecipient(
                survey_id=survey.id,
                name=force.name,
                kind="police_force",
                region=force.region,
                force_code=code,
                organisation_id=linked.id if linked is not None else None,
            )
        )
    for organisation in session.scalars(select(Organisation).where(Organisation.id.in_(ids))):
        if organisation.name in existing:
            continue
        added.append(
            SurveyRecipient(
                survey_id=survey.id,
                name=organisation.name,
                kind=partner_kind(organisation.type),
                region=partner_region,
                organisation_id=organisation.id,
            )
        )
    if not added and not existing:
        raise UserError("choose at least one organisation to send the survey to")
    session.add_all(added)
    survey.status = SurveyStatus.SENT
    survey.sent_at = survey.sent_at or utcnow()
    session.flush()
    _event(session, by, "manage-survey", survey.id, change="sent", recipients=[r.id for r in added])
    return added


def close_survey(session: Session, *, survey: Survey, by: Actor) -> None:
    survey.status = SurveyStatus.CLOSED
    _event(session, by, "manage-survey", survey.id, change="closed")


def recipients_of(session: Session, survey: Survey) -> list[SurveyRecipient]:
    return list(
        session.scalars(
            select(SurveyRecipient)
            .where(SurveyRecipient.survey_id == survey.id)
            .order_by(SurveyRecipient.region, SurveyRecipient.name)
        )
    )


def recipient_for(session: Session, survey: Survey, organisation_id: int) -> SurveyRecipient | None:
    return session.scalars(
        select(SurveyRecipient).where(
            SurveyRecipient.survey_id == survey.id, SurveyRecipient.organisation_id == organisation_id
        )
    ).first()


def response_of(session: Session, recipient: SurveyRecipient) -> SurveyResponse | None:
    return session.scalars(select(SurveyResponse).where(SurveyResponse.recipient_id == recipient.id)).first()


def check_answers(survey: Survey, answers: dict[str, Any]) -> dict[str, str]:
    """Errors by question field name (``q<id>``)."""
    errors: dict[str, str] = {}
    for question in survey.questions:
        value = answers.get(str(question.id))
        name = f"q{question.id}"
        if question.kind is QuestionKind.TEXT:
            if value is not None and (not isinstance(value, str) or len(value) > MAX_ANSWER or "\x00" in value):
                errors[name] = f"An answer is at most {MAX_ANSWER:,} characters"
            elif question.required and not (value or "").strip():
                errors[name] = "Answer this question"
        elif question.kind is QuestionKind.SINGLE:
            if value not in (None, "") and value not in question.choices:
                errors[name] = "Choose one of the answers"
            elif question.required and not value:
                errors[name] = "Choose an answer"
        else:
            values = value or []
            if not isinstance(values, list) or any(v not in question.choices for v in values):
                errors[name] = "Choose from the answers given"
            elif question.required and not values:
                errors[name] = "Choose at least one answer"
    return errors


def answer_survey(
    session: Session,
    *,
    survey: Survey,
    recipient: SurveyRecipient,
    answers: dict[str, Any],
    by: Actor,
    synthetic: bool = False,
) -> SurveyResponse:
    """Record an organisation's answers; answering again replaces the earlier answer (the last answer wins)."""
    if survey.status is not SurveyStatus.SENT:
        raise UserError("this survey is not open for answers")
    if recipient.survey_id != survey.id:
        raise UserError("that organisation was not sent this survey")
    known = {str(q.id): q for q in survey.questions}
    answers = {k: v for k, v in answers.items() if k in known}
    errors = check_answers(survey, answers)
    if errors:
        raise UserError("; ".join(errors.values()))
    for key, value in list(answers.items()):
        if known[key].kind is QuestionKind.TEXT and isinstance(value, str):
            answers[key] = value.strip()
        elif known[key].kind is QuestionKind.MULTIPLE and isinstance(value, list):
            answers[key] = [c for c in known[key].choices if c in value]
    response = response_of(session, recipient)
    if response is None:
        response = SurveyResponse(survey_id=survey.id, recipient_id=recipient.id, version=1)
        session.add(response)
    else:
        response.version += 1
    response.answers = answers
    response.answered_by_user_id = by.user_id
    response.answered_at = utcnow()
    response.synthetic = synthetic
    session.flush()
    _event(session, by, "answer-survey", survey.id, recipient_id=recipient.id, version=response.version)
    return response


# --- analysis -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rate:
    label: str
    sent: int
    answered: int

    @property
    def percent(self) -> float:
        return round(100 * self.answered / self.sent, 1) if self.sent else 0.0


@dataclass(frozen=True)
class Count:
    choice: str
    count: int
    of: int

    @property
    def percent(self) -> float:
        return round(100 * self.count / self.of, 1) if self.of else 0.0


@dataclass
class QuestionResult:
    question: SurveyQuestion
    counts: list[Count] = field(default_factory=list)
    texts: list[tuple[str, str]] = field(default_factory=list)
    by_region: dict[str, list[Count]] = field(default_factory=dict)


@dataclass
class Report:
    survey: Survey
    overall: Rate
    by_region: list[Rate]
    by_kind: list[Rate]
    questions: list[QuestionResult]
    not_answered: list[SurveyRecipient]

    def topic(self, topic: str) -> list[QuestionResult]:
        return [q for q in self.questions if q.question.topic == topic]

    @property
    def regions(self) -> list[str]:
        return [r.label for r in self.by_region]


def _rates(groups: dict[str, list[bool]], labels: dict[str, str] | None = None) -> list[Rate]:
    return [
        Rate(label=(labels or {}).get(key, key), sent=len(flags), answered=sum(flags))
        for key, flags in sorted(groups.items())
    ]


def _counts(question: SurveyQuestion, answers: Sequence[Any], of: int) -> list[Count]:
    tally: Counter[str] = Counter()
    for value in answers:
        for choice in value if isinstance(value, list) else [value] if value else []:
            tally[choice] += 1
    counts = [Count(choice=c, count=tally[c], of=of) for c in question.choices]
    if question.topic == "barrier":  # ranked: most common first, ties in the order asked
        counts.sort(key=lambda c: -c.count)
    return counts


def analyse(session: Session, survey: Survey) -> Report:
    """Response rates (overall, by region, by kind of organisation); for each choice question how many responding
    organisations chose each answer (the denominator is the organisations that responded); barriers ranked; every
    choice question also by region."""
    recipients = recipients_of(session, survey)
    responses = {
        r.recipient_id: r for r in session.scalars(select(SurveyResponse).where(SurveyResponse.survey_id == survey.id))
    }
    by_region: dict[str, list[bool]] = {}
    by_kind: dict[str, list[bool]] = {}
    for recipient in recipients:
        by_region.setdefault(recipient.region, []).append(recipient.id in responses)
        by_kind.setdefault(recipient.kind, []).append(recipient.id in responses)
    answered = [r for r in recipients if r.id in responses]
    results = []
    for question in survey.questions:
        key = str(question.id)
        result = QuestionResult(question=question)
        if question.kind is QuestionKind.TEXT:
            result.texts = [
                (r.name, str(responses[r.id].answers.get(key, "")))
                for r in answered
                if str(responses[r.id].answers.get(key, "")).strip()
            ]
        else:
            result.counts = _counts(question, [responses[r.id].answers.get(key) for r in answered], len(answered))
            for region in sorted(by_region):
                in_region = [r for r in answered if r.region == region]
                result.by_region[region] = _counts(
                    question, [responses[r.id].answers.get(key) for r in in_region], len(in_region)
                )
        results.append(result)
    return Report(
        survey=survey,
        overall=Rate(label="All organisations", sent=len(recipients), answered=len(answered)),
        by_region=_rates(by_region),
        by_kind=_rates(by_kind, ORGANISATION_KINDS),
        questions=results,
        not_answered=[r for r in recipients if r.id not in responses],
    )


def report_csv(report: Report) -> str:
    """The report as one long table: section, group, item, count, of, percent.

    A file people open: a cell that begins like a spreadsheet formula (a choice typed as ``=1+1``) is written with a
    leading ``'`` (:mod:`commonground.spreadsheet`, #18). Fields are quoted where they need it only, as before.
    """
    out = io.StringIO()
    writer = spreadsheet.writer(out, lineterminator="\n", quote_all=False)
    writer.writerow(["section", "group", "item", "count", "of", "percent"])
    if report.survey.synthetic:
        writer.writerow(["note", "", "SYNTHETIC answers made up for the demo", "", "", ""])
    writer.writerow(
        [
            "response_rate",
            "all",
            report.overall.label,
            report.overall.answered,
            report.overall.sent,
            report.overall.percent,
        ]
    )
    for rate in report.by_region:
        writer.writerow(["response_rate", "region", rate.label, rate.answered, rate.sent, rate.percent])
    for rate in report.by_kind:
        writer.writerow(["response_rate", "kind", rate.label, rate.answered, rate.sent, rate.percent])
    for result in report.questions:
        section = f"q{result.question.position}:{result.question.topic}"
        for count in result.counts:
            writer.writerow([section, "all", count.choice, count.count, count.of, count.percent])
        for region, counts in result.by_region.items():
            for count in counts:
                writer.writerow([section, region, count.choice, count.count, count.of, count.percent])
    return out.getvalue()


def _latin(text: str) -> str:
    """The PDF's core fonts hold Latin-1 only."""
    swaps = {"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-", "\u00b7": "-"}
    return "".join(swaps.get(ch, ch) for ch in text).encode("latin-1", "replace").decode("latin-1")


def report_pdf(report: Report) -> bytes:
    """The report as a PDF: the response rates, the practices and the barriers, with bar charts."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.set_title(_latin(report.survey.title))
    pdf.set_creator("commonground")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.multi_cell(0, 8, _latin(f"Landscape review: {report.survey.title}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    if report.survey.synthetic:
        pdf.set_text_color(180, 0, 0)
        pdf.multi_cell(0, 6, "SYNTHETIC: these answers were made up for the demo.", new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0, 0, 0)
    overall = report.overall
    pdf.multi_cell(
        0,
        6,
        _latin(f"{overall.answered} of {overall.sent} organisations responded ({overall.percent:g}%)."),
        new_x="LMARGIN",
        new_y="NEXT",
    )

    def chart(title: str, rows: list[tuple[str, float, str]]) -> None:
        pdf.ln(3)
        pdf.set_font("Helvetica", "B", 12)
        pdf.multi_cell(0, 7, _latin(title), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 9)
        top = max((value for _, value, _ in rows), default=0) or 1
        for label, value, words in rows:
            y = pdf.get_y()
            pdf.set_xy(10, y)
            pdf.cell(80, 6, _latin(label if len(label) <= 44 else label[:43] + "..."))
            pdf.set_fill_color(29, 112, 184)
            width = 70 * value / top
            if width > 0:
                pdf.rect(92, y + 1, width, 4, style="F")
            pdf.set_xy(94 + width, y)
            pdf.cell(30, 6, _latin(words))
            pdf.ln(6)

    chart("Response rate by region", [(r.label, r.percent, f"{r.answered}/{r.sent}") for r in report.by_region])
    chart(
        "Response rate by kind of organisation",
        [(r.label, r.percent, f"{r.answered}/{r.sent}") for r in report.by_kind],
    )
    for result in report.questions:
        if result.counts:
            label = {"practice": "How common each practice is", "barrier": "Barriers, ranked"}.get(
                result.question.topic, result.question.text
            )
            chart(label, [(c.choice, c.count, f"{c.count} ({c.percent:g}%)") for c in result.counts])
    barrier_questions = [q for q in report.questions if q.question.topic == "barrier" and q.by_region]
    for result in barrier_questions:
        pdf.ln(3)
        pdf.set_font("Helvetica", "B", 12)
        pdf.multi_cell(0, 7, "The most common barrier in each region", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 9)
        for region, counts in result.by_region.items():
            top_count = max(counts, key=lambda c: c.count, default=None)
            words = (
                f"{top_count.choice} ({top_count.count} of {top_count.of})" if top_count and top_count.count else "-"
            )
            pdf.multi_cell(0, 5, _latin(f"{region}: {words}"), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
