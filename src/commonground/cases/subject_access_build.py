"""The parts of a subject access export that the linked build holds: the person's identity as linked with the
records joined into them, every column of those records, the indicators and flags with their evidence, and the
household (how many others, never who). :class:`Export` is what every part reads from and writes to; the parts
are listed, in order, in :data:`commonground.cases.subject_access.SECTIONS`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import duckdb
from sqlalchemy import select
from sqlalchemy.orm import Session

from commonground import spreadsheet
from commonground.cases.inferences import Openings, filter_results
from commonground.cases.person_view import PersonView, person_feeds
from commonground.store.models import Organisation


@dataclass
class Export:
    """What a section reads from and writes to; sections add lines to ``readme`` describing their files."""

    session: Session
    view: PersonView | None
    person_id: str
    out_dir: Path
    build_database: Path | None
    now: dt.datetime
    readme: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    organisations: dict[int, str] = field(default_factory=dict)

    def organisation(self, organisation_id: int | None) -> str:
        if organisation_id is None:
            return ""
        if not self.organisations:
            self.organisations = {o.id: o.name for o in self.session.scalars(select(Organisation))}
        return self.organisations.get(organisation_id, f"organisation {organisation_id}")

    def write_csv(self, name: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        """A CSV file the person opens in a spreadsheet: every field quoted, and a cell that begins like a formula
        (a case note ``=HYPERLINK(…)``) written with a leading ``'`` (:mod:`commonground.spreadsheet`, #18)."""
        path = self.out_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        count = 0
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = spreadsheet.writer(handle)
            writer.writerow(header)
            for row in rows:
                writer.writerow([_text(v) for v in row])
                count += 1
        self.files.append(name)
        return count

    def write_json(self, name: str, value: Any) -> None:
        path = self.out_dir / name
        path.write_text(json.dumps(value, indent=2, default=_text, ensure_ascii=False) + "\n", encoding="utf-8")
        self.files.append(name)


