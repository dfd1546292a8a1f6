"""The person view: what the pages and the API read about a person, laid out for reading one person at a time.

A build (:mod:`commonground.linkage`) and its rules output are laid out for whole-population work: a person's
records are spread over ten feed tables. ``commonground hub sync`` writes, in a new folder of the build's
``views/`` each time, one more DuckDB file, ``person_view.duckdb``, with one table per thing a person page shows,
each indexed on ``person_id``:

========================  ================================================================================
``identity``              the person as linked (display identity, record count, feeds, first and last seen)
``records``               each linked record: feed, record id, match probability and its identity fields
``events``                each record as a dated event: feed, record id, moment, and its own fields as JSON
``household_periods``     the person's periods at an address (``household_id``), with the members by household
``links``                 the accepted links that joined the person's records, with each comparison's weight
``indicators`` ``flags``  the rules output, and ``evidence`` behind each; ``rules`` describes every rule
========================  ================================================================================

and, in ``person_documents.sqlite``, one pre-assembled JSON document per person for the API
(:mod:`commonground.cases.person_documents`).

Each sync writes a new folder (``views/<stamp>/``) and then points ``views/CURRENT`` at it, so a reader sees the
old view or the new one, never half of one, and a running service can open the new view while requests finish on
the old (DuckDB allows one open instance of a file path per process, so a view is never replaced in place). Older
folders are removed, keeping the one before the current. The hub opens a view read-only and gives each request its
own cursor (DuckDB connections are thread-safe through cursors).
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from commonground.cases.person_documents import (
    DOCUMENTS_FILE,
    PersonDocuments,
    assemble_document,
    write_person_documents,
)
from commonground.contracts import FEEDS

VIEW_FILE = "person_view.duckdb"
VIEWS_DIR = "views"
CURRENT_VIEW = "CURRENT"
KEEP_VIEWS = 2
"""The current view's folder and the one before it (which requests already reading it may still hold)."""


def view_path(build_dir: Path) -> Path | None:
    """The current person view of the build in ``build_dir``, or None before ``hub sync`` has laid one out."""
    pointer = build_dir / VIEWS_DIR / CURRENT_VIEW
    try:
        stamp = pointer.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    path = build_dir / VIEWS_DIR / stamp / VIEW_FILE
    return path if path.exists() else None


