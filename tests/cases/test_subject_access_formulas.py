"""Subject access (#18): the export's files are opened in a spreadsheet, so a case note that begins like a formula
is written with a leading quote and every field is quoted; read back as a spreadsheet would, the cell is text."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from service_support import SETUP
from service_world import World, build_world
from sqlalchemy.orm import Session, sessionmaker

from commonground.access.accounts import actor_of
from commonground.access.models import User
from commonground.access.purposes import Purpose
from commonground.cases.notes import add_note
from commonground.cases.subject_access import export_subject_access

PERSON = "P-LA-1"
NOTE = '=HYPERLINK("http://x","click")'


@pytest.fixture
def world(sessions: sessionmaker[Session]) -> World:
    return build_world(sessions, with_agreements=True)


def test_a_case_note_that_looks_like_a_formula_is_neutralised(
    sessions: sessionmaker[Session], world: World, tmp_path: Path
) -> None:
    with sessions() as db:
        user = db.get_one(User, world.users["hub@la.example"])
        for text in (NOTE, "-5", "Spoke to the school."):
            add_note(
                db,
                person_id=PERSON,
                organisation_id=user.organisation_id,
                by=actor_of(user),
                purpose=Purpose.SAFEGUARDING_CHILDREN,
                text=text,
            )
        db.commit()
    out = tmp_path / "export"
    with sessions() as db:
        export_subject_access(db, None, PERSON, out, SETUP)
        db.commit()
    raw = (out / "notes.csv").read_text(encoding="utf-8")
    with (out / "notes.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["id", "written_at", "organisation", "author", "purpose", "text"]
    texts = [row[5] for row in rows[1:]]
    assert sorted(texts) == sorted(["'" + NOTE, "-5", "Spoke to the school."])  # '-5' is a plain number
    assert not any(cell.startswith(("=", "+", "@")) for row in rows for cell in row)
    assert all(line.startswith('"') and line.endswith('"') for line in raw.splitlines())  # every field quoted
    assert "The files:" in (out / "README.txt").read_text(encoding="utf-8")
