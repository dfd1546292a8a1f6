"""Subject access: the export holds everything about the person (build records with every column, indicators with
evidence, household without other people, work items, notes, every access) and is itself audited; the CLI and the
DPO's page make it; nobody else can."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile
from pathlib import Path

import duckdb
import pytest
from fastapi.testclient import TestClient
from person_view_fixture import BUILD_ID, ViewPerson, write_test_view
from service_support import SETUP, form_csrf, login_as
from service_world import World, build_world
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from commonground.access.models import AuditEvent
from commonground.access.purposes import Purpose
from commonground.cases.notes import add_note
from commonground.cases.person_view import PersonView
from commonground.cases.subject_access import SECTIONS, export_subject_access

PERSON = "P-LA-1"  # has a work item routed to the local authority's hub practitioner in service_world


def write_view(data_dir: Path) -> Path:
    """The lead's small view for two people, a build file with the feed table's every column, and one indicator."""
    path = write_test_view(
        data_dir,
        [
            ViewPerson(PERSON, "Ada", "Testperson", dt.date(2015, 3, 27), "custody_records", "C-100"),
            ViewPerson("P-OTHER", "Bo", "Elsewhere", dt.date(1990, 1, 1), "custody_records", "C-200"),
        ],
    )
    con = duckdb.connect(str(path))
    try:
        con.execute(
            "INSERT INTO indicators VALUES (?, 'ace.domestic_abuse', 1, TIMESTAMP '2026-10-01 21:30', "
            "TIMESTAMP '2026-10-01 21:30', 1)",
            [PERSON],
        )
        con.execute(
            "INSERT INTO evidence VALUES (?, 'ace.domestic_abuse', 1, 'indicator', 'da_incident', 'incident', "
            "'custody_records', 'C-100', NULL, TIMESTAMP '2026-10-01 21:30')",
            [PERSON],
        )
        con.execute(
            "INSERT INTO rules VALUES ('ace.domestic_abuse', 'aces', 1, 1, 'indicator', 'children', "
            "'Domestic abuse in the household', 'A domestic-abuse incident involving the household.', "
            "'Children Act 2004 s11', 'safeguarding_children', 365, NULL, ['custody_records'], NULL, NULL, NULL)"
        )
        con.execute(
            "INSERT INTO household_periods VALUES (?, 'P-OTHER', DATE '2020-01-01', NULL, 'K', NULL)", [f"H-{PERSON}"]
        )
    finally:
        con.close()
    build = duckdb.connect(str(path.parents[2] / "build.duckdb"))
    try:
        build.execute(
            "CREATE TABLE feed_custody_records (record_id VARCHAR, arrested_at TIMESTAMP, offence_group VARCHAR, "
            "given_name VARCHAR, family_name VARCHAR, secret_column_only_in_build VARCHAR)"
        )
        build.execute(
            "INSERT INTO feed_custody_records VALUES ('C-100', TIMESTAMP '2026-10-01 22:00', 'violence', 'Ada', "
            "'Testperson', 'kept-in-the-build'), ('C-200', NULL, 'theft', 'Bo', 'Elsewhere', 'not-hers')"
        )
    finally:
        build.close()
    return path


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def world(sessions: sessionmaker[Session]) -> World:
    return build_world(sessions, with_agreements=True)


def _read_before_export(client: TestClient, sessions: sessionmaker[Session], world: World) -> None:
    """The hub practitioner opens the person's work item (an audited read) and writes a note."""
    login_as(client, sessions, world.users["hub@la.example"])
    item = world.items[PERSON]
    assert client.get(f"/api/work-items/{item}?purpose=safeguarding_children").status_code == 200
    with sessions() as db:
        from commonground.access.accounts import actor_of
        from commonground.access.models import User

        user = db.get_one(User, world.users["hub@la.example"])
        add_note(
            db,
            person_id=PERSON,
            organisation_id=user.organisation_id,
            by=actor_of(user),
            purpose=Purpose.SAFEGUARDING_CHILDREN,
            text="Spoke to the school; they will watch attendance.",
        )
        db.commit()
    client.cookies.clear()


