"""The landscape review's CSV is opened in a spreadsheet (#18): a choice or a region typed so that it begins like a
formula is written with a leading quote; plain numbers are left as they are."""

from __future__ import annotations

import csv
import io

import pytest
from service_support import SETUP
from service_world import World, build_world
from sqlalchemy.orm import Session, sessionmaker

from commonground.whatworks import survey as sv
from commonground.whatworks.models import QuestionKind

CHOICES = ("=1+1", "-2+3+cmd|' /C calc'!A0", "-Infinity", "Plain")
# '-Infinity' passed the CSV's old check (Python's float() reads it); a spreadsheet computes it all the same (#NAME?)
REGION = '@HYPERLINK("http://x","click")'


@pytest.fixture
def world(sessions: sessionmaker[Session]) -> World:
    return build_world(sessions, with_agreements=False)


def test_formula_like_labels_are_neutralised_in_the_csv(sessions: sessionmaker[Session], world: World) -> None:
    with sessions() as db:
        survey = sv.create_survey(db, title="Formulas", introduction="", by=SETUP, standard=False)
        question = sv.add_question(
            db, survey=survey, spec=sv.QuestionSpec("Which?", QuestionKind.SINGLE, choices=CHOICES), by=SETUP
        )
        sv.send_survey(
            db,
            survey=survey,
            force_codes=["CLE"],
            organisation_ids=[world.organisations["NHS"]],
            partner_region=REGION,
            by=SETUP,
        )
        for recipient, choice in zip(sv.recipients_of(db, survey), CHOICES, strict=False):
            sv.answer_survey(db, survey=survey, recipient=recipient, answers={str(question.id): choice}, by=SETUP)
        report = sv.analyse(db, survey)
        db.commit()
    rows = list(csv.reader(io.StringIO(sv.report_csv(report), newline="")))
    cells = {cell for row in rows for cell in row}
    assert {"'=1+1", "'-2+3+cmd|' /C calc'!A0", "'-Infinity", "'" + REGION, "Plain"} <= cells
    assert not [cell for cell in cells if cell.startswith(("=", "+", "-", "@", "\t", "\r"))]
    assert ["response_rate", "all", "All organisations", "2", "2", "100.0"] in rows  # numbers stay numbers
