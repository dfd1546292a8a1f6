"""The public record of the rules and the linkage (#16): an Algorithmic Transparency Recording Standard record
generated from what runs (the rule packs with their citations, owners and review dates; the linkage model; the
agreements in force), as a page and JSON without signing in and from the command line; it changes when what it
describes changes, and names no one."""

from __future__ import annotations

import html
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from service_support import SETUP
from service_world import ITEMS, build_world
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from commonground.access.agreements import end_agreement
from commonground.access.models import Agreement
from commonground.cases.transparency import TIER_1, TIER_2, TO_COMPLETE
from commonground.cli import app as cli
from commonground.rules.packs import default_rules


def test_anyone_reads_the_record_and_it_follows_the_agreements(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    build_world(sessions, with_agreements=True)
    page = client.get("/transparency")
    assert page.status_code == 200
    record = client.get("/transparency.json").json()
    assert set(TIER_1) <= set(record["tier_1"]) and set(TIER_2) <= set(record["tier_2"])
    rules = record["tier_2"]["decision_making_process"]["rules"]
    assert [r["id"] for r in rules] == [r.id for r in default_rules().rules]
    for rule in rules:
        assert rule["rests_on"] and rule["owner"] and rule["review_by"] and rule["legal_basis"]
        assert rule["title"] in html.unescape(page.text)
    sharing = record["tier_2"]["data_specification"]["sharing_agreements_in_force"]
    partners = {a["organisation"] for a in sharing}
    assert "Northshire Children's Services" in partners and "DSA-LA" not in page.text  # who shares, not references
    assert TO_COMPLETE in page.text  # what only the partnership can write is said to be missing, not invented
    for person, *_ in ITEMS:
        assert person not in page.text and person not in json.dumps(record)

    with sessions() as db:
        agreement = db.scalars(select(Agreement).where(Agreement.reference == "DSA-LA")).one()
        end_agreement(db, agreement=agreement, by=SETUP, reason="Replaced by a new agreement")
        db.commit()
    after = client.get("/transparency.json").json()
    assert after["version"] != record["version"]
    assert len(after["tier_2"]["data_specification"]["sharing_agreements_in_force"]) == len(sharing) - 1


def test_the_command_line_writes_the_same_record(
    sessions: sessionmaker[Session], store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_world(sessions, with_agreements=True)
    monkeypatch.setenv("COMMONGROUND_DATABASE_URL", store_url)
    out = tmp_path / "atrs.json"
    result = CliRunner().invoke(cli, ["--data-dir", str(tmp_path), "hub", "transparency", "--out", str(out)])
    assert result.exit_code == 0, result.output
    record = json.loads(out.read_text())
    assert record["standard"] == "Algorithmic Transparency Recording Standard"
    assert f"{len(default_rules().rules)} rules" in result.output