def test_export_writes_every_section_and_is_audited(
    client: TestClient, sessions: sessionmaker[Session], world: World, tmp_path: Path, settings: object
) -> None:
    path = write_view(tmp_path)
    _read_before_export(client, sessions, world)
    out = tmp_path / "export"
    view = PersonView(path)
    try:
        with sessions() as db:
            files = export_subject_access(db, view, PERSON, out, SETUP)
            db.commit()
    finally:
        view.close()
    assert {
        "README.txt",
        "identity.json",
        "records/custody_records.csv",
        "indicators_and_flags.csv",
        "household.csv",
        "work_items.csv",
        "notes.csv",
        "referrals.csv",
        "referral_steps.csv",
        "notices.csv",
        "triage_logs.csv",
        "access_log.csv",
    } <= set(files)
    identity = json.loads((out / "identity.json").read_text())
    assert identity["as_linked"]["family_name"] == "Testperson"
    assert [r["record_id"] for r in identity["linked_records"]] == ["C-100"]
    records = _read_csv(out / "records" / "custody_records.csv")
    assert [r["record_id"] for r in records] == ["C-100"]  # only hers, with every column of the build
    assert records[0]["secret_column_only_in_build"] == "kept-in-the-build"
    indicators = _read_csv(out / "indicators_and_flags.csv")
    assert indicators[0]["title"] == "Domestic abuse in the household"
    assert indicators[0]["evidence_record"] == "custody_records:C-100"
    household = _read_csv(out / "household.csv")
    assert household == [{"household_id": f"H-{PERSON}", "from": "2020-01-01", "until": "", "other_members": "1"}]
    assert "P-OTHER" not in "".join(p.read_text() for p in out.rglob("*") if p.is_file())  # nobody else
    assert len(_read_csv(out / "work_items.csv")) == 1
    assert "watch attendance" in (out / "notes.csv").read_text()
    log = _read_csv(out / "access_log.csv")
    reads = [r for r in log if r["action"] == "view-work-items" and r["account"] == "hub@la.example"]
    assert reads and reads[0]["purpose"] == "safeguarding_children" and reads[0]["organisation"].startswith("North")
    assert any(r["action"] == "add-note" for r in log)
    readme = (out / "README.txt").read_text()
    assert "access_log.csv" in readme and BUILD_ID in readme
    with sessions() as db:
        exported = db.scalars(select(AuditEvent).where(AuditEvent.action == "export-subject-access")).one()
        assert (exported.person_id, exported.actor) == (PERSON, SETUP.label)


def test_an_inference_from_another_persons_record_is_left_out_and_counted(
    sessions: sessionmaker[Session], world: World, tmp_path: Path
) -> None:
    """A child's export carried a household adult's drug-treatment record "through a household member": another
    person's data, which a subject access answer must not disclose without their consent or a decision (#16)."""
    path = write_view(tmp_path)
    con = duckdb.connect(str(path))
    try:
        con.execute(
            "INSERT INTO indicators VALUES (?, 'ace.household_substance_misuse', 1, TIMESTAMP '2026-09-01 10:00', "
            "TIMESTAMP '2026-09-01 10:00', 1)",
            [PERSON],
        )
        con.execute(
            "INSERT INTO evidence VALUES (?, 'ace.household_substance_misuse', 1, 'indicator', 'treatment', "
            "'in_treatment', 'substance_treatment', 'S-9', 'P-OTHER', TIMESTAMP '2026-09-01 10:00')",
            [PERSON],
        )
    finally:
        con.close()
    out = tmp_path / "export"
    view = PersonView(path)
    try:
        with sessions() as db:
            export_subject_access(db, view, PERSON, out, SETUP)
            db.commit()
    finally:
        view.close()
    indicators = _read_csv(out / "indicators_and_flags.csv")
    assert [r["rule_id"] for r in indicators] == ["ace.domestic_abuse"]
    everything = "".join(p.read_text() for p in out.rglob("*") if p.is_file())
    assert "S-9" not in everything and "substance" not in everything and "P-OTHER" not in everything
    readme = " ".join((out / "README.txt").read_text().split())
    assert "1 more rest only on records about other people" in readme


def test_export_refuses_a_folder_in_use_and_works_without_a_build(
    sessions: sessionmaker[Session], world: World, tmp_path: Path
) -> None:
    used = tmp_path / "used"
    used.mkdir()
    (used / "x").write_text("x")
    from commonground.errors import UserError

    with sessions() as db, pytest.raises(UserError, match="not empty"):
        export_subject_access(db, None, PERSON, used, SETUP)
    with sessions() as db:
        files = export_subject_access(db, None, PERSON, tmp_path / "fresh", SETUP)
        db.commit()
    assert "work_items.csv" in files and "records/custody_records.csv" not in files
    assert json.loads((tmp_path / "fresh" / "identity.json").read_text())["as_linked"] is None
    assert "no linked build has been published" in (tmp_path / "fresh" / "README.txt").read_text()


def test_sections_are_one_explicit_table() -> None:
    """Listed once, in the order they are written: the build's, then the store's, the access log last."""
    assert isinstance(SECTIONS, tuple)
    assert [s.name for s in SECTIONS] == [
        "identity",
        "records",
        "indicators_and_flags",
        "household",
        "work_items",
        "notes",
        "referrals",
        "notices",
        "triage_logs",
        "access_log",
    ]


