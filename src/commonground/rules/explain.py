"""Why a person has each indicator and flag, and the CSV export of all of them.

An explanation names only ids, codes, dates and the rules' own words: never a name or an
address, so it can go into a case note, an audit log or a subject-access export as it is. Evidence that rests on a
residence linkage inferred rather than saw says so (:mod:`commonground.rules.residence_words`, #15).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from commonground import spreadsheet
from commonground.rules.outputs import open_output
from commonground.rules.residence_words import HOUSEHOLD_FEEDS, InferredPeriod, inferred_periods, residence_note

EXPORT_COLUMNS = ("person_id", "rule_id", "kind", "first_evidence", "latest_evidence", "route_to", "due_by")


@dataclass(frozen=True)
class EvidenceRecord:
    feed: str
    record_id: str
    evidence_at: datetime
    label: str
    """What the record shows, in the rule's words."""
    via_person_id: str | None
    """Whose record it is, when not the person's own (an adult of the child's household)."""
    signal: str


@dataclass(frozen=True)
class ExplainedItem:
    rule_id: str
    rule_version: int
    kind: str
    title: str
    description: str
    legal_basis: str
    first_evidence: datetime
    latest_evidence: datetime
    evidence: tuple[EvidenceRecord, ...]
    route_to: str | None = None
    rag: str | None = None
    due_by: datetime | None = None
    notes: tuple[str, ...] = ()
    """What the evidence rests on that was inferred rather than recorded (a residence before its first record)."""


@dataclass(frozen=True)
class PersonExplanation:
    person_id: str
    as_of: str
    items: tuple[ExplainedItem, ...] = field(default_factory=tuple)
    age_unknown: bool = False
    """No record of the person gives a date of birth (#15)."""
    child_until: datetime | None = None
    """For a person of unknown age: the latest record that says they were a child, if any."""

    def age_note(self) -> str | None:
        """The person's unknown age, in words (None when a record gives a date of birth)."""
        if not self.age_unknown:
            return None
        if self.child_until is None:
            return "Age unknown: no record gives a date of birth, so the rules count this person as an adult."
        return (
            "Age unknown: no record gives a date of birth; a record says this person was a child on "
            f"{self.child_until:%Y-%m-%d}, so the rules count them as a child up to that day and as an adult after."
        )

    @property
    def indicators(self) -> tuple[ExplainedItem, ...]:
        return tuple(i for i in self.items if i.kind == "indicator")

    @property
    def flags(self) -> tuple[ExplainedItem, ...]:
        return tuple(i for i in self.items if i.kind == "flag")

    def to_text(self) -> str:
        head = (
            f"Person {self.person_id}: {len(self.indicators)} indicator(s), {len(self.flags)} flag(s) "
            f"(rules as of {self.as_of})"
        )
        note = self.age_note()
        if note is not None:
            head += "\n" + note
        if not self.items:
            return head + "\nNo rule fired for this person."
        blocks = [head]
        for item in self.items:
            lines = [f"[{item.kind}] {item.rule_id} v{item.rule_version}: {item.title}"]
            lines.append(f"  Why: {item.description}")
            lines.extend(f"  Note: {note}" for note in item.notes)
            lines.append(
                f"  Evidence from {_when(item.first_evidence)} to {_when(item.latest_evidence)} "
                f"({len({(e.feed, e.record_id) for e in item.evidence})} record(s)):"
            )
            for record in item.evidence:
                other = record.via_person_id and record.via_person_id != self.person_id
                whose = f" [record of person {record.via_person_id}]" if other else ""
                lines.append(
                    f"    - {_when(record.evidence_at)}  {record.feed}/{record.record_id}: {record.label}{whose}"
                )
            if item.kind == "flag":
                rag = f" ({item.rag})" if item.rag else ""
                due = _when(item.due_by) if item.due_by else "no deadline"
                lines.append(f"  Routed to {item.route_to}{rag}, due by {due}")
            lines.append(f"  Shared under: {item.legal_basis}")
            blocks.append("\n".join(lines))
        return "\n\n".join(blocks)


def _residence_notes(records: list[EvidenceRecord], periods: list[InferredPeriod], person_id: str) -> tuple[str, ...]:
    """A note for each inferred period (the person's, or the other person's whose record it is) that a household
    record of this item falls in: the record counts only because the residence was inferred."""
    notes: list[str] = []
    for record in records:
        through_household = record.feed in HOUSEHOLD_FEEDS or (record.via_person_id not in (None, person_id))
        if not through_household:
            continue
        for period in periods:
            if period.person_id in (person_id, record.via_person_id) and period.covers(record.evidence_at):
                note = residence_note(period, subject=person_id)
                if note not in notes:
                    notes.append(note)
    return tuple(notes)


def _when(moment: datetime) -> str:
    if moment.hour == moment.minute == moment.second == 0:
        return moment.strftime("%Y-%m-%d")
    return moment.strftime("%Y-%m-%d %H:%M")


