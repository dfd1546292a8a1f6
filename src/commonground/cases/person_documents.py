"""One pre-assembled JSON document per person: what ``GET /api/people/{id}`` answers, read with one lookup.

``commonground hub sync`` writes, beside ``person_view.duckdb``, ``person_documents.sqlite``: one row per person,
``(person_id, doc)``, keyed on the person id. ``doc`` holds everything the API shows about the person, assembled
from the person view's tables in one DuckDB statement, *before* any agreement is applied:

======================  ==================================================================================
``identity``            the person as linked (the API's ``IdentityOut``)
``feeds``               every feed that holds a record about the person, sorted
``records``             each linked record, ordered by feed and record id; each item names its ``feed``
``events``              each record as a dated event, newest first; each item names its ``feed``
``indicators`` ``flags``  the rules output, each with its evidence records, newest first; each names its ``feed``
``household``           the person's periods at an address, with the others who lived there then (each with
                        their date of birth, their own period there and the feeds holding their records, so
                        that who may be named is decided without another lookup)
======================  ==================================================================================

compressed with zlib (a quarter of the size; 10 microseconds to decompress one).

Every item that comes from a feed carries that feed (and evidence through another person names them), so
:func:`shown_to` keeps exactly the items the resolver opened for the caller's purpose with a list comprehension per
section, and nothing else is parsed or built per request. The documents are a cache of the person view, made from
the same tables; a test holds them equal, person by person, to :func:`assemble_document`, which builds the same
document with the person view's detailed queries (and is what the service falls back to for a view laid out without
documents).

Why SQLite and not another DuckDB table: a point lookup costs DuckDB about 0.7 ms of CPU (planning a statement
over a column store), SQLite about 0.05 ms (a B-tree lookup on the primary key), and this lookup is on the path
of every request. The file is written under a temporary name, synced and renamed, and opened read-only and
``immutable``: a build's documents never change after they are written (a new sync writes a new file).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import sqlite3
import threading
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from commonground.cases.inferences import (
    FURTHER_INFORMATION,
    LIVING_TOGETHER,
    Filtered,
    Openings,
    described,
    filter_results,
)

if TYPE_CHECKING:
    from commonground.cases.person_view import PersonView

DOCUMENTS_FILE = "person_documents.sqlite"
BATCH = 10_000

_ISO = (
    "CREATE OR REPLACE TEMP MACRO _cg_iso(t) AS CASE WHEN t IS NULL THEN NULL "
    "WHEN date_trunc('second', t) = t THEN strftime(t, '%Y-%m-%dT%H:%M:%S') "
    "ELSE strftime(t, '%Y-%m-%dT%H:%M:%S.%f') END"
)
"""A timestamp as the API writes it (ISO 8601, microseconds only when there are some), as pydantic would."""

_LOW, _HIGH = "DATE '0001-01-01'", "DATE '9999-12-31'"

DOCUMENTS_SQL = f"""
WITH recs AS (
    SELECT person_id,
           list_sort(list_distinct(list(feed))) AS feeds,
           list(struct_pack(
               feed := feed, record_id := record_id, match_probability := CAST(match_probability AS DOUBLE),
               identity := struct_pack(
                   given_name := given_name, family_name := family_name, date_of_birth := date_of_birth,
                   sex := sex, postcode := postcode, address := address, nhs_number := nhs_number))
           ORDER BY feed, record_id) AS records
    FROM records GROUP BY person_id
), evs AS (
    SELECT person_id,
           list(struct_pack(feed := feed, record_id := record_id, at := _cg_iso(moment), data := json(data))
                ORDER BY moment DESC, feed, record_id) AS events
    FROM events GROUP BY person_id
), ev AS (
    SELECT e.person_id, e.rule_id,
           list(struct_pack(
               feed := e.feed, record_id := e.record_id, what := COALESCE(l.label, CAST(e.item AS VARCHAR)),
               evidence_at := _cg_iso(e.evidence_at), via_person_id := e.via_person_id)
           ORDER BY e.evidence_at DESC, e.feed, e.record_id, e.item, e.via_person_id) AS evidence
    FROM evidence e LEFT JOIN rule_evidence_items l ON l.rule_id = e.rule_id AND l.item = e.item
    GROUP BY e.person_id, e.rule_id
), results AS (
    SELECT x.person_id, x.kind,
           list(struct_pack(
               rule_id := x.rule_id, rule_version := CAST(x.rule_version AS BIGINT), kind := x.kind,
               title := COALESCE(NULLIF(r.title, ''), x.rule_id), description := COALESCE(r.description, ''),
               legal_basis := COALESCE(r.legal_basis, ''), first_evidence := _cg_iso(x.first_evidence),
               latest_evidence := _cg_iso(x.latest_evidence), route_to := x.route_to, due_by := _cg_iso(x.due_by),
               evidence := COALESCE(ev.evidence, []))
           ORDER BY x.rule_id, x.rule_version) AS results
    FROM (
        SELECT person_id, rule_id, rule_version, 'indicator' AS kind, first_evidence, latest_evidence,
               NULL::VARCHAR AS route_to, NULL::TIMESTAMP AS due_by FROM indicators
        UNION ALL
        SELECT person_id, rule_id, rule_version, 'flag', first_evidence, latest_evidence, route_to, due_by
        FROM flags
    ) x
    LEFT JOIN rules r ON r.rule_id = x.rule_id
    LEFT JOIN ev ON ev.person_id = x.person_id AND ev.rule_id = x.rule_id
    GROUP BY x.person_id, x.kind
), periods AS (
    SELECT h.rowid AS period, any_value(h.person_id) AS person_id, any_value(h.household_id) AS household_id,
           any_value(h.start_date) AS start_date, any_value(h.end_date) AS end_date,
           list(struct_pack(person_id := m.person_id, date_of_birth := m.date_of_birth,
                            start_date := m.start_date, end_date := m.end_date,
                            feeds := COALESCE(mr.feeds, []))
                ORDER BY m.start_date DESC, m.date_of_birth, m.person_id, m.end_date)
               FILTER (WHERE m.person_id IS NOT NULL) AS members
    FROM household_periods h
    LEFT JOIN household_periods m
      ON m.household_id = h.household_id AND m.person_id <> h.person_id
     AND COALESCE(m.start_date, {_LOW}) <= COALESCE(h.end_date, {_HIGH})
     AND COALESCE(h.start_date, {_LOW}) <= COALESCE(m.end_date, {_HIGH})
    LEFT JOIN recs mr ON mr.person_id = m.person_id
    WHERE h.household_id IS NOT NULL
    GROUP BY h.rowid
), hh AS (
    SELECT person_id,
           list(struct_pack(household_id := household_id, start_date := start_date, end_date := end_date,
                            members := COALESCE(members, []))
                ORDER BY start_date DESC, household_id, end_date) AS household
    FROM periods GROUP BY person_id
)
SELECT i.person_id, to_json(struct_pack(
    identity := struct_pack(
        person_id := i.person_id, given_name := i.given_name, family_name := i.family_name,
        date_of_birth := i.date_of_birth, sex := i.sex, nhs_number := CAST(i.nhs_number AS VARCHAR),
        record_count := i.record_count, first_seen := i.first_seen, last_seen := i.last_seen),
    feeds := COALESCE(recs.feeds, []),
    records := COALESCE(recs.records, []),
    events := COALESCE(evs.events, []),
    indicators := COALESCE(ind.results, []),
    flags := COALESCE(fl.results, []),
    household := COALESCE(hh.household, []))) AS doc
