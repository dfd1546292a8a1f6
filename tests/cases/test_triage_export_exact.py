"""``hub export-triage`` writes a file made to be ingested again (#18): its values are written exactly, never
neutralised for a spreadsheet, and ingest loads a formula-like address back as the same text (with a warning)."""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
from service_world import build_world
from sqlalchemy.orm import Session, sessionmaker

from commonground.access.models import User
from commonground.cases.triage import S136, Conveyance, TriageLog, export_triage
from commonground.contracts.values import FORMULA_WARNING
from commonground.ingest import store_path
from commonground.ingest.service import ingest_directory

ATTACK = "-2+3+cmd|' /C calc'!A0"


@dataclass(frozen=True)
class _Identity:
    given_name: str = "Corwin"
    family_name: str = "Haverlock"
    date_of_birth: dt.date = dt.date(1988, 2, 14)
    sex: str = "M"
    nhs_number: str = ""


@dataclass(frozen=True)
class _Record:
    identity: dict[str, Any] = field(default_factory=lambda: {"postcode": "QX1 1AA", "address": ATTACK})


class _View:
    """A person view holding one person, whose records give a formula-like address."""

    def identity(self, person_id: str) -> Any:
        return _Identity()

    def feeds_of(self, person_id: str) -> frozenset[str]:
        return frozenset({"custody_records"})

    def records(self, person_id: str, *, feeds: frozenset[str]) -> list[Any]:
        return [_Record()]


def test_the_triage_export_keeps_a_formula_like_value_exactly(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    world = build_world(sessions, with_agreements=True)
    with sessions() as db:
        user = db.get_one(User, world.users["triage@nhs.example"])
        db.add(
            TriageLog(
                organisation_id=user.organisation_id,
                person_id="P-NHS-3",
                contacted_at=dt.datetime(2026, 10, 2, 22, 15, tzinfo=dt.UTC),
                setting="control_room",
                advice="Advised the officers.",
                outcome="crisis_team_referral",
                s136=S136.AVOIDED,
                conveyance=Conveyance.NONE,
                crisis_team_referral=True,
                recorded_by_user_id=user.id,
            )
        )
        db.commit()
        result = export_triage(db, out_dir=tmp_path / "feeds", person_view=_View())
    assert result.rows == 1
    text = result.path.read_text(encoding="utf-8")
    assert "'" + ATTACK not in text
    with result.path.open(encoding="utf-8", newline="") as handle:
        (row,) = list(csv.DictReader(handle))
    assert row["address"] == ATTACK
    ingested = ingest_directory(source=result.path.parent, data_dir=tmp_path / "analytical")
    [loaded] = ingested.files
    assert (loaded.status, loaded.rows_accepted, loaded.rows_quarantined, loaded.warnings) == ("loaded", 1, 0, 1)
    con = duckdb.connect(str(store_path(tmp_path / "analytical")), read_only=True)
    try:
        assert con.execute("SELECT field, reason FROM ingest_warnings").fetchall() == [("address", FORMULA_WARNING)]
        assert con.execute("SELECT address FROM feed_street_triage").fetchall() == [(ATTACK,)]
    finally:
        con.close()