def test_sar_cli(
    sessions: sessionmaker[Session], world: World, tmp_path: Path, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from commonground.cli import app

    data_dir = tmp_path / "data"
    write_view(data_dir)
    monkeypatch.setenv("COMMONGROUND_DATABASE_URL", store_url)
    out = tmp_path / "sar"
    result = CliRunner().invoke(app, ["--data-dir", str(data_dir), "sar", PERSON, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "README.txt" in result.output
    assert _read_csv(out / "records" / "custody_records.csv")[0]["record_id"] == "C-100"
    bad = CliRunner().invoke(app, ["--data-dir", str(data_dir), "sar", "P 1; drop", "--out", str(tmp_path / "b")])
    assert bad.exit_code == 2
    with sessions() as db:
        exported = db.scalars(select(AuditEvent).where(AuditEvent.action == "export-subject-access")).one()
        assert exported.actor.startswith("cli:") and exported.person_id == PERSON


def test_dpo_page_exports_a_zip_with_the_reads_before_it(
    client: TestClient, sessions: sessionmaker[Session], world: World, settings: object
) -> None:
    write_view(client.app.state.settings.data_dir)  # type: ignore[attr-defined]
    _read_before_export(client, sessions, world)
    login_as(client, sessions, world.users["dpo@la.example"])
    form = client.get("/subject-access")
    assert form.status_code == 200 and "Subject access request" in form.text
    token = form_csrf(form.text)
    empty = client.post("/subject-access", data={"csrf_token": token, "person_id": "not an id!"})
    assert empty.status_code == 400 and "Enter the person id" in empty.text
    confirm = client.post("/subject-access", data={"csrf_token": token, "person_id": PERSON})
    assert confirm.status_code == 200 and "Download the export" in confirm.text
    with sessions() as db:
        assert db.scalars(select(AuditEvent).where(AuditEvent.action == "export-subject-access")).first() is None
    download = client.post(
        "/subject-access", data={"csrf_token": form_csrf(confirm.text), "person_id": PERSON, "confirm": "yes"}
    )
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/zip"
    assert f"subject-access-{PERSON}-" in download.headers["content-disposition"]
    archive = zipfile.ZipFile(io.BytesIO(download.content))
    names = archive.namelist()
    assert f"subject-access-{PERSON}/README.txt" in names
    log = list(csv.DictReader(io.StringIO(archive.read(f"subject-access-{PERSON}/access_log.csv").decode())))
    assert any(r["account"] == "hub@la.example" and r["action"] == "view-work-items" for r in log)
    with sessions() as db:
        exported = db.scalars(select(AuditEvent).where(AuditEvent.action == "export-subject-access")).one()
        assert exported.actor == "dpo@la.example" and exported.person_id == PERSON


@pytest.mark.parametrize("email", ["admin@la.example", "hub@la.example", "analyst@pht.example"])
def test_only_the_dpo_exports(client: TestClient, sessions: sessionmaker[Session], world: World, email: str) -> None:
    csrf = login_as(client, sessions, world.users[email])
    assert client.get("/subject-access").status_code == 403
    refused = client.post("/subject-access", data={"csrf_token": csrf, "person_id": PERSON, "confirm": "yes"})
    assert refused.status_code == 403
    with sessions() as db:
        assert (
            db.scalars(
                select(AuditEvent).where(AuditEvent.action == "export-subject-access", AuditEvent.outcome == "allowed")
            ).first()
            is None
        )


def test_the_export_operation_is_the_dpos_and_audited(
    sessions: sessionmaker[Session], world: World, tmp_path: Path
) -> None:
    """export_for() and summary() called with a Context: the DPO exports (audited, committed); anyone else is
    refused, and the refusal audited."""
    from service_support import principal_of

    from commonground.access.context import Context
    from commonground.access.models import User
    from commonground.access.resolver import Decision, RequestFacts, StoreFacts
    from commonground.cases.subject_access import export_for, summary
    from commonground.errors import Refused
    from commonground.store.db import utcnow

    def context_of(db: Session, email: str) -> Context:
        principal = principal_of(db.get_one(User, world.users[email]))
        decision = Decision(allowed=True, action="view-self", reason="a test")
        return Context(db=db, principal=principal, decision=decision, now=utcnow(), facts=RequestFacts(StoreFacts(db)))

    with sessions() as db:
        dpo = context_of(db, "dpo@la.example")
        held = summary(dpo, view=None, person_id=PERSON)
        assert (held.work_items, held.in_build, held.build_published) == (1, False, False)
        assert held.sections == [s.name for s in SECTIONS]
        files = export_for(dpo, view=None, person_id=PERSON, out_dir=tmp_path / "out")
        assert "access_log.csv" in files
        with pytest.raises(Refused):
            export_for(context_of(db, "hub@la.example"), view=None, person_id=PERSON, out_dir=tmp_path / "refused")
    assert not (tmp_path / "refused").exists()
    with sessions() as db:
        events = db.scalars(select(AuditEvent).where(AuditEvent.action == "export-subject-access")).all()
        assert sorted((e.outcome, e.person_id) for e in events) == [("allowed", PERSON), ("denied", PERSON)]