FROM identity i
LEFT JOIN recs USING (person_id)
LEFT JOIN evs USING (person_id)
LEFT JOIN results ind ON ind.person_id = i.person_id AND ind.kind = 'indicator'
LEFT JOIN results fl ON fl.person_id = i.person_id AND fl.kind = 'flag'
LEFT JOIN hh USING (person_id)
ORDER BY i.person_id
"""


def write_person_documents(con: duckdb.DuckDBPyConnection, target: Path) -> int:
    """Assemble every person's document from the person view's tables open in ``con`` and write them to
    ``target`` (under a temporary name, synced, then renamed); returns how many were written."""
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    con.execute(_ISO)
    out = sqlite3.connect(partial)
    written = 0
    try:
        out.execute("PRAGMA journal_mode=OFF")
        out.execute("PRAGMA synchronous=OFF")
        out.execute("CREATE TABLE documents (person_id TEXT PRIMARY KEY, doc BLOB NOT NULL)")
        cursor = con.execute(DOCUMENTS_SQL)
        while rows := cursor.fetchmany(BATCH):
            out.executemany(
                "INSERT INTO documents VALUES (?, ?)", [(pid, zlib.compress(doc.encode())) for pid, doc in rows]
            )
            written += len(rows)
        out.commit()
    finally:
        out.close()
    with partial.open("rb") as written_file:
        os.fsync(written_file.fileno())
    partial.replace(target)
    return written


class PersonDocuments:
    """Read-only access to a build's person documents, safe to share between threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._con = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True, check_same_thread=False)
        self._lock = threading.Lock()

    def close(self) -> None:
        self._con.close()

    def get(self, person_id: str) -> str | None:
        """The person's document as JSON text, or None when the build does not know the person."""
        with self._lock:
            row = self._con.execute("SELECT doc FROM documents WHERE person_id = ?", (person_id,)).fetchone()
        return None if row is None else zlib.decompress(row[0]).decode()