def new_view_folder(build_dir: Path) -> Path:
    """A new, empty folder for a view of the build in ``build_dir``."""
    views = build_dir / VIEWS_DIR
    views.mkdir(exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    folder, n = views / stamp, 1
    while folder.exists():
        n += 1
        folder = views / f"{stamp}-{n}"
    folder.mkdir()
    return folder


def make_current(folder: Path) -> None:
    """Point the build's ``views/CURRENT`` at ``folder`` (a :func:`new_view_folder`) and remove older views."""
    views = folder.parent
    partial = views / f".{CURRENT_VIEW}.partial"
    partial.write_text(folder.name, encoding="utf-8")
    partial.replace(views / CURRENT_VIEW)
    older = sorted((d for d in views.iterdir() if d.is_dir() and d != folder), key=lambda d: d.name)
    for stale in older[: max(0, len(older) - (KEEP_VIEWS - 1))]:
        shutil.rmtree(stale, ignore_errors=True)


EVENT_MOMENT: dict[str, str] = {
    "police_incident_persons": "occurred_at",
    "custody_records": "arrested_at",
    "missing_episodes": "reported_at",
    "street_triage": "contacted_at",
    "ed_attendances": "arrived_at",
    "mental_health_contacts": "contact_date",
    "substance_treatment": "start_date",
    "childrens_social_care": "referral_date",
    "custodial_sentences": "received_at",
    "school_roll": "enrolled_on",
}
"""The column that dates each person-level feed's record on a timeline."""

IDENTITY_COLUMNS = ("given_name", "family_name", "date_of_birth", "sex", "postcode", "address", "nhs_number")


def person_feeds() -> list[str]:
    return [name for name, contract in FEEDS.items() if contract.person_level]


def _detail_columns(feed: str) -> list[str]:
    return [c.name for c in FEEDS[feed].columns if not c.identity and c.name != "record_id"]


def _event_select(feed: str, tables: set[str]) -> str | None:
    table = f"b.feed_{feed}"
    if f"feed_{feed}" not in tables:
        return None
    details = _detail_columns(feed)
    if feed == "police_incident_persons":
        if "feed_police_incidents" not in tables:
            return None
        incident = [c for c in _detail_columns("police_incidents") if c not in {"incident_id", "address", "uprn"}]
        struct = ", ".join(["role := f.role"] + [f"{c} := i.{c}" for c in incident])
        return (
            f"SELECT pr.person_id, '{feed}' AS feed, f.record_id, CAST(i.occurred_at AS TIMESTAMP) AS moment, "
            f"to_json(struct_pack({struct}, incident_id := f.incident_id)) AS data "
            f"FROM {table} f JOIN b.person_records pr ON pr.feed = '{feed}' AND pr.record_id = f.record_id "
            f"LEFT JOIN b.feed_police_incidents i ON i.incident_id = f.incident_id"
        )
    struct = ", ".join(f"{c} := f.{c}" for c in details)
    moment = EVENT_MOMENT[feed]
    return (
        f"SELECT pr.person_id, '{feed}' AS feed, f.record_id, CAST(f.{moment} AS TIMESTAMP) AS moment, "
        f"to_json(struct_pack({struct})) AS data "
        f"FROM {table} f JOIN b.person_records pr ON pr.feed = '{feed}' AND pr.record_id = f.record_id"
    )


def _record_select(feed: str, tables: set[str]) -> str | None:
    if f"feed_{feed}" not in tables:
        return None
    cols = ", ".join(f"CAST(f.{c} AS VARCHAR) AS {c}" for c in IDENTITY_COLUMNS)
    return (
        f"SELECT pr.person_id, pr.feed, pr.record_id, pr.match_probability, {cols} "
        f"FROM b.feed_{feed} f JOIN b.person_records pr ON pr.feed = '{feed}' AND pr.record_id = f.record_id"
    )


def write_person_view(build_dir: Path) -> Path:
    """Lay out ``build_dir``'s build and rules output for person pages, in a new folder of ``views/`` that then
    becomes the current one; returns the file written."""
    folder = new_view_folder(build_dir)
    target = folder / VIEW_FILE
    con = duckdb.connect(str(target))
    try:
        con.execute(f"ATTACH '{build_dir / 'build.duckdb'}' AS b (READ_ONLY)")
        tables = {
            row[0] for row in con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name='b'").fetchall()
        }
        feeds = person_feeds()
        con.execute("CREATE TABLE identity AS SELECT * FROM b.persons ORDER BY person_id")
        records = [s for s in (_record_select(f, tables) for f in feeds) if s]
        con.execute(f"CREATE TABLE records AS {' UNION ALL '.join(records)} ORDER BY person_id")
        events = [s for s in (_event_select(f, tables) for f in feeds) if s]
        con.execute(f"CREATE TABLE events AS {' UNION ALL '.join(events)} ORDER BY person_id, moment")
        _write_incidents(con, tables)
        con.execute(
            "CREATE TABLE household_periods AS SELECT h.*, p.date_of_birth FROM b.households h "
            "JOIN b.persons p USING (person_id) ORDER BY household_id, start_date"
        )
        con.execute(
            "CREATE TABLE links AS SELECT l.*, pl.person_id AS person FROM b.links l "
            "JOIN b.person_records pl ON pl.feed = l.feed_l AND pl.record_id = l.record_id_l ORDER BY person"
        )
        rules_file = build_dir / "rules.duckdb"
        if rules_file.exists():
            con.execute(f"ATTACH '{rules_file}' AS r (READ_ONLY)")
            for table in ("indicators", "flags", "evidence"):
                con.execute(f"CREATE TABLE {table} AS SELECT * FROM r.{table} ORDER BY person_id")
            con.execute("CREATE TABLE rules AS SELECT * FROM r.rules")
            con.execute("CREATE TABLE rule_evidence_items AS SELECT * FROM r.rule_evidence_items")
            con.execute("CREATE TABLE rules_run AS SELECT * FROM r.rules_run")
            con.execute("DETACH r")
        else:
            _empty_rules(con)
        for table, column in (
            ("identity", "person_id"),
            ("records", "person_id"),
            ("events", "person_id"),
            ("household_periods", "person_id"),
            ("household_periods", "household_id"),
            ("links", "person"),
            ("indicators", "person_id"),
            ("flags", "person_id"),
            ("evidence", "person_id"),
        ):
            con.execute(f"CREATE INDEX ix_{table}_{column} ON {table} ({column})")
        con.execute("DETACH b")
        write_person_documents(con, folder / DOCUMENTS_FILE)
        con.execute("CHECKPOINT")
    except BaseException:
        con.close()
        shutil.rmtree(folder, ignore_errors=True)
        raise
    con.close()
    make_current(folder)
    return target


INCIDENT_COLUMNS = ("record_id", "incident_id", "occurred_at", "officer_contact")
"""What a school notice may say of a police incident at the child's home (never its account or its people)."""


def _write_incidents(con: duckdb.DuckDBPyConnection, tables: set[str]) -> None:
    """``incidents``: each police incident row's reference, moment and officer contact, for the notices of
    incidents at a child's home that do not name the child."""
    if "feed_police_incidents" in tables:
        con.execute(
            "CREATE TABLE incidents AS SELECT record_id, incident_id, CAST(occurred_at AS TIMESTAMP) AS occurred_at, "
            "officer_contact FROM b.feed_police_incidents ORDER BY record_id"
        )
    else:
        empty_incidents(con)
    con.execute("CREATE INDEX ix_incidents_record_id ON incidents (record_id)")


def empty_incidents(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "CREATE TABLE incidents (record_id VARCHAR, incident_id VARCHAR, occurred_at TIMESTAMP, "
        "officer_contact VARCHAR)"
    )


def _empty_rules(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "CREATE TABLE indicators (person_id VARCHAR, rule_id VARCHAR, rule_version INTEGER, "
        "first_evidence TIMESTAMP, latest_evidence TIMESTAMP, evidence_count BIGINT)"
    )
    con.execute(
        "CREATE TABLE flags (person_id VARCHAR, rule_id VARCHAR, rule_version INTEGER, first_evidence TIMESTAMP, "
        "latest_evidence TIMESTAMP, evidence_count BIGINT, organisation_type VARCHAR, organisation_id VARCHAR, "
        "role VARCHAR, route_to VARCHAR, rag VARCHAR, due_by TIMESTAMP, raised_at TIMESTAMP)"
    )
    con.execute(
        "CREATE TABLE evidence (person_id VARCHAR, rule_id VARCHAR, rule_version INTEGER, kind VARCHAR, "
        "item VARCHAR, signal VARCHAR, feed VARCHAR, record_id VARCHAR, via_person_id VARCHAR, evidence_at TIMESTAMP)"
    )
    con.execute(
        "CREATE TABLE rules (rule_id VARCHAR, pack VARCHAR, pack_version INTEGER, version INTEGER, kind VARCHAR, "
        "population VARCHAR, title VARCHAR, description VARCHAR, legal_basis VARCHAR, purpose VARCHAR, "
        "window_days INTEGER, raise_within_days INTEGER, feeds VARCHAR[], citation VARCHAR, owner VARCHAR, "
        "review_by DATE)"
    )
    con.execute("CREATE TABLE rules_run (key VARCHAR, value VARCHAR)")
    con.execute(
        "CREATE TABLE rule_evidence_items (rule_id VARCHAR, item VARCHAR, source VARCHAR, "
        "source_title VARCHAR, relation VARCHAR, signal VARCHAR, label VARCHAR)"
    )


# --- reading --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Identity:
    person_id: str
    given_name: str | None
    family_name: str | None
    date_of_birth: dt.date | None
    sex: str | None
    nhs_number: str | None
    record_count: int
    feeds: tuple[str, ...]
    first_seen: dt.date | None
    last_seen: dt.date | None

    @property
    def name(self) -> str:
        return " ".join(p for p in (self.given_name, self.family_name) if p) or "(no name recorded)"

    def age_on(self, day: dt.date) -> int | None:
        if self.date_of_birth is None:
            return None
        born = self.date_of_birth
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


@dataclass(frozen=True)
class LinkedRecord:
    feed: str
    record_id: str
    match_probability: float
    identity: dict[str, str | None]


@dataclass(frozen=True)
class Event:
    feed: str
    record_id: str
    at: dt.datetime | None
    data: dict[str, Any]


@dataclass(frozen=True)
class HouseholdPeriod:
    household_id: str
    start_date: dt.date | None
    end_date: dt.date | None
    members: tuple[HouseholdMember, ...] = ()


@dataclass(frozen=True)
class HouseholdMember:
    person_id: str
    """Empty for a member the reader may not name (:func:`commonground.cases.people.visible_household`)."""
    date_of_birth: dt.date | None
    start_date: dt.date | None
    end_date: dt.date | None
    described_as: str = ""
    """How an unnamed member is described ("another adult"); empty for a named one."""


@dataclass(frozen=True)
class Link:
    left: str
    right: str
    match_weight: float
    match_probability: float
    weights: dict[str, float]
    gammas: dict[str, int]


@dataclass(frozen=True)
class EvidenceItem:
    feed: str
    record_id: str
    signal: str
    item: str
    via_person_id: str | None
    evidence_at: dt.datetime | None


@dataclass(frozen=True)
class RuleResult:
    rule_id: str
    rule_version: int
    kind: str
    title: str
    description: str
    legal_basis: str
    first_evidence: dt.datetime | None
    latest_evidence: dt.datetime | None
    evidence: tuple[EvidenceItem, ...]
    route_to: str | None = None
    rag: str | None = None
    due_by: dt.datetime | None = None
    labels: dict[str, str] = field(default_factory=dict)


class PersonView:
    """Read-only access to one build's person view, safe to share between threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._con = duckdb.connect(str(path), read_only=True)
        self._local = threading.local()
        self._titles: dict[str, str] | None = None
        self._rules: tuple[dict[str, dict[str, Any]], dict[tuple[str, Any], str]] | None = None
        documents = path.with_name(DOCUMENTS_FILE)
        self._documents = PersonDocuments(documents) if documents.exists() else None

    @property
    def build_dir(self) -> Path:
        """The folder of the build this view was laid out from (``<build>/views/<stamp>/person_view.duckdb``)."""
        return self.path.parents[2]

    def close(self) -> None:
        self._con.close()
        if self._documents is not None:
            self._documents.close()

    def document(self, person_id: str) -> dict[str, Any] | None:
        """Everything the API shows about the person, before any agreement is applied
        (:mod:`commonground.cases.person_documents`): one lookup in the documents ``hub sync`` wrote beside the view,
        or, for a view laid out without them, assembled from the detailed queries."""
        if self._documents is None:
            return assemble_document(self, person_id)
        text = self._documents.get(person_id)
        return None if text is None else dict(json.loads(text))

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        cursor = getattr(self._local, "cursor", None)
        if cursor is None:
            cursor = self._con.cursor()
            self._local.cursor = cursor
        return cursor

    def _rows(self, sql: str, params: Iterable[Any] = ()) -> list[dict[str, Any]]:
        cursor = self._cursor().execute(sql, list(params))
        names = [d[0] for d in cursor.description or ()]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def identity(self, person_id: str) -> Identity | None:
        rows = self._rows(
            "SELECT person_id, given_name, family_name, date_of_birth, sex, nhs_number, record_count, feeds, "
            "first_seen, last_seen FROM identity WHERE person_id = ?",
            [person_id],
        )
        if not rows:
            return None
        row = rows[0]
        row["feeds"] = tuple(row["feeds"] or ())
        row["nhs_number"] = str(row["nhs_number"]) if row["nhs_number"] is not None else None
        return Identity(**row)

    def feeds_of(self, person_id: str) -> frozenset[str]:
        rows = self._rows("SELECT DISTINCT feed FROM records WHERE person_id = ?", [person_id])
        return frozenset(r["feed"] for r in rows)

    def records(self, person_id: str, *, feeds: frozenset[str]) -> list[LinkedRecord]:
        rows = self._rows("SELECT * FROM records WHERE person_id = ? ORDER BY feed, record_id", [person_id])
        return [
            LinkedRecord(
                feed=r["feed"],
                record_id=r["record_id"],
                match_probability=float(r["match_probability"]),
                identity={c: r[c] for c in IDENTITY_COLUMNS},
            )
            for r in rows
            if r["feed"] in feeds
        ]

    def events(self, person_id: str, *, feeds: frozenset[str]) -> list[Event]:
        rows = self._rows(
            "SELECT feed, record_id, moment, data FROM events WHERE person_id = ? "
            "ORDER BY moment DESC, feed, record_id",
            [person_id],
        )
        return [
            Event(feed=r["feed"], record_id=r["record_id"], at=r["moment"], data=json.loads(r["data"]))
            for r in rows
            if r["feed"] in feeds
        ]

    def household(self, person_id: str) -> list[HouseholdPeriod]:
        rows = self._rows(
            "SELECT household_id, person_id, date_of_birth, start_date, end_date FROM household_periods "
            "WHERE household_id IN (SELECT household_id FROM household_periods WHERE person_id = ?) "
            "ORDER BY start_date DESC, date_of_birth, person_id, household_id, end_date",
            [person_id],
        )
        own = [r for r in rows if r["person_id"] == person_id]
        out = []
        for period in own:
            members = tuple(
                HouseholdMember(
                    person_id=m["person_id"],
                    date_of_birth=m["date_of_birth"],
                    start_date=m["start_date"],
                    end_date=m["end_date"],
                )
                for m in rows
                if m["household_id"] == period["household_id"]
                and m["person_id"] != person_id
                and _overlaps(m["start_date"], m["end_date"], period["start_date"], period["end_date"])
            )
            out.append(
                HouseholdPeriod(
                    household_id=period["household_id"],
                    start_date=period["start_date"],
                    end_date=period["end_date"],
                    members=members,
                )
            )
        return out

    def incident(self, record_id: str) -> dict[str, Any] | None:
        """A police incident row's reference, moment and officer contact (:data:`INCIDENT_COLUMNS`)."""
        rows = self._rows(f"SELECT {', '.join(INCIDENT_COLUMNS)} FROM incidents WHERE record_id = ?", [record_id])
        return rows[0] if rows else None

    def others_of(self, person_id: str) -> set[str]:
        """Everyone else the person's page refers to: household members, and the people evidence came through."""
        rows = self._rows(
            "SELECT m.person_id FROM household_periods h JOIN household_periods m "
            "ON m.household_id = h.household_id AND m.person_id <> h.person_id WHERE h.person_id = ? "
            "UNION SELECT via_person_id FROM evidence WHERE person_id = ? AND via_person_id IS NOT NULL "
            "AND via_person_id <> person_id",
            [person_id, person_id],
        )
        return {r["person_id"] for r in rows}

    def links(self, person_id: str) -> list[Link]:
        rows = self._rows("SELECT * FROM links WHERE person = ? ORDER BY match_weight DESC", [person_id])
        out = []
        for r in rows:
            weights = {}
            gammas = {}
            for key, value in r.items():
                if key.startswith("gamma_"):
                    name = key.removeprefix("gamma_")
                    gammas[name] = int(value) if value is not None else -1
                    tf = r.get(f"mw_tf_adj_{name}") or 0.0
                    weights[name] = float(r.get(f"mw_{name}") or 0.0) + float(tf)
            out.append(
                Link(
                    left=f"{r['feed_l']}:{r['record_id_l']}",
                    right=f"{r['feed_r']}:{r['record_id_r']}",
                    match_weight=float(r["match_weight"]),
                    match_probability=float(r["match_probability"]),
                    weights=weights,
                    gammas=gammas,
                )
            )
        return out

    def rule_results(self, person_id: str, *, feeds: frozenset[str] | None) -> list[RuleResult]:
        """Indicators and flags of the person, each with the evidence records from ``feeds`` (evidence from other
        feeds is counted but not itemised; ``None``: from every feed)."""
        rules, labels = self._rule_texts()
        evidence: dict[str, list[EvidenceItem]] = {}
        for e in self._rows(
            "SELECT rule_id, feed, record_id, signal, item, via_person_id, evidence_at FROM evidence "
            "WHERE person_id = ? ORDER BY evidence_at DESC, feed, record_id, item, via_person_id",
            [person_id],
        ):
            if feeds is None or e["feed"] in feeds:
                evidence.setdefault(e["rule_id"], []).append(
                    EvidenceItem(
                        feed=e["feed"],
                        record_id=e["record_id"],
                        signal=e["signal"],
                        item=e["item"],
                        via_person_id=e["via_person_id"],
                        evidence_at=e["evidence_at"],
                    )
                )
        out: list[RuleResult] = []
        for kind, table in (("indicator", "indicators"), ("flag", "flags")):
            sql = f"SELECT * FROM {table} WHERE person_id = ? ORDER BY rule_id, rule_version"
            for row in self._rows(sql, [person_id]):
                rule = rules.get(row["rule_id"], {})
                items = tuple(evidence.get(row["rule_id"], ()))
                out.append(
                    RuleResult(
                        rule_id=row["rule_id"],
                        rule_version=int(row["rule_version"]),
                        kind=kind,
                        title=rule.get("title") or row["rule_id"],
                        description=rule.get("description") or "",
                        legal_basis=rule.get("legal_basis") or "",
                        first_evidence=row["first_evidence"],
                        latest_evidence=row["latest_evidence"],
                        evidence=items,
                        route_to=row.get("route_to"),
                        rag=row.get("rag"),
                        due_by=row.get("due_by"),
                        labels={i.item: labels.get((row["rule_id"], i.item), i.item) for i in items},
                    )
                )
        return out

    def search(
        self, *, family_name: str, given_name: str = "", date_of_birth: dt.date | None = None, limit: int = 20
    ) -> list[Identity]:
        """People whose linked records carry this family name (and given name, date of birth if given); exact on
        the normalised name, so that a search never browses the population."""
        sql = "SELECT DISTINCT person_id FROM records WHERE lower(family_name) = lower(?)"
        params: list[Any] = [family_name.strip()]
        if given_name.strip():
            sql += " AND lower(given_name) = lower(?)"
            params.append(given_name.strip())
        if date_of_birth is not None:
            sql += " AND date_of_birth = ?"
            params.append(date_of_birth.isoformat())
        sql += f" ORDER BY person_id LIMIT {int(limit)}"
        found = [self.identity(r["person_id"]) for r in self._rows(sql, params)]
        return [i for i in found if i is not None]

    def _rule_texts(self) -> tuple[dict[str, dict[str, Any]], dict[tuple[str, Any], str]]:
        """The rules in force and the words for each evidence item, read once (a build's rules never change)."""
        if self._rules is None:
            rules = {r["rule_id"]: r for r in self._rows("SELECT * FROM rules")}
            labels = {
                (r["rule_id"], r["item"]): r["label"]
                for r in self._rows("SELECT rule_id, item, label FROM rule_evidence_items")
            }
            self._rules = (rules, labels)
        return self._rules

    def raise_within_days(self, rule_id: str) -> int | None:
        """How recent a rule's latest evidence must be for the rule to raise its flag (None: no limit, or the rule is
        not in this build's rules)."""
        rule = self._rule_texts()[0].get(rule_id)
        days = rule.get("raise_within_days") if rule else None
        return int(days) if days is not None else None

    def rule_titles(self) -> dict[str, str]:
        if self._titles is None:
            self._titles = {r["rule_id"]: r["title"] for r in self._rows("SELECT rule_id, title FROM rules")}
        return self._titles

    def rules_run(self) -> dict[str, str]:
        return {r["key"]: r["value"] for r in self._rows("SELECT key, value FROM rules_run")}


def _overlaps(a_start: dt.date | None, a_end: dt.date | None, b_start: dt.date | None, b_end: dt.date | None) -> bool:
    lo = dt.date.min
    hi = dt.date.max
    return (a_start or lo) <= (b_end or hi) and (b_start or lo) <= (a_end or hi)