def explain_person(*, build_dir: Path, person_id: str) -> PersonExplanation:
    """Every indicator and flag of a person, with each rule's description and its evidence records."""
    with open_output(build_dir) as con:
        as_of = con.execute("SELECT value FROM rules_run WHERE key = 'as_of'").fetchone()
        evidence = con.execute(
            """
            SELECT e.rule_id, e.feed, e.record_id, e.evidence_at, i.label, e.via_person_id, e.signal
            FROM evidence AS e JOIN rule_evidence_items AS i ON i.rule_id = e.rule_id AND i.item = e.item
            WHERE e.person_id = ? ORDER BY e.rule_id, e.evidence_at, e.feed, e.record_id
            """,
            [person_id],
        ).fetchall()
        rows = con.execute(
            """
            SELECT x.rule_id, x.rule_version, x.kind, r.title, r.description, r.legal_basis,
                   x.first_evidence, x.latest_evidence, x.route_to, x.rag, x.due_by
            FROM (
                SELECT rule_id, rule_version, 'indicator' AS kind, first_evidence, latest_evidence,
                       CAST(NULL AS VARCHAR) AS route_to, CAST(NULL AS VARCHAR) AS rag,
                       CAST(NULL AS TIMESTAMP) AS due_by
                FROM indicators WHERE person_id = ?
                UNION ALL
                SELECT rule_id, rule_version, 'flag', first_evidence, latest_evidence, route_to, rag, due_by
                FROM flags WHERE person_id = ?
            ) AS x JOIN rules AS r ON r.rule_id = x.rule_id
            ORDER BY x.kind DESC, x.rule_id
            """,
            [person_id, person_id],
        ).fetchall()
        has_table = con.execute("SELECT COUNT(*) FROM duckdb_tables() WHERE table_name = 'age_unknown'").fetchone()
        unknown = (
            con.execute("SELECT child_until FROM age_unknown WHERE person_id = ?", [person_id]).fetchall()
            if has_table and has_table[0]
            else []
        )
    by_rule: dict[str, list[EvidenceRecord]] = {}
    for rule_id, feed, record_id, at, label, via, signal in evidence:
        by_rule.setdefault(rule_id, []).append(
            EvidenceRecord(
                feed=feed, record_id=record_id, evidence_at=at, label=label, via_person_id=via, signal=signal
            )
        )
    periods = inferred_periods(build_dir, {person_id} | {e[5] for e in evidence if e[5]})
    items = tuple(
        ExplainedItem(
            rule_id=r[0],
            rule_version=r[1],
            kind=r[2],
            title=r[3],
            description=r[4],
            legal_basis=r[5],
            first_evidence=r[6],
            latest_evidence=r[7],
            route_to=r[8],
            rag=r[9],
            due_by=r[10],
            evidence=tuple(by_rule.get(r[0], ())),
            notes=_residence_notes(by_rule.get(r[0], []), periods, person_id),
        )
        for r in rows
    )
    return PersonExplanation(
        person_id=person_id,
        as_of=str(as_of[0]) if as_of else "unknown",
        items=items,
        age_unknown=bool(unknown),
        child_until=unknown[0][0] if unknown else None,
    )


def export_flags(*, build_dir: Path, out: Path) -> int:
    """Write one CSV row per indicator and per flag; returns the number of rows.

    Columns: ``person_id, rule_id, kind, first_evidence, latest_evidence, route_to, due_by``
    (the last two blank for indicators). Moments are ISO 8601 (``2024-03-01T21:30:00``). A file people open: every
    field quoted, formula-like cells neutralised (:mod:`commonground.spreadsheet`).
    """
    with open_output(build_dir) as con:
        rows = con.execute(
            """
            SELECT person_id, rule_id, 'indicator' AS kind, first_evidence, latest_evidence,
                   CAST(NULL AS VARCHAR) AS route_to, CAST(NULL AS TIMESTAMP) AS due_by
            FROM indicators
            UNION ALL
            SELECT person_id, rule_id, 'flag', first_evidence, latest_evidence, route_to, due_by FROM flags
            ORDER BY person_id, kind DESC, rule_id
            """
        ).fetchall()
    out.parent.mkdir(parents=True, exist_ok=True)
    temporary = out.with_name(f".{out.name}.tmp")
    with temporary.open("w", newline="", encoding="utf-8") as handle:
        writer = spreadsheet.writer(handle)
        writer.writerow(EXPORT_COLUMNS)
        for person_id, rule_id, kind, first, latest, route_to, due_by in rows:
            writer.writerow([person_id, rule_id, kind, _iso(first), _iso(latest), route_to or "", _iso(due_by)])
    temporary.replace(out)
    return len(rows)


def _iso(moment: datetime | None) -> str:
    return moment.isoformat(timespec="seconds") if moment is not None else ""
