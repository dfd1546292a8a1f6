"""One record against the latest build: the path real-time intake takes.

:class:`RecordMatcher` loads, once, from a build: every person-level record, prepared exactly as
for linkage (:mod:`.prepare`); a blocking index (for each of the model's blocking rules, the
records' blocking keys sorted, so the records sharing a key are one binary search away); the
term-frequency table of every column the model adjusts for; and the trained model's
levels with their weights (Splink's own settings object, built from the saved model). Then
:meth:`RecordMatcher.match` prepares one incoming record the same way, finds its candidates
(the records that share a blocking key with it, which are the pairs Splink's ``predict`` would
score), sorts each candidate pair into its levels (:mod:`.pycompare`, the Python twin of the
model's SQL, since planning a SQL statement would take longer than the whole answer), adds up
the same Fellegi-Sunter weights and term-frequency adjustments Splink does (``log2(m/u)`` per
level, clamped as Splink clamps; ``w * (log2(u_exact) - log2(max(tf_l, tf_r)))`` for a level
adjusted for term frequency) and returns the best-matching persons with each one's explanation.

Nothing is written; the build is read once. Personal data stays in memory and in the result.
"""

from __future__ import annotations

import bisect
import math
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
from pydantic import BaseModel, ConfigDict
from splink import DuckDBAPI
from splink.internals.dialects import SplinkDialect

from commonground.errors import UserError
from commonground.linkage.builds import require_current_build
from commonground.linkage.compile import column_expression, settings_creator
from commonground.linkage.explain import PairExplanation, explain_prediction
from commonground.linkage.prepare import INPUT_COLUMNS, prepare_records
from commonground.linkage.pycompare import Condition, comparison_levels, gamma, part_value, prepare_record
from commonground.linkage.spec import PREPARED_COLUMNS, BlockingRuleSpec
from commonground.linkage.threshold import prior_for
from commonground.linkage.training import TrainedModel

DIALECT = "duckdb"
_COMPARED = tuple(sorted(PREPARED_COLUMNS))
_KEY_SEPARATOR = "\x1f"


@dataclass(frozen=True)
class _Level:
    weight: float
    """log2(m/u) as Splink computes it (m and u clamped below), 0 for the missing level."""
    tf_column: str | None = None
    tf_weight: float = 0.0
    tf_minimum_u: float = 0.0
    log2_u_exact: float = 0.0


@dataclass(frozen=True)
class _Comparison:
    name: str
    conditions: list[tuple[int, Condition]]
    levels: dict[int, _Level]


class _SortedKeys(Sequence[str]):
    """An Arrow string array, sorted, seen as a sequence for :mod:`bisect`."""

    def __init__(self, keys: pa.Array) -> None:
        self._keys = keys

    def __len__(self) -> int:
        return len(self._keys)

    def __getitem__(self, i: Any) -> Any:
        return self._keys[i].as_py()


@dataclass(frozen=True)
class _BlockingIndex:
    rule: BlockingRuleSpec
    keys: _SortedKeys
    rows: np.ndarray[Any, np.dtype[np.int64]]

    def key(self, record: Mapping[str, Any]) -> str | None:
        """The record's key for this rule, as :func:`_key_sql` writes it; None if a part is missing."""
        parts = [part_value(record.get(k.column), k.part) for k in self.rule]
        return None if any(p is None for p in parts) else _KEY_SEPARATOR.join(str(p) for p in parts)

    def find(self, key: str) -> np.ndarray[Any, np.dtype[np.int64]]:
        lo = bisect.bisect_left(self.keys, key)
        hi = bisect.bisect_right(self.keys, key, lo=lo)
        return self.rows[lo:hi]


class PersonMatch(BaseModel):
    model_config = ConfigDict(frozen=True)

    person_id: str
    record: str
    """The person's record that matches best (``feed:record_id``)."""
    match_weight: float
    match_probability: float
    same_person: bool
    """At or above the model's threshold: the record would join this person."""
    explanation: PairExplanation


class MatchResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    build_id: str
    candidates: int
    """Records sharing a blocking key with the incoming record, all scored."""
    matches: tuple[PersonMatch, ...]
    """Best first, one per person."""
    seconds: float

    def as_text(self, *, show_values: bool = False) -> str:
        took = f"{self.seconds * 1000:.1f} ms"
        lines = [f"In build {self.build_id}: {self.candidates:,} candidate records scored in {took}."]
        if not self.matches:
            lines.append("No candidate: no record shares a blocking key with this one.")
        for rank, match in enumerate(self.matches, start=1):
            verdict = "the same person" if match.same_person else "below the threshold"
            lines.append(
                f"{rank}. {match.person_id} ({verdict}; best record {match.record}, match weight "
                f"{match.match_weight:+.1f}, probability {match.match_probability:.4f})"
            )
            lines += ["   " + line for line in match.explanation.as_text(show_values=show_values).splitlines()]
        return "\n".join(lines)


