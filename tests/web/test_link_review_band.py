"""The review band on the hub (#15): literal pairs the build wrote as review candidates become link-review items
(offered once, audited); a hub practitioner sees a pair only when their agreements open both records' feeds, sees
the two records side by side with the model's reasons in words, and decides; the decisions are exported for the
next build (accepted: kept together; rejected: kept apart), and a decided pair is not offered again."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from notice_support import write_school_view
from person_view_fixture import BUILD_ID
from service_support import form_csrf, login_as
from service_world import build_world
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from commonground.access.agreements import About, AgreementSpec, create_agreement
from commonground.access.audit import Actor
from commonground.access.models import AuditEvent
from commonground.access.purposes import Purpose
from commonground.cases.link_reviews import LinkReview, LinkReviewSource, LinkReviewStatus, offer_band_pairs
from commonground.cli import app as cli
from commonground.linkage.constraints import CONSTRAINTS_FILE

HUB = "hub@la.example"
SYNC = Actor(label="hub:sync")
I1, I4, I5 = (f"police_incident_persons:{r}" for r in ("I1", "I4", "I5"))
T3 = "street_triage:T3"


def _band_build(data_dir: Path) -> Path:
    """The test view's build folder gains a build.duckdb with the records' people and three review candidates."""
    write_school_view(data_dir)
    folder = data_dir / "analytical" / "builds" / BUILD_ID
    con = duckdb.connect(str(folder / "build.duckdb"))
    try:
        con.execute(
            "CREATE TABLE person_records AS SELECT * FROM (VALUES "
            "('police_incident_persons', 'I1', 'P-LA-1', 1.0), ('police_incident_persons', 'I4', 'P-SCHA-4', 1.0), "
            "('police_incident_persons', 'I5', 'P-SCHB-5', 1.0), ('street_triage', 'T3', 'P-NHS-3', 1.0)) "
            "AS t(feed, record_id, person_id, match_probability)"
        )
        con.execute(
            "CREATE TABLE review_candidates AS SELECT * FROM (VALUES "
            f"('{I1}', '{I4}', 12.5, 0.99983, 4, 8.1, 0.0, 1, -3.2), "
            f"('{T3}', '{I1}', 11.0, 0.99951, 3, 6.0, 0.4, 4, 7.5), "
            f"('{I1}', '{I5}', 10.2, 0.99915, 2, 5.0, 0.0, 4, 7.5)) "
            "AS t(unique_id_l, unique_id_r, match_weight, match_probability, gamma_given_name, mw_given_name, "
            "mw_tf_adj_given_name, gamma_date_of_birth, mw_date_of_birth)"
        )
    finally:
        con.close()
    return folder


def _offer(sessions: sessionmaker[Session], folder: Path) -> tuple[int, int]:
    with sessions() as db:
        offered = offer_band_pairs(db, build_path=folder, by=SYNC)
        db.commit()
    return offered.offered, offered.already_reviewed


def _review_id(sessions: sessionmaker[Session], records: list[str]) -> int:
    with sessions() as db:
        return next(r.id for r in db.scalars(select(LinkReview)) if r.records == sorted(records))


def test_band_pairs_become_reviews_decided_once_and_exported(
    app: FastAPI,
    client: TestClient,
    sessions: sessionmaker[Session],
    store_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = build_world(sessions, with_agreements=True)
    with sessions() as db:  # the hub's police agreement covers adults too (a band pair of police records)
        create_agreement(
            db,
            spec=AgreementSpec(
                reference="DSA-LA-ADULTS",
                title="Police records for adults at risk",
                organisation="LA",
                feeds=("police_incident_persons",),
                about=(About.EVERYONE,),
                purposes=(Purpose.SAFEGUARDING_ADULTS,),
                lawful_basis="UK GDPR 6(1)(e); DPA 2018 Sch 1 para 18",
                valid_from=dt.date(2020, 1, 1),
            ),
            by=SYNC,
        )
        db.commit()
    data_dir = app.state.settings.data_dir
    folder = _band_build(data_dir)

    assert _offer(sessions, folder) == (3, 0)
    with sessions() as db:
        reviews = list(db.scalars(select(LinkReview)))
        assert {r.source for r in reviews} == {LinkReviewSource.BAND}
        assert all(r.status is LinkReviewStatus.OPEN and r.raised_by_user_id is None for r in reviews)
        offered = list(db.scalars(select(AuditEvent).where(AuditEvent.action == "offer-link-review")))
        assert len(offered) == 3
    seen, hidden, accepted = (
        _review_id(sessions, [I1, I4]),
        _review_id(sessions, [I1, T3]),
        _review_id(sessions, [I1, I5]),
    )

    login_as(client, sessions, world.users[HUB])
    queue = client.get("/link-reviews")
    assert queue.status_code == 200
    assert f"/link-reviews/{seen}" in queue.text and f"/link-reviews/{accepted}" in queue.text
    assert f"/link-reviews/{hidden}" not in queue.text  # street triage: the hub's agreements do not open it
    assert "1 more review concerns records your agreements do not open" in queue.text
    assert "The linkage model" in queue.text
    assert client.get(f"/link-reviews/{hidden}").status_code == 404

    page = client.get(f"/link-reviews/{seen}")
    assert page.status_code == 200
    assert "Zedla" in page.text and "Quilliam" in page.text  # both records side by side
    assert "Given name:" in page.text and "Date of birth:" in page.text  # the model's reasons in words
    assert "+8.1" in page.text and "-3.2" in page.text
    csrf = form_csrf(page.text)
    rejected = client.post(
        f"/link-reviews/{seen}",
        data={"csrf_token": csrf, "decision": "not_same", "note": "Different girls: the school confirmed."},
        follow_redirects=False,
    )
    assert rejected.status_code == 303
    same = client.post(
        f"/link-reviews/{accepted}",
        data={"csrf_token": csrf, "decision": "same", "note": "The same girl: the family confirmed the birthday."},
        follow_redirects=False,
    )
    assert same.status_code == 303
    with sessions() as db:
        decisions = [
            e.detail["decision"]
            for e in db.scalars(select(AuditEvent).where(AuditEvent.action == "review-links"))
            if "decision" in e.detail
        ]
    assert sorted(decisions) == ["not_same_person", "same_person"]

    monkeypatch.setenv("COMMONGROUND_DATABASE_URL", store_url)
    result = CliRunner().invoke(cli, ["--data-dir", str(data_dir), "hub", "export-link-reviews"])
    assert result.exit_code == 0, result.output
    written = json.loads((data_dir / CONSTRAINTS_FILE).read_text())
    assert written["pairs_apart"] == [{"review": seen, "records": sorted([I1, I4])}]
    assert written["kept_together"] == [{"review": accepted, "records": [I1], "with": [I5]}]
    assert written["held_apart"] == []  # an open band pair holds nothing apart: the model did not link it

    assert _offer(sessions, folder) == (0, 3)  # decided or open, a pair is offered once