def shown_to(doc: dict[str, Any], *, openings: Openings, purpose: str, today: dt.date) -> dict[str, Any]:
    """The API's answer from a person's document, as :mod:`commonground.cases.inferences` rules: records and events
    of the feeds opened for the person; each indicator and flag with the evidence the reader may open (one with
    none is not named, only counted); household members named only where the reader may open a record of
    theirs."""
    held = frozenset(doc["feeds"])
    feeds = held if openings.everything else openings.feeds | {feed for feed, _ in openings.shared}
    indicators = _results(doc["indicators"], openings)
    flags = _results(doc["flags"], openings)
    withheld = indicators.withheld + flags.withheld
    return {
        "identity": doc["identity"],
        "purpose": purpose,
        "break_glass": openings.everything,
        "feeds_shown": sorted(held & feeds),
        "feeds_withheld": len(held - feeds),
        "records": [r for r in doc["records"] if openings.shows(r["feed"], r["record_id"])],
        "events": [
            {**e, "data": openings.data(e["feed"], e["data"])}
            for e in doc["events"]
            if openings.shows(e["feed"], e["record_id"])
        ],
        "shared_only": openings.only_shared,
        "indicators": indicators.shown,
        "flags": flags.shown,
        "partial": sorted(indicators.partial | flags.partial),
        "withheld": withheld,
        "further_information": FURTHER_INFORMATION if withheld else None,
        "household": [
            {**period, "members": [_member(m, openings, today) for m in period["members"]]}
            for period in doc["household"]
        ],
        "household_note": LIVING_TOGETHER if doc["household"] else None,
    }


def others_in(doc: dict[str, Any]) -> set[str]:
    """Everyone else the document refers to: household members and the people evidence came through."""
    found = {m["person_id"] for period in doc["household"] for m in period["members"]}
    for result in (*doc["indicators"], *doc["flags"]):
        found |= {e["via_person_id"] for e in result["evidence"] if e["via_person_id"]}
    return found


def _results(results: Iterable[dict[str, Any]], openings: Openings) -> Filtered[dict[str, Any]]:
    return filter_results(
        results,
        openings,
        rule_of=lambda r: str(r["rule_id"]),
        evidence_of=lambda r: list(r["evidence"]),
        feed_of=lambda e: str(e["feed"]),
        about_of=lambda e: e["via_person_id"],
        with_evidence=lambda r, kept: {**r, "evidence": kept},
        record_of=lambda e: e["record_id"],
    )


def _member(member: dict[str, Any], openings: Openings, today: dt.date) -> dict[str, Any]:
    born = dt.date.fromisoformat(member["date_of_birth"]) if member["date_of_birth"] else None
    if openings.names(member["person_id"], member["feeds"]):
        return {
            "person_id": member["person_id"],
            "described_as": described(born, today).removeprefix("another "),
            "year_of_birth": born.year if born else None,
            "start_date": member["start_date"],
            "end_date": member["end_date"],
        }
    return {
        "person_id": None,
        "described_as": described(born, today),
        "year_of_birth": None,
        "start_date": None,
        "end_date": None,
    }


def assemble_document(view: PersonView, person_id: str) -> dict[str, Any] | None:
    """The person's document built with the person view's detailed queries: what :data:`DOCUMENTS_SQL` writes
    for the person (a test holds the two equal), and what the service reads when a view has no documents."""
    identity = view.identity(person_id)
    if identity is None:
        return None
    held = view.feeds_of(person_id)
    results = view.rule_results(person_id, feeds=None)
    doc = {
        "identity": {k: v for k, v in dataclasses.asdict(identity).items() if k != "feeds"},
        "feeds": sorted(held),
        "records": [
            {"feed": r.feed, "record_id": r.record_id, "match_probability": r.match_probability, "identity": r.identity}
            for r in view.records(person_id, feeds=held)
        ],
        "events": [
            {"feed": e.feed, "record_id": e.record_id, "at": e.at, "data": e.data}
            for e in view.events(person_id, feeds=held)
        ],
        "indicators": [_result(r) for r in results if r.kind == "indicator"],
        "flags": [_result(r) for r in results if r.kind == "flag"],
        "household": [
            {
                "household_id": p.household_id,
                "start_date": p.start_date,
                "end_date": p.end_date,
                "members": [
                    {
                        "person_id": m.person_id,
                        "date_of_birth": m.date_of_birth,
                        "start_date": m.start_date,
                        "end_date": m.end_date,
                        "feeds": sorted(view.feeds_of(m.person_id)),
                    }
                    for m in p.members
                ],
            }
            for p in view.household(person_id)
        ],
    }
    normalised: dict[str, Any] = json.loads(json.dumps(doc, default=_iso))
    return normalised


def _result(r: Any) -> dict[str, Any]:
    return {
        "rule_id": r.rule_id,
        "rule_version": r.rule_version,
        "kind": r.kind,
        "title": r.title,
        "description": r.description,
        "legal_basis": r.legal_basis,
        "first_evidence": r.first_evidence,
        "latest_evidence": r.latest_evidence,
        "route_to": r.route_to,
        "due_by": r.due_by,
        "evidence": [
            {
                "feed": e.feed,
                "record_id": e.record_id,
                "what": str(r.labels.get(e.item, e.item)),
                "evidence_at": e.evidence_at,
                "via_person_id": e.via_person_id,
            }
            for e in r.evidence
        ],
    }


def _iso(value: object) -> str:
    if isinstance(value, dt.date):  # a datetime is a date too
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} in a person document")