def _comparisons(model: TrainedModel, *, records: int) -> tuple[float, list[_Comparison]]:
    """The prior's match weight (for a build of ``records`` records) and every comparison's levels,
    with the weights Splink's settings object gives them (built from the trained model, as
    :func:`.predict.linker_for` builds it)."""
    settings = settings_creator(
        model.spec, parameters=model.parameters, probability_two_random_records_match=prior_for(model, records)
    ).get_settings(DIALECT)
    prior = settings._probability_two_random_records_match
    comparisons = []
    for spec, comparison in zip(model.spec.comparisons, settings.comparisons, strict=True):
        levels: dict[int, _Level] = {}
        for level in comparison.comparison_levels:
            weight = 0.0 if level.is_null_level else level._match_weight
            if weight is None:
                raise ValueError(f"{spec.name}: a level has no trained m or u probability")
            tf: dict[str, Any] = {}
            if level._has_tf_adjustments and level._tf_adjustment_weight and not level._is_else_level:
                tf = {
                    "tf_column": level._tf_adjustment_input_column_name,
                    "tf_weight": float(level._tf_adjustment_weight),
                    "tf_minimum_u": float(level._tf_minimum_u_value),
                    "log2_u_exact": math.log2(
                        level._u_probability_corresponding_to_exact_match(comparison.comparison_levels)
                    ),
                }
            levels[level.comparison_vector_value] = _Level(weight=float(weight), **tf)
        comparisons.append(_Comparison(name=spec.name, conditions=comparison_levels(spec), levels=levels))
    return math.log2(prior / (1 - prior)), comparisons


def _key_sql(rule: BlockingRuleSpec) -> str:
    """The rule's blocking key in DuckDB SQL: its parts joined by a separator, NULL if one is missing."""
    dialect = SplinkDialect.from_string(DIALECT)
    parts = []
    for key in rule:
        expr = column_expression(key.column, key.part)
        expr.sql_dialect = dialect
        parts.append(f"CAST({expr.name} AS VARCHAR)")
    missing = " OR ".join(f"{p} IS NULL" for p in parts)
    return f"CASE WHEN {missing} THEN NULL ELSE concat_ws(chr(31), {', '.join(parts)}) END"


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return int(con.execute(f"SELECT COUNT(*) FROM {_quote(table)}").fetchall()[0][0])


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class Scores:
    """Every candidate of one incoming record, scored (arrays in the candidates' order)."""

    incoming: dict[str, Any]
    """The incoming record, prepared, with its term frequencies."""
    candidates: list[dict[str, Any]]
    """The build's candidate records, prepared, with their term frequencies."""
    rows: np.ndarray[Any, np.dtype[np.int64]]
    """The candidates' rows in the index."""
    gamma: dict[str, np.ndarray[Any, Any]]
    weight: dict[str, np.ndarray[Any, Any]]
    tf_adjustment: dict[str, np.ndarray[Any, Any]]
    match_weight: np.ndarray[Any, Any]

    @property
    def match_probability(self) -> np.ndarray[Any, Any]:
        """1 / (1 + 2^-w), written as Splink writes it so that neither side overflows."""
        w = self.match_weight
        small = np.exp2(-np.abs(w))
        found: np.ndarray[Any, Any] = np.where(w >= 0, 1 / (1 + small), small / (1 + small))
        return found

    def row(self, i: int) -> dict[str, Any]:
        """Candidate ``i`` in the shape of a row of Splink's predictions (incoming record left)."""
        right = self.candidates[i]
        found: dict[str, Any] = {
            "unique_id_l": self.incoming["unique_id"],
            "unique_id_r": right["unique_id"],
            "match_weight": float(self.match_weight[i]),
            "match_probability": float(self.match_probability[i]),
        }
        for name, values in self.gamma.items():
            found[f"gamma_{name}"] = int(values[i])
            found[f"mw_{name}"] = float(self.weight[name][i])
            found[f"mw_tf_adj_{name}"] = float(self.tf_adjustment[name][i])
        for c in _COMPARED:
            found[f"{c}_l"] = self.incoming.get(c)
            found[f"{c}_r"] = right.get(c)
        return found


