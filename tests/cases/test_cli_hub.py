"""The hub's commands as a person uses them: upgrade, add an organisation and a person, verify the audit log."""

from __future__ import annotations

from pathlib import Path

import pytest
from service_support import as_superuser
from sqlalchemy import Engine
from typer.testing import CliRunner

from commonground.cli import app
from commonground.store.migrate import head_revision

runner = CliRunner()


def _run(data_dir: Path, *args: str, stdin: str | None = None) -> tuple[int, str]:
    result = runner.invoke(app, ["--data-dir", str(data_dir), *args], input=stdin)
    return result.exit_code, result.output


def test_set_up_a_store_and_verify_its_audit_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, store_url: str, engine: Engine
) -> None:
    monkeypatch.setenv("COMMONGROUND_DATABASE_URL", store_url)
    code, output = _run(tmp_path, "db", "upgrade")
    assert code == 0 and f"revision {head_revision()}" in output
    assert (
        _run(tmp_path, "organisations", "add", "LA", "Northshire Council", "--type", "local_authority_childrens")[0]
        == 0
    )
    code, output = _run(tmp_path, "organisations", "add", "SCH", "Hill School", "--type", "school")
    assert code == 2 and "needs its URN" in output
    code, output = _run(
        tmp_path,
        "users",
        "add",
        "dpo@la.example",
        "--name",
        "D P O",
        "--organisation",
        "LA",
        "--role",
        "data_protection_officer",
        "--password-stdin",
        stdin="a long enough password\n",
    )
    assert code == 0, output
    agreement = tmp_path / "dsa.yaml"
    agreement.write_text(
        "reference: DSA-LA\ntitle: MASH sharing\norganisation: LA\nfeeds: [police_incident_persons]\n"
        "about: [everyone]\npurposes: [safeguarding_children]\nlawful_basis: UK GDPR 6(1)(e); DPA 2018 Sch 1\n"
        "valid_from: 2024-04-01\n",
        encoding="utf-8",
    )
    assert _run(tmp_path, "agreements", "add", str(agreement))[0] == 0
    code, output = _run(tmp_path, "audit", "verify")
    assert code == 0 and "whole: 3 entries" in output
    as_superuser(engine, "UPDATE audit_events SET actor = 'someone else' WHERE seq = 2")  # behind our back
    code, output = _run(tmp_path, "audit", "verify")
    assert code == 1 and "entry 2 was edited" in output


def test_a_missing_store_is_a_short_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COMMONGROUND_DATABASE_URL", raising=False)
    assert _run(tmp_path, "users", "list")[0] == 2
    code, output = _run(tmp_path, "serve", "--port", "8765")
    assert code == 2 and "commonground db upgrade" in output
