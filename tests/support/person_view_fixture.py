"""A small person view for the hub tests: the tables ``commonground hub sync`` lays out beside a build, written
directly with a few synthetic people, and published as the current build of a data directory."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import duckdb

from commonground.cases.person_documents import DOCUMENTS_FILE, write_person_documents
from commonground.cases.person_view import VIEW_FILE, _empty_rules, empty_incidents, make_current, new_view_folder

BUILD_ID = "20261101T070000Z-testview"


@dataclass(frozen=True)
class ViewPerson:
    person_id: str
    given_name: str
    family_name: str
    date_of_birth: dt.date
    feed: str
    record_id: str


def write_test_view(data_dir: Path, people: list[ViewPerson]) -> Path:
    builds = data_dir / "analytical" / "builds"
    build = builds / BUILD_ID
    build.mkdir(parents=True, exist_ok=True)
    folder = new_view_folder(build)  # as hub sync does: a new view each time, then made the current one
    path = folder / VIEW_FILE
    con = duckdb.connect(str(path))
    try:
        con.execute(
            "CREATE TABLE identity (person_id VARCHAR, given_name VARCHAR, family_name VARCHAR, date_of_birth DATE, "
            "sex VARCHAR, nhs_number VARCHAR, record_count BIGINT, feeds VARCHAR[], first_seen DATE, last_seen DATE)"
        )
        con.execute(
            "CREATE TABLE records (person_id VARCHAR, feed VARCHAR, record_id VARCHAR, match_probability DOUBLE, "
            "given_name VARCHAR, family_name VARCHAR, date_of_birth VARCHAR, sex VARCHAR, postcode VARCHAR, "
            "address VARCHAR, nhs_number VARCHAR)"
        )
        con.execute(
            "CREATE TABLE events (person_id VARCHAR, feed VARCHAR, record_id VARCHAR, moment TIMESTAMP, data VARCHAR)"
        )
        con.execute(
            "CREATE TABLE household_periods (household_id VARCHAR, person_id VARCHAR, start_date DATE, end_date DATE, "
            "address_key VARCHAR, date_of_birth DATE)"
        )
        con.execute(
            "CREATE TABLE links (feed_l VARCHAR, record_id_l VARCHAR, feed_r VARCHAR, record_id_r VARCHAR, "
            "person_id VARCHAR, match_weight DOUBLE, match_probability DOUBLE, person VARCHAR)"
        )
        _empty_rules(con)
        empty_incidents(con)
        for p in people:
            con.execute(
                "INSERT INTO identity VALUES (?, ?, ?, ?, 'F', NULL, 1, [?], ?, ?)",
                [
                    p.person_id,
                    p.given_name,
                    p.family_name,
                    p.date_of_birth,
                    p.feed,
                    dt.date(2026, 1, 1),
                    dt.date(2026, 10, 1),
                ],
            )
            con.execute(
                "INSERT INTO records VALUES (?, ?, ?, 1.0, ?, ?, ?, 'F', 'QX1 1AA', '1 Test Street', NULL)",
                [p.person_id, p.feed, p.record_id, p.given_name, p.family_name, p.date_of_birth.isoformat()],
            )
            con.execute(
                "INSERT INTO events VALUES (?, ?, ?, ?, ?)",
                [p.person_id, p.feed, p.record_id, dt.datetime(2026, 10, 1, 21, 30), json.dumps({"role": "victim"})],
            )
            con.execute(
                "INSERT INTO household_periods VALUES (?, ?, ?, NULL, 'K', ?)",
                [f"H-{p.person_id}", p.person_id, dt.date(2020, 1, 1), p.date_of_birth],
            )
        write_person_documents(con, folder / DOCUMENTS_FILE)  # as hub sync does: the API reads these
    finally:
        con.close()
    make_current(folder)
    (builds / "CURRENT").write_text(BUILD_ID, encoding="utf-8")
    return path