class RecordMatcher:
    """A warm index of one build's records, scoring one incoming record at a time."""

    def __init__(
        self,
        *,
        model: TrainedModel,
        con: duckdb.DuckDBPyConnection,
        prepared_table: str,
        person_ids: Mapping[str, str] | None = None,
        build_id: str = "",
    ) -> None:
        """Index ``prepared_table`` (prepared records in ``con``; a temporary table is made and
        dropped beside it); ``person_ids`` maps ``unique_id`` to person (default: every record
        its own person)."""
        self.model = model
        self.build_id = build_id
        self._threshold = model.spec.default_threshold_match_weight
        self._prior, self._comparisons = _comparisons(model, records=_count(con, prepared_table))
        table = _quote(prepared_table)
        tf_columns = sorted({lv.tf_column for c in self._comparisons for lv in c.levels.values() if lv.tf_column})
        self._tf: dict[str, dict[str, float]] = {}
        selected, joins = [f"p.{_quote(c)}" for c in ("unique_id", *_COMPARED)], []
        for i, col in enumerate(tf_columns):
            # Splink's term frequencies: each value's share of the records where the column is present.
            column = _quote(col)
            tf_sql = (
                f"SELECT {column} AS v, CAST(COUNT(*) AS DOUBLE) / (SELECT COUNT({column}) FROM {table}) AS tf "
                f"FROM {table} WHERE {column} IS NOT NULL GROUP BY {column}"
            )
            self._tf[col] = {str(v): float(tf) for v, tf in con.execute(tf_sql).fetchall()}
            selected.append(f"t{i}.tf AS {_quote('tf_' + col)}")
            joins.append(f"LEFT JOIN ({tf_sql}) AS t{i} ON t{i}.v = p.{column}")
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE _cg_records AS SELECT {', '.join(selected)}, "
            f"CAST(row_number() OVER (ORDER BY p.unique_id) - 1 AS BIGINT) AS _row "
            f"FROM {table} AS p {' '.join(joins)}"
        ).fetchall()
        records = con.sql("SELECT * EXCLUDE (_row) FROM _cg_records ORDER BY _row").to_arrow_table()
        self._records: pa.Table = records.combine_chunks()  # one chunk: taking a few rows stays cheap
        self._ids: list[str] = self._records.column("unique_id").to_pylist()
        self._row_of = {uid: i for i, uid in enumerate(self._ids)}
        persons = [person_ids.get(uid, uid) for uid in self._ids] if person_ids else self._ids
        self._persons = np.asarray(persons, dtype=object)
        self._index: list[_BlockingIndex] = []
        for rule in model.spec.blocking_rules_for(len(self._ids)):
            found = con.sql(
                f"SELECT k, _row FROM (SELECT {_key_sql(rule)} AS k, _row FROM _cg_records) "
                "WHERE k IS NOT NULL ORDER BY k, _row"
            ).to_arrow_table()
            keys = found.column("k").combine_chunks()
            rows = found.column("_row").to_numpy()
            self._index.append(_BlockingIndex(rule=rule, keys=_SortedKeys(keys), rows=rows))
        con.execute("DROP TABLE _cg_records").fetchall()

    @classmethod
    def from_build(cls, data_dir: Path, *, model: TrainedModel | None = None) -> RecordMatcher:
        """Load the current build of ``data_dir`` and the model that made it."""
        from commonground.linkage.reports import model_of
        from commonground.linkage.sources import input_sql, person_feeds

        build = require_current_build(data_dir)
        model = model or model_of(data_dir, build)
        con = duckdb.connect()
        con.execute("ATTACH ? AS build (READ_ONLY)", [str(build.database)]).fetchall()
        tables = [
            r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = 'build'").fetchall()
        ]
        con.execute(f"CREATE TABLE source_records AS {input_sql(person_feeds(tables), catalog='build')}").fetchall()
        prepared = prepare_records(db_api=DuckDBAPI(con), source_table="source_records")
        person_rows = con.execute(
            "SELECT feed || ':' || record_id, person_id FROM build.main.person_records"
        ).fetchall()
        try:
            return cls(
                model=model,
                con=con,
                prepared_table=prepared.physical_name,
                person_ids={str(u): str(p) for u, p in person_rows},
                build_id=build.build_id,
            )
        finally:
            con.close()

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, unique_id: object) -> bool:
        return unique_id in self._row_of

    def input_record(self, unique_id: str) -> dict[str, Any]:
        """The build's record ``feed:record_id`` as linkage input (its prepared values, which
        the prepare step leaves as they are). KeyError if it is not in the build."""
        row = self._records.slice(self._row_of[unique_id], 1).to_pylist()[0]
        return {c: row[c] for c in INPUT_COLUMNS if c in row}

    def candidates(self, record: Mapping[str, Any], *, exclude: Iterable[str] = ()) -> np.ndarray[Any, Any]:
        """Rows of the build's records that share at least one blocking key with the prepared ``record``."""
        found = []
        for ix in self._index:
            key = ix.key(record)
            if key is not None:
                found.append(ix.find(key))
        rows = np.unique(np.concatenate(found)) if found else np.empty(0, dtype=np.int64)
        skip = [self._row_of[u] for u in exclude if u in self._row_of]
        return np.setdiff1d(rows, skip, assume_unique=True) if skip else rows

    def score(self, record: Mapping[str, Any], *, exclude: Iterable[str] = ()) -> Scores:
        """Score ``record`` (standardised linkage input; see :data:`.prepare.INPUT_COLUMNS`)
        against every candidate in the build, leaving out the records in ``exclude``."""
        incoming = prepare_record({"unique_id": "incoming", **record})
        for col, lookup in self._tf.items():
            value = incoming.get(col)
            incoming[f"tf_{col}"] = None if value is None else lookup.get(value)
        rows = self.candidates(incoming, exclude=exclude)
        candidates = self._records.take(pa.array(rows, pa.int64())).to_pylist()
        n = len(candidates)
        total = np.full(n, self._prior)
        gammas, weights, adjustments = {}, {}, {}
        for comparison in self._comparisons:
            values = np.fromiter((gamma(comparison.conditions, incoming, c) for c in candidates), np.int64, n)
            weight, tf_adj = np.zeros(n), np.zeros(n)
            for value, level in comparison.levels.items():
                at = values == value
                if not at.any():
                    continue
                weight[at] = level.weight
                if level.tf_column is not None:
                    hits = [c for c, hit in zip(candidates, at, strict=True) if hit]
                    tf_adj[at] = _tf_adjustment(level, incoming, hits)
            gammas[comparison.name], weights[comparison.name], adjustments[comparison.name] = values, weight, tf_adj
            total += weight + tf_adj
        return Scores(
            incoming=incoming,
            candidates=candidates,
            rows=rows,
            gamma=gammas,
            weight=weights,
            tf_adjustment=adjustments,
            match_weight=total,
        )

    def match(self, record: Mapping[str, Any], *, top: int = 5, exclude: Iterable[str] = ()) -> MatchResult:
        """The ``top`` persons the record most likely belongs to, best first, each explained."""
        started = time.perf_counter()
        scores = self.score(record, exclude=exclude)
        persons = self._persons[scores.rows]
        matches: list[PersonMatch] = []
        seen: set[str] = set()
        for i in np.argsort(-scores.match_weight, kind="stable"):
            person = str(persons[i])
            if person in seen:
                continue
            seen.add(person)
            row = scores.row(int(i))
            matches.append(
                PersonMatch(
                    person_id=person,
                    record=row["unique_id_r"],
                    match_weight=row["match_weight"],
                    match_probability=row["match_probability"],
                    same_person=row["match_weight"] >= self._threshold,
                    explanation=explain_prediction(self.model, row),
                )
            )
            if len(matches) == top:
                break
        return MatchResult(
            build_id=self.build_id,
            candidates=len(scores.rows),
            matches=tuple(matches),
            seconds=round(time.perf_counter() - started, 6),
        )