@dataclass(frozen=True)
class Section:
    """One part of every export: its name, and the function that writes it."""

    name: str
    write: Callable[[Export], None]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return "; ".join(_text(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True, default=str)
    return str(value)


# --- the sections of the linked build ----------------------------------------------------------------------------


def write_identity(export: Export) -> None:
    identity = export.view.identity(export.person_id) if export.view else None
    records = export.view.records(export.person_id, feeds=frozenset(person_feeds())) if export.view else []
    export.write_json(
        "identity.json",
        {
            "person_id": export.person_id,
            "as_linked": {k: v for k, v in asdict(identity).items() if k != "person_id"} if identity else None,
            "linked_records": [
                {"feed": r.feed, "record_id": r.record_id, "match_probability": r.match_probability, **r.identity}
                for r in records
            ],
        },
    )
    if identity is None:
        export.readme.append(
            "identity.json      The linked build holds no person under this id"
            + (" (no linked build has been published)." if export.view is None else ".")
        )
    else:
        export.readme.append(
            f"identity.json      Who the person is as the partners' records were linked: name, date of birth, sex,\n"
            f"                   NHS number, and each of the {len(records)} records joined into this person with\n"
            f"                   how sure the linkage was (match probability) and the identity details on that record."
        )


def _build_rows(export: Export, feed: str, record_ids: Sequence[str]) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Every column of the person's records of one feed, from the build's feed table."""
    assert export.build_database is not None
    con = duckdb.connect(str(export.build_database), read_only=True)
    try:
        tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        if f"feed_{feed}" not in tables:
            return [], []
        placeholders = ", ".join("?" for _ in record_ids)
        cursor = con.execute(
            f'SELECT * FROM "feed_{feed}" WHERE record_id IN ({placeholders}) ORDER BY record_id', list(record_ids)
        )
        header = [d[0] for d in cursor.description or ()]
        return header, cursor.fetchall()
    finally:
        con.close()


def _incident_rows(export: Export, incident_ids: Sequence[str]) -> tuple[list[str], list[tuple[Any, ...]]]:
    assert export.build_database is not None
    con = duckdb.connect(str(export.build_database), read_only=True)
    try:
        tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        if "feed_police_incidents" not in tables or not incident_ids:
            return [], []
        placeholders = ", ".join("?" for _ in incident_ids)
        cursor = con.execute(
            f"SELECT * FROM feed_police_incidents WHERE incident_id IN ({placeholders}) ORDER BY incident_id",
            list(incident_ids),
        )
        return [d[0] for d in cursor.description or ()], cursor.fetchall()
    finally:
        con.close()


def write_records(export: Export) -> None:
    if export.view is None:
        return
    records = export.view.records(export.person_id, feeds=frozenset(person_feeds()))
    by_feed: dict[str, list[str]] = {}
    for record in records:
        by_feed.setdefault(record.feed, []).append(record.record_id)
    written: list[str] = []
    for feed, ids in sorted(by_feed.items()):
        if export.build_database is not None:
            header, rows = _build_rows(export, feed, ids)
        else:
            header, rows = [], []
        if not header:  # no build file beside the view: the view's own copy of each record
            header, rows = _rows_from_view(export, feed)
        export.write_csv(f"records/{feed}.csv", header, rows)
        written.append(f"{feed} ({len(rows)})")
        if feed == "police_incident_persons" and export.build_database is not None and "incident_id" in header:
            position = header.index("incident_id")
            incident_header, incidents = _incident_rows(export, sorted({str(r[position]) for r in rows}))
            if incident_header:
                export.write_csv("records/police_incidents.csv", incident_header, incidents)
                written.append(f"police_incidents ({len(incidents)}, the incidents the person was part of)")
    if written:
        export.readme.append(
            "records/           Every record a partner sent that was linked to this person, one file per source,\n"
            "                   with every field as it was received and standardised: " + ", ".join(written) + "."
        )


def _rows_from_view(export: Export, feed: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    assert export.view is not None
    identities = {r.record_id: r.identity for r in export.view.records(export.person_id, feeds=frozenset({feed}))}
    events = {e.record_id: e for e in export.view.events(export.person_id, feeds=frozenset({feed}))}
    keys: list[str] = []
    for values in [*identities.values(), *(e.data for e in events.values())]:
        keys.extend(k for k in values if k not in keys)
    header = ["record_id", "dated", *keys]
    rows = []
    for record_id in sorted(identities):
        event = events.get(record_id)
        merged = {**identities[record_id], **(event.data if event else {})}
        rows.append((record_id, event.at if event else None, *(merged.get(k) for k in keys)))
    return header, rows


def write_indicators_and_flags(export: Export) -> None:
    if export.view is None:
        return
    # Another person's records are theirs: an inference that rests on them is left out, and counted, unless the DPO
    # records a decision to disclose it (UK GDPR Art 15(4); DPA 2018 Sch 2 para 16) (#16).
    own = Openings(export.person_id, frozenset(person_feeds()))
    visible = filter_results(
        export.view.rule_results(export.person_id, feeds=None),
        own,
        rule_of=lambda r: r.rule_id,
        evidence_of=lambda r: list(r.evidence),
        feed_of=lambda e: e.feed,
        about_of=lambda e: e.via_person_id,
        with_evidence=lambda r, kept: replace(r, evidence=tuple(kept)),
    )
    results = visible.shown
    rows: list[tuple[Any, ...]] = []
    for result in results:
        common = (
            result.kind,
            result.rule_id,
            result.rule_version,
            result.title,
            result.description,
            result.legal_basis,
            result.first_evidence,
            result.latest_evidence,
        )
        if not result.evidence:
            rows.append((*common, "", "", "", "", ""))
        for item in result.evidence:
            rows.append(
                (
                    *common,
                    f"{item.feed}:{item.record_id}",
                    result.labels.get(item.item, item.item),
                    item.signal,
                    item.evidence_at,
                    "partly from other people's records, which are left out"
                    if result.rule_id in visible.partial
                    else "",
                )
            )
    export.write_csv(
        "indicators_and_flags.csv",
        [
            "kind",
            "rule_id",
            "rule_version",
            "title",
            "what_it_means",
            "legal_basis",
            "first_evidence",
            "latest_evidence",
            "evidence_record",
            "evidence",
            "signal",
            "evidence_at",
            "how",
        ],
        rows,
    )
    export.readme.append(
        f"indicators_and_flags.csv  The {len(results)} indicators and flags the rules derived, what each means, the\n"
        "                   law it rests on, and one line per record that is evidence for it."
        + (
            f"\n                   {visible.withheld} more rest only on records about other people (someone the\n"
            "                   person lived with) and are left out, as is such evidence of those listed: another\n"
            "                   person's information is disclosed only with their consent or a recorded decision."
            if visible.withheld or visible.partial
            else ""
        )
    )


def write_household(export: Export) -> None:
    if export.view is None:
        return
    periods = export.view.household(export.person_id)
    export.write_csv(
        "household.csv",
        ["household_id", "from", "until", "other_members"],
        ((p.household_id, p.start_date, p.end_date, len(p.members)) for p in periods),
    )
    export.readme.append(
        "household.csv      When the person lived in each household the linkage found, and with how many other\n"
        "                   people. Who those people are is not given: it is about them, not about you."
    )
