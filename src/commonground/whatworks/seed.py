"""Demo data: the library entries of ``library_seed.yaml`` (published, with their sources cited) and a landscape
survey sent to the 43 forces and the hub's partners, with SYNTHETIC answers from a subset of forces."""

from __future__ import annotations

import datetime as dt
import random
from importlib import resources
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from commonground.access.audit import Actor
from commonground.store.db import utcnow
from commonground.store.models import Organisation
from commonground.store.organisation_types import OrganisationType
from commonground.whatworks.forces import BARRIERS, FORCES, PARTNERS, PRACTICES
from commonground.whatworks.library import EntryFields, Outcome, Study, create_entry
from commonground.whatworks.models import EntryStatus, LibraryEntry, PlanStatus, QuestionKind, Survey
from commonground.whatworks.plan import PlanFields, create_plan_item
from commonground.whatworks.survey import (
    PARTNER_ORGANISATION_TYPES,
    answer_survey,
    create_survey,
    recipients_of,
    send_survey,
)

DEMO_SURVEY_TITLE = "Landscape review of police and health collaborations (demo, synthetic answers)"


def library_seed() -> dict[str, Any]:
    text = (resources.files("commonground.whatworks") / "library_seed.yaml").read_text(encoding="utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def _fields(raw: dict[str, Any], provenance: str) -> EntryFields:
    return EntryFields(
        title=raw["title"],
        summary=raw["summary"],
        problem=raw["problem"],
        problem_detail=raw.get("problem_detail", ""),
        age_band=raw["age_band"],
        setting=raw["setting"],
        need_level=raw["need_level"],
        mechanism=raw.get("mechanism", ""),
        outcomes=tuple(
            Outcome(
                outcome=o["outcome"],
                direction=o.get("direction", "unknown"),
                size=float(o["size"]) if o.get("size") is not None else None,
                lower=float(o["lower"]) if o.get("lower") is not None else None,
                upper=float(o["upper"]) if o.get("upper") is not None else None,
                unit=o.get("unit", ""),
                source=o.get("source", ""),
            )
            for o in raw.get("outcomes", [])
        ),
        emmie={
            k: {"evidence": v.get("evidence", ""), "quality": v.get("quality", "not_rated")}
            for k, v in raw.get("emmie", {}).items()
        },
        eif_level=str(raw.get("eif_level", "not_rated")),
        eif_rationale=raw.get("eif_rationale", ""),
        studies=tuple(
            Study(citation=s["citation"], design=s["design"], year=s.get("year"), url=s.get("url", ""))
            for s in raw.get("studies", [])
        ),
        implementation=raw.get("implementation", ""),
        cost=raw.get("cost", ""),
        provenance=provenance,
    )


def seed_library(session: Session, by: Actor) -> list[LibraryEntry]:
    """Publish the demo entries (those not there already, by title). They are marked as written for the demo and
    not reviewed by the partnership. The caller commits."""
    data = library_seed()
    existing = set(session.scalars(select(LibraryEntry.title)))
    made = []
    for raw in data["entries"]:
        if raw["title"] in existing:
            continue
        entry = create_entry(session, fields=_fields(raw, data["provenance"]), by=by)
        entry.author_user_id = None
        entry.status = EntryStatus.PUBLISHED
        entry.published_at = utcnow()
        made.append(entry)
    session.flush()
    return made


def _synthetic_answers(survey: Survey, rng: random.Random) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for question in survey.questions:
        key = str(question.id)
        if question.kind is QuestionKind.TEXT:
            continue
        if question.kind is QuestionKind.SINGLE:
            answers[key] = rng.choice(question.choices)
            continue
        weights = {
            "practice": dict(zip(PRACTICES, (0.7, 0.6, 0.9, 0.8, 0.4, 0.3, 0.7, 0.85, 0.5), strict=True)),
            "barrier": dict(zip(BARRIERS, (0.8, 0.7, 0.75, 0.4, 0.5, 0.45, 0.3, 0.2), strict=True)),
            "partner": dict.fromkeys(PARTNERS, 0.5),
        }.get(question.topic, {})
        answers[key] = [c for c in question.choices if rng.random() < weights.get(c, 0.5)]
    return answers


def seed_landscape(session: Session, by: Actor) -> Survey:
    """A demo survey with the standard questions, sent to the 43 forces and the hub's partner organisations, with
    SYNTHETIC answers from 27 forces (a fixed random subset) and the partnership's own partners but the children's
    services council (whose people can try answering it), and a small work plan. Idempotent by title."""
    found = session.scalars(select(Survey).where(Survey.title == DEMO_SURVEY_TITLE)).first()
    if found is not None:
        return found
    survey = create_survey(
        session,
        title=DEMO_SURVEY_TITLE,
        introduction="Which collaborations do you run, with whom, since when, and what holds them back? "
        "The answers shown here are SYNTHETIC: made up for the demo.",
        by=by,
        synthetic=True,
    )
    partners = list(
        session.scalars(
            select(Organisation).where(Organisation.type.in_(PARTNER_ORGANISATION_TYPES), Organisation.active)
        )
    )
    send_survey(
        session,
        survey=survey,
        force_codes=[f.code for f in FORCES],
        organisation_ids=[o.id for o in partners],
        partner_region="Partnership area",
        by=by,
    )
    rng = random.Random(20261129)
    answering = set(rng.sample([f.code for f in FORCES], 27))
    # The partnership's own partners answer too (#17: they all showed 0 %), but for the children's services council:
    # its people find the survey waiting for them, to try answering it.
    partner_rng = random.Random(20261207)
    waiting = {o.id for o in partners if o.type is OrganisationType.LOCAL_AUTHORITY_CHILDRENS}
    for recipient in recipients_of(session, survey):
        own = recipient.organisation_id is not None and recipient.organisation_id not in waiting
        if recipient.force_code in answering or own:
            answer_survey(
                session,
                survey=survey,
                recipient=recipient,
                answers=_synthetic_answers(survey, rng if recipient.force_code in answering else partner_rng),
                by=by,
                synthetic=True,
            )
    if partners:
        today = utcnow().date()
        owners = {o.type: o for o in partners}
        police = owners.get(OrganisationType.POLICE_FORCE, partners[0])
        health = owners.get(OrganisationType.NHS_TRUST, partners[0])
        council = owners.get(OrganisationType.LOCAL_AUTHORITY_CHILDRENS, partners[0])
        for title, owner, days, status, barriers, practices in (
            (
                "Agree one information-sharing agreement for the control-room mental-health service",
                health,
                60,
                PlanStatus.IN_PROGRESS,
                [BARRIERS[0]],
                [PRACTICES[0]],
            ),
            (
                "Give control-room clinicians read access to the mental-health record",
                health,
                120,
                PlanStatus.NOT_STARTED,
                [BARRIERS[1]],
                [PRACTICES[0], PRACTICES[1]],
            ),
            (
                "Bid for three-year funding of street triage",
                police,
                90,
                PlanStatus.NOT_STARTED,
                [BARRIERS[2]],
                [PRACTICES[1]],
            ),
            (
                "Extend Operation Encompass notices to every school in the area",
                council,
                45,
                PlanStatus.IN_PROGRESS,
                [BARRIERS[0]],
                [PRACTICES[3]],
            ),
        ):
            create_plan_item(
                session,
                fields=PlanFields(
                    title=title,
                    description="",
                    owner_organisation_id=owner.id,
                    due_on=today + dt.timedelta(days=days),
                    status=status,
                    barriers=barriers,
                    practices=practices,
                ),
                by=by,
            )
    session.flush()
    return survey
