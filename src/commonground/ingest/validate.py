"""Rows in, an accepted table, quarantined rows and warnings out.

Every cell goes through the fast path (:mod:`commonground.ingest.fastpath`); cells it is not sure
of go through ``parse_cell``, the authority. Then:

- a bad or blank value in a non-nullable column quarantines the row (every such field is named);
- a bad value in a nullable column is blanked and recorded as a warning (the row is kept);
- in a column whose value is expected but may be unknown (``unknown_allowed``: a date of birth in the feeds whose
  people may not or could not say, #15), a blank is a warning and a bad value is blanked with one; the row is kept;
- a text value that begins like a spreadsheet formula (``values.value_warning``) is kept as sent, with a warning
  naming the field, in any text column (#18): files people open neutralise it (:mod:`commonground.spreadsheet`);
- cross-field checks (an end before its start) blank the field that may be blank (the end, or an optional
  start such as an emergency attendance's ``assault_at``) with a warning naming it, and keep the row: a wrong
  optional value never loses the event (a pair of required fields would quarantine the row; no feed has one);
- a ``record_id`` already held from an earlier batch is a partner's correction (#16): a row that differs from the
  current version of that record is accepted as its **new version** (the store keeps the earlier one in its history),
  and a row identical to it is **unchanged** (counted as accepted, nothing written). A ``record_id`` repeated within
  one file quarantines the later row, as does a value of another ``unique`` column held by a different record; the
  first row holding a value keeps it.

Reasons never repeat a cell's value.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from commonground.contracts.spec import Column, ColumnType, FeedContract
from commonground.contracts.values import ValueProblem, parse_cell, value_warning
from commonground.ingest.fastpath import arrow_type, fast_parse, name_keys
from commonground.ingest.reader import RawChunk
from commonground.spreadsheet import TRIGGERS

BLANK_REASON = "blank, but the column requires a value"
UNKNOWN_REASON = "blank: not known; the record is kept and links on its other fields"
"""The warning for a blank where a value is expected but may be unknown (``Column.unknown_allowed``)."""

ORDERED_PAIRS: dict[str, tuple[tuple[str, str, str], ...]] = {  # the blanked field is the later, if it may be blank
    "custody_records": (("arrested_at", "released_at", "released before arrested"),),
    "missing_episodes": (("reported_at", "returned_at", "returned before reported missing"),),
    "substance_treatment": (("start_date", "end_date", "ended before it started"),),
    "childrens_social_care": (("referral_date", "closure_date", "closed before the referral"),),
    "custodial_sentences": (("received_at", "released_at", "released before received into prison"),),
    "school_roll": (("enrolled_on", "left_on", "left the roll before enrolling"),),
    "ed_attendances": (("assault_at", "arrived_at", "arrived before the assault happened"),),
}
"""Cross-field checks: (earlier, later, reason) where ``later`` must not be before ``earlier``."""

NAME_KEYS = (("given_name", "given_name_key"), ("family_name", "family_name_key"))

RECORD_KEY = "record_id"
"""The column a record is known by across batches: a row with a held ``record_id`` is a new version of it."""

Held = tuple[str, int, str]
"""Where a value is held in the store: (batch_id, row_number, record_id of the row holding it)."""

Lookup = Callable[[str, pa.Array], dict[str, Held]]
"""(column, distinct values) -> {value: held} for values already in the store."""

Unchanged = Callable[[pa.Table], set[str]]
"""Rows that would be new versions (the contract's columns) -> the record_ids whose current version is identical."""


@dataclass(frozen=True)
class Problem:
    row_number: int
    field: str | None
    reason: str


@dataclass(frozen=True)
class QuarantineEntry:
    row_number: int
    field: str | None
    reason: str
    raw: str


@dataclass
class ChunkOutcome:
    accepted: pa.Table
    quarantined: list[QuarantineEntry] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    rows_read: int = 0
    rows_quarantined: int = 0
    rows_with_warnings: int = 0
    replaced: list[str] = field(default_factory=list)
    """record_ids of ``accepted`` rows that are new versions of records already held: the store moves the current
    version of each to its history before the new one is written."""
    rows_unchanged: int = 0
    """Rows identical to the current version of their record: accepted, but nothing is written."""

    @property
    def rows_accepted(self) -> int:
        """Rows that passed: written (new records and new versions) or unchanged, so that rows read = accepted +
        quarantined."""
        return int(self.accepted.num_rows) + self.rows_unchanged

    @property
    def rows_new_versions(self) -> int:
        return len(self.replaced)


def store_columns(feed: FeedContract) -> list[tuple[str, pa.DataType]]:
    """The columns of a feed's table in the analytical store, in order."""
    columns = [(c.name, arrow_type(c)) for c in feed.columns]
    if feed.person_level:
        columns += [(key, pa.string()) for _, key in NAME_KEYS]
    return [*columns, ("_batch_id", pa.string()), ("_row_number", pa.int64())]


@dataclass
class _ColumnOutcome:
    values: pa.Array
    problems: list[tuple[int, str]]  # (index in chunk, reason)
    warnings: list[tuple[int, str]] = field(default_factory=list)  # (index in chunk, reason): the value is kept


def _check_column(chunk: RawChunk, column: Column) -> _ColumnOutcome:
    n = chunk.size
    raw = chunk.columns.get(column.name)
    if raw is None:  # an optional column the file leaves out
        return _ColumnOutcome(pa.nulls(n, arrow_type(column)), [])
    fast = fast_parse(raw, column)
    odd = chunk.odd_cells.get(column.name)
    if odd:  # cells Arrow could not hold are null in `raw`, but not blank: parse_cell decides
        fast.accepted[list(odd)] = False
    problems: list[tuple[int, str]] = []
    fixed_at: list[int] = []
    fixed: list[object] = []
    for i in np.flatnonzero(~fast.accepted).tolist():
        cell = chunk.cell(column.name, i)
        try:
            value = parse_cell(cell, column)
        except ValueProblem as problem:
            problems.append((i, problem.reason))
            continue
        except ValueError:  # a parser slip in the contracts; its message could hold the value
            problems.append((i, f"not a valid {column.type.value} value"))
            continue
        if value is not None:
            fixed_at.append(i)
            fixed.append(value)
    values = _merge(fast.values, fixed_at, fixed, column)
    if not column.nullable:
        blank = np.flatnonzero(np.asarray(pc.is_null(values).to_numpy(zero_copy_only=False)))
        known = {i for i, _ in problems}
        reason = UNKNOWN_REASON if column.unknown_allowed else BLANK_REASON
        problems += [(i, reason) for i in blank.tolist() if i not in known]
    return _ColumnOutcome(values, problems, _value_warnings(values, column))


def _value_warnings(values: pa.Array, column: Column) -> list[tuple[int, str]]:
    """Warnings about values that are kept: text that begins like a spreadsheet formula. The values that begin with
    a formula trigger are found over the whole column; ``value_warning`` decides on each of those (a few)."""
    if column.type is not ColumnType.TEXT:
        return []
    first = pc.utf8_slice_codeunits(values, start=0, stop=1)
    starts = np.asarray(
        pc.fill_null(pc.is_in(first, value_set=pa.array(TRIGGERS)), False).to_numpy(zero_copy_only=False), dtype=bool
    )
    found: list[tuple[int, str]] = []
    for i in np.flatnonzero(starts).tolist():
        reason = value_warning(values[i].as_py(), column)
        if reason is not None:
            found.append((i, reason))
    return found


def _merge(values: pa.Array, at: list[int], fixed: list[object], column: Column) -> pa.Array:
    if not at:
        return values
    if column.type is ColumnType.CODE_LIST:
        merged = values.to_pylist()
        for i, value in zip(at, fixed, strict=True):
            merged[i] = value
        return pa.array(merged, arrow_type(column))
    mask = np.zeros(len(values), dtype=bool)
    mask[at] = True
    return pc.replace_with_mask(values, pa.array(mask), pa.array(fixed, arrow_type(column)))


class ChunkValidator:
    """Validates the chunks of one file in order; remembers the unique values it has seen."""

    def __init__(
        self, *, feed: FeedContract, header: list[str], batch_id: str, lookup: Lookup, unchanged: Unchanged
    ) -> None:
        self.feed = feed
        self.header = header
        self.batch_id = batch_id
        self._lookup = lookup
        self._unchanged = unchanged
        self._store_columns = store_columns(feed)
        self._unchanged_rows: dict[str, int] = {}
        """record_id -> row of this file found unchanged: never written, so the store cannot say it was seen."""

    def validate(self, chunk: RawChunk) -> ChunkOutcome:
        n = chunk.size
        quarantine: dict[int, list[tuple[str | None, str]]] = {}
        warn: dict[int, list[tuple[str, str]]] = {}
        values: dict[str, pa.Array] = {}
        for column in self.feed.columns:
            outcome = _check_column(chunk, column)
            values[column.name] = outcome.values
            target = warn if column.blank_keeps_row else quarantine
            for i, reason in outcome.problems:
                target.setdefault(i, []).append((column.name, reason))
            for i, reason in outcome.warnings:
                warn.setdefault(i, []).append((column.name, reason))
        self._check_order(values, quarantine, warn)
        versions = self._check_unique(chunk, values, quarantine)
        unchanged = self._check_versions(chunk, values, versions)
        result = self._outcome(chunk, n, values, quarantine, warn, unchanged)
        result.replaced = [r for i, r in sorted(versions.items()) if i not in unchanged]
        result.rows_unchanged = len(unchanged)
        return result

    def _check_order(
        self,
        values: dict[str, pa.Array],
        quarantine: dict[int, list[tuple[str | None, str]]],
        warn: dict[int, list[tuple[str, str]]],
    ) -> None:
        nullable = {c.name: c.blank_keeps_row for c in self.feed.columns}
        for earlier, later, reason in ORDERED_PAIRS.get(self.feed.name, ()):
            wrong = np.asarray(
                pc.fill_null(pc.less(values[later], values[earlier]), False).to_numpy(zero_copy_only=False), dtype=bool
            )
            if not wrong.any():
                continue
            blanked = later if nullable[later] else earlier if nullable[earlier] else None
            if blanked is None:
                for i in np.flatnonzero(wrong).tolist():
                    quarantine.setdefault(i, []).extend([(earlier, reason), (later, reason)])
                continue
            values[blanked] = pc.if_else(pa.array(wrong), pa.nulls(len(wrong), values[blanked].type), values[blanked])
            for i in np.flatnonzero(wrong).tolist():
                warn.setdefault(i, []).append((blanked, f"{reason}; the {blanked} was blanked, the record kept"))

    def _check_unique(
        self, chunk: RawChunk, values: dict[str, pa.Array], quarantine: dict[int, list[tuple[str | None, str]]]
    ) -> dict[int, str]:
        """Quarantine repeats; return the rows that are versions of records held from earlier batches
        ({index in chunk: record_id})."""
        versions: dict[int, str] = {}
        record_ids = values[RECORD_KEY].to_pylist() if RECORD_KEY in values else [None] * chunk.size
        for name in self.feed.unique:
            column = values[name]
            if pa.types.is_list(column.type):  # no feed has a unique code list; keep it honest
                continue
            keep = np.ones(chunk.size, dtype=bool)
            keep[list(quarantine)] = False
            candidates = np.flatnonzero(keep)
            keys = pc.take(column, pa.array(candidates, pa.int64()))
            distinct = pc.unique(pc.drop_null(keys))
            stored = self._lookup(name, distinct)
            earlier = self._unchanged_rows if name == RECORD_KEY else {}
            if not stored and not earlier and len(distinct) == len(keys) - keys.null_count:
                continue  # the usual case: no repeats, nothing to look at row by row
            seen: dict[str, int] = {**earlier}
            for i, key in zip(candidates.tolist(), keys.to_pylist(), strict=True):
                if key is None:
                    continue
                key = str(key)
                reason = self._repeat(
                    key, seen, stored.get(key), own_record=record_ids[i], versioned=name == RECORD_KEY
                )
                if reason is not None:
                    quarantine.setdefault(i, []).append((name, reason))
                    continue
                seen[key] = int(chunk.row_numbers[i])
                if name == RECORD_KEY and key in stored:
                    versions[i] = key
        return {i: r for i, r in versions.items() if i not in quarantine}

    def _repeat(
        self, key: str, seen: dict[str, int], held: Held | None, *, own_record: object, versioned: bool
    ) -> str | None:
        """Why a row's unique value is a repeat, or None: a value seen earlier in this file is; a ``record_id`` held
        from an earlier batch is not (the row is a version of that record); another column's value held by a
        different record is."""
        if key in seen:
            return f"repeats the value on row {seen[key]} of this file"
        if held is None:
            return None
        batch, row, holder = held
        if batch == self.batch_id:
            return f"repeats the value on row {row} of this file"
        if versioned or holder == own_record:  # a new version, or the earlier version of this same record
            return None
        return f"repeats a value already loaded (batch {batch[:12]}, row {row})"

    def _check_versions(self, chunk: RawChunk, values: dict[str, pa.Array], versions: dict[int, str]) -> set[int]:
        """Of the rows that are versions of held records, those identical to the current version (unchanged);
        the others stay as new versions."""
        if not versions:
            return set()
        at = pa.array(sorted(versions), pa.int64())
        rows = pa.table({c.name: pc.take(values[c.name], at) for c in self.feed.columns})
        same = self._unchanged(rows)
        unchanged = {i for i, record_id in versions.items() if record_id in same}
        for i in unchanged:
            self._unchanged_rows[versions[i]] = int(chunk.row_numbers[i])
        return unchanged

    def _outcome(
        self,
        chunk: RawChunk,
        n: int,
        values: dict[str, pa.Array],
        quarantine: dict[int, list[tuple[str | None, str]]],
        warn: dict[int, list[tuple[str, str]]],
        unchanged: set[int],
    ) -> ChunkOutcome:
        keep = np.ones(n, dtype=bool)
        keep[list(quarantine)] = False
        written = keep.copy()
        written[list(unchanged)] = False  # an unchanged row is accepted (and its warnings kept), not written again
        if self.feed.person_level:
            for source, key in NAME_KEYS:
                values[key] = name_keys(values[source])
        values["_batch_id"] = pa.array(np.full(n, self.batch_id, dtype=object), pa.string())
        values["_row_number"] = pa.array(chunk.row_numbers, pa.int64())
        table = pa.table({name: values[name] for name, _ in self._store_columns}, schema=pa.schema(self._store_columns))
        entries = [QuarantineEntry(b.row_number, None, b.reason, b.raw) for b in chunk.broken]
        for i in sorted(quarantine):
            raw = chunk.raw_json(self.header, i)
            row = int(chunk.row_numbers[i])
            entries += [QuarantineEntry(row, name, reason, raw) for name, reason in quarantine[i]]
        warnings = [
            Problem(int(chunk.row_numbers[i]), name, reason)
            for i in sorted(warn)
            if keep[i]
            for name, reason in warn[i]
        ]
        return ChunkOutcome(
            accepted=table.filter(pa.array(written)),
            quarantined=entries,
            warnings=warnings,
            rows_read=n + len(chunk.broken),
            rows_quarantined=len(quarantine) + len(chunk.broken),
            rows_with_warnings=sum(1 for i in warn if keep[i]),
        )