def _tf_adjustment(
    level: _Level, incoming: Mapping[str, Any], candidates: list[dict[str, Any]]
) -> np.ndarray[Any, Any]:
    """Splink's: w * (log2(u of the exact level) - log2(greatest(tf_l, tf_r, tf_minimum_u))),
    where a side's missing frequency is the other's, and 0 where neither is known."""
    name = f"tf_{level.tf_column}"
    tf_l = incoming.get(name)
    found = np.zeros(len(candidates))
    for i, candidate in enumerate(candidates):
        tf_r = candidate.get(name)
        a = tf_l if tf_l is not None else tf_r
        b = tf_r if tf_r is not None else tf_l
        if a is not None and b is not None:
            found[i] = level.tf_weight * (level.log2_u_exact - math.log2(max(a, b, level.tf_minimum_u)))
    return found


def match_record(*, data_dir: Path, record: Mapping[str, Any] | str, top: int = 5) -> MatchResult:
    """Match one record against the current build: a dict of standardised fields (see
    :data:`commonground.linkage.prepare.INPUT_COLUMNS`), or ``FEED:RECORD_ID`` of a record
    already in the build (matched against every other record)."""
    from commonground.linkage.reports import parse_record

    matcher = RecordMatcher.from_build(data_dir)
    if isinstance(record, str):
        parse_record(record)
        if record not in matcher:
            raise UserError(f"no person-level record {record} in build {matcher.build_id}")
        return matcher.match(matcher.input_record(record), top=top, exclude=[record])
    return matcher.match(record, top=top)
