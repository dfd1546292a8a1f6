"""What can be asked of a published build: exports, the explanation of a pair, and evaluation.

Every function reads the current build (``docs/builds.md``) read-only and raises
:class:`commonground.errors.UserError` for what the person asking can fix: no build yet, an
unknown record, a missing truth folder.
"""

from __future__ import annotations

import csv
import json
from collections import Counter, defaultdict
from collections.abc import Hashable, Sequence
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
from pydantic import BaseModel, ConfigDict

from commonground import spreadsheet
from commonground.errors import UserError
from commonground.linkage.builds import Build, models_dir, require_current_build
from commonground.linkage.evaluate import (
    ClusterScores,
    ErrorRecall,
    PairwiseScores,
    cluster_scores,
    pairwise_scores,
    recall_by_error,
)
from commonground.linkage.explain import PairExplanation
from commonground.linkage.training import TrainedModel


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def export_persons(*, data_dir: Path, out: Path) -> int:
    """CSV ``feed, record_id, person_id`` for every person-level record of the current build."""
    return _export(data_dir, out, "SELECT feed, record_id, person_id FROM person_records ORDER BY feed, record_id")


def export_households(*, data_dir: Path, out: Path) -> int:
    """CSV ``person_id, household_id, start, end`` (``end`` empty while current)."""
    return _export(
        data_dir,
        out,
        'SELECT person_id, household_id, start_date AS "start", end_date AS "end" '
        "FROM households ORDER BY person_id, start_date, household_id",
    )


def _export(data_dir: Path, out: Path, query: str) -> int:
    """The query's rows as a CSV file for people to open: every field quoted, formula-like cells neutralised
    (:mod:`commonground.spreadsheet`; DuckDB's ``COPY`` would write cells as they are)."""
    build = require_current_build(data_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with build.connect() as con, out.open("w", newline="", encoding="utf-8") as handle:
        cursor = con.execute(query)
        writer = spreadsheet.writer(handle, lineterminator="\n")
        writer.writerow([column[0] for column in cursor.description or ()])
        while batch := cursor.fetchmany(_BATCH_ROWS):
            writer.writerows(batch)
            count += len(batch)
    return count


_BATCH_ROWS = 100_000


def parse_record(text: str) -> tuple[str, str]:
    """``FEED:RECORD_ID`` -> (feed, record_id)."""
    feed, sep, record_id = text.partition(":")
    if not sep or not feed or not record_id:
        raise UserError(f"{text!r} is not FEED:RECORD_ID (for example ed_attendances:ED2024-000123)")
    return feed, record_id


def model_of(data_dir: Path, build: Build) -> TrainedModel:
    version = str(build.info["model_version"])
    path = models_dir(data_dir) / f"{version}.json"
    if not path.exists():
        raise UserError(f"the model {version} that made build {build.build_id} is not in {models_dir(data_dir)}")
    return TrainedModel.load(path)


class LinkExplanation(BaseModel):
    model_config = ConfigDict(frozen=True)

    build_id: str
    left: str
    right: str
    left_person: str
    right_person: str
    direct_link: bool
    """The pair is one of the build's accepted links (else they may still be joined through others)."""
    explanation: PairExplanation

    def as_text(self, *, show_values: bool = False) -> str:
        same = self.left_person == self.right_person
        how = "directly linked" if self.direct_link else ("joined through other records" if same else "not linked")
        verdict = (
            f"the same person, {self.left_person}"
            if same
            else (f"different people, {self.left_person} and {self.right_person}")
        )
        return f"In build {self.build_id}: {verdict} ({how}).\n" + self.explanation.as_text(show_values=show_values)


def explain_link(*, data_dir: Path, left: str, right: str) -> LinkExplanation:
    """Why two records (``FEED:RECORD_ID``) are or are not the same person in the current build."""
    from splink import DuckDBAPI

    from commonground.linkage.explain import explain_pair
    from commonground.linkage.predict import linker_for
    from commonground.linkage.prepare import INPUT_COLUMNS, prepare_records
    from commonground.linkage.sources import input_sql, person_feeds

    build = require_current_build(data_dir)
    ids = [parse_record(left), parse_record(right)]
    model = model_of(data_dir, build)
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH {_literal(str(build.database))} AS build (READ_ONLY)").fetchall()
        persons = []
        for (feed, record_id), text in zip(ids, (left, right), strict=True):
            found = con.execute(
                "SELECT person_id FROM build.main.person_records WHERE feed = ? AND record_id = ?", [feed, record_id]
            ).fetchall()
            if not found:
                raise UserError(f"no person-level record {text} in build {build.build_id}")
            persons.append(str(found[0][0]))
        direct = (
            con.execute(
                "SELECT COUNT(*) FROM build.main.links WHERE (unique_id_l = ? AND unique_id_r = ?) "
                "OR (unique_id_l = ? AND unique_id_r = ?)",
                [left, right, right, left],
            ).fetchall()[0][0]
            > 0
        )
        tables = [
            r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = 'build'").fetchall()
        ]
        con.execute(f"CREATE TABLE source_records AS {input_sql(person_feeds(tables), catalog='build')}").fetchall()
        records = []
        for text in (left, right):
            cursor = con.execute(f"SELECT {', '.join(INPUT_COLUMNS)} FROM source_records WHERE unique_id = ?", [text])
            records.append(dict(zip(INPUT_COLUMNS, cursor.fetchall()[0], strict=True)))
        db_api = DuckDBAPI(con)
        linker = linker_for(model, prepared=prepare_records(db_api=db_api, source_table="source_records"))
        explanation = explain_pair(
            linker, model, records[0], records[1], threshold_match_weight=float(build.info["threshold_match_weight"])
        )
    finally:
        con.close()
    return LinkExplanation(
        build_id=build.build_id,
        left=left,
        right=right,
        left_person=persons[0],
        right_person=persons[1],
        direct_link=bool(direct),
        explanation=explanation,
    )


class FeedPairScores(BaseModel):
    model_config = ConfigDict(frozen=True)

    feed_l: str
    feed_r: str
    scores: PairwiseScores


class Evaluation(BaseModel):
    model_config = ConfigDict(frozen=True)

    build_id: str
    truth: str
    records_compared: int
    records_without_truth: int
    pairwise: PairwiseScores
    clusters: ClusterScores
    feed_pairs: tuple[FeedPairScores, ...]
    by_error: tuple[ErrorRecall, ...] = ()
    """Recall by kind of error, when the truth lists each record's errors (``identity_errors.csv``): each
    category, then each kind as ``category/kind``."""

    def to_json(self) -> str:
        def scores(s: PairwiseScores) -> dict[str, Any]:
            return {**s.model_dump(), "precision": s.precision, "recall": s.recall, "f1": s.f1}

        return json.dumps(
            {
                "build_id": self.build_id,
                "truth": self.truth,
                "records_compared": self.records_compared,
                "records_without_truth": self.records_without_truth,
                "pairwise": scores(self.pairwise),
                "clusters": self.clusters.model_dump(),
                "feed_pairs": [{"feed_l": f.feed_l, "feed_r": f.feed_r, **scores(f.scores)} for f in self.feed_pairs],
                "by_error": [{**e.model_dump(), "recall": e.recall} for e in self.by_error],
            },
            indent=2,
        )

    def as_text(self) -> str:
        p, c = self.pairwise, self.clusters
        lines = [
            f"Evaluation of build {self.build_id} against {self.truth}",
            f"records compared: {self.records_compared:,} ({self.records_without_truth:,} in the build have no truth)",
            f"pairwise: precision {p.precision:.4f}, recall {p.recall:.4f}, F1 {p.f1:.4f} "
            f"(false links {p.false_positives:,}, missed links {p.false_negatives:,})",
            f"clusters: {c.predicted_clusters:,} persons for {c.true_entities:,} true people; exact "
            f"{c.exact_clusters:,} ({c.exact_cluster_share:.2%}); split {c.split_entities:,}; merged "
            f"{c.merged_clusters:,}; B-cubed precision {c.bcubed_precision:.4f}, recall {c.bcubed_recall:.4f}",
            "",
            "per feed pair:",
            f"{'feeds':<55} {'true pairs':>10} {'precision':>9} {'recall':>7} {'F1':>7}",
        ]
        for f in self.feed_pairs:
            s = f.scores
            lines.append(
                f"{f.feed_l + ' x ' + f.feed_r:<55} {s.true_pairs:>10,} {s.precision:>9.4f} "
                f"{s.recall:>7.4f} {s.f1:>7.4f}"
            )
        if self.by_error:
            lines += [
                "",
                "recall by kind of error (true pairs with at least one record carrying it):",
                f"{'error':<40} {'records':>9} {'true pairs':>11} {'found':>11} {'recall':>7}",
            ]
            lines += [
                f"{e.kind:<40} {e.records:>9,} {e.true_pairs:>11,} {e.found:>11,} {e.recall:>7.4f}"
                for e in self.by_error
            ]
        return "\n".join(lines)


def feed_pair_scores(
    feeds: Sequence[str], predicted: Sequence[Hashable], truth: Sequence[Hashable]
) -> list[FeedPairScores]:
    """Pairwise scores counting only pairs of one record from each feed of a pair (both from
    the same feed when the two are one feed), from group counts as in :mod:`.evaluate`."""

    def pair_counts(groups: dict[Hashable, Counter[str]]) -> Counter[tuple[str, str]]:
        found: Counter[tuple[str, str]] = Counter()
        for counts in groups.values():
            names = sorted(counts)
            for i, a in enumerate(names):
                found[(a, a)] += counts[a] * (counts[a] - 1) // 2
                for b in names[i + 1 :]:
                    found[(a, b)] += counts[a] * counts[b]
        return found

    by_pred: dict[Hashable, Counter[str]] = defaultdict(Counter)
    by_truth: dict[Hashable, Counter[str]] = defaultdict(Counter)
    by_cell: dict[Hashable, Counter[str]] = defaultdict(Counter)
    for feed, p, t in zip(feeds, predicted, truth, strict=True):
        by_pred[p][feed] += 1
        by_truth[t][feed] += 1
        by_cell[(p, t)][feed] += 1
    pp, tt, tp = pair_counts(by_pred), pair_counts(by_truth), pair_counts(by_cell)
    return [
        FeedPairScores(
            feed_l=a,
            feed_r=b,
            scores=PairwiseScores(true_positives=tp[(a, b)], predicted_pairs=pp[(a, b)], true_pairs=tt[(a, b)]),
        )
        for a, b in sorted(set(pp) | set(tt))
        if pp[(a, b)] or tt[(a, b)]
    ]


def read_truth(truth_dir: Path) -> dict[tuple[str, str], str]:
    """``truth/records.csv`` (``feed, record_id, person_id``) of a synthetic area; ``truth_dir``
    may be the area or its ``truth`` folder."""
    path = truth_dir / "records.csv"
    if not path.exists():
        path = truth_dir / "truth" / "records.csv"
    if not path.exists():
        raise UserError(f"no records.csv in {truth_dir} or {truth_dir / 'truth'}: give a synthetic area's truth")
    with path.open(newline="", encoding="utf-8") as f:
        return {(row["feed"], row["record_id"]): row["person_id"] for row in csv.DictReader(f)}


ERRORS_FILE = "identity_errors.csv"
"""In a synthetic area's truth (``--noise harsh``): ``feed, record_id, kind, category``, one row per error."""


def read_identity_errors(truth_dir: Path) -> dict[tuple[str, str], set[str]] | None:
    """Each record's errors as ``category`` and ``category/kind`` from ``truth/identity_errors.csv``; None when
    the truth has no such file (an area made with the default noise profile)."""
    path = truth_dir / ERRORS_FILE
    if not path.exists():
        path = truth_dir / "truth" / ERRORS_FILE
    if not path.exists():
        return None
    found: dict[tuple[str, str], set[str]] = defaultdict(set)
    with path.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            found[(row["feed"], row["record_id"])] |= {row["category"], f"{row['category']}/{row['kind']}"}
    return found


def error_masks(records: Sequence[tuple[str, str]], errors: dict[tuple[str, str], set[str]]) -> dict[str, np.ndarray]:
    """For each category and kind of error, which of ``records`` carry it: categories first, each followed by its
    kinds, in name order."""
    names = sorted({e for found in errors.values() for e in found}, key=lambda n: (n.split("/")[0], "/" in n, n))
    index = {name: i for i, name in enumerate(names)}
    masks = np.zeros((len(names), len(records)), dtype=bool)
    for j, key in enumerate(records):
        for name in errors.get(key, ()):
            masks[index[name], j] = True
    return {name: masks[i] for i, name in enumerate(names)}


def evaluate_build(*, data_dir: Path, truth_dir: Path) -> Evaluation:
    """Compare the current build's persons with a synthetic area's true people."""
    build = require_current_build(data_dir)
    truth = read_truth(truth_dir)
    with build.connect() as con:
        rows = con.execute("SELECT feed, record_id, person_id FROM person_records ORDER BY feed, record_id").fetchall()
    known = [(f, r, p, truth[(f, r)]) for f, r, p in rows if (f, r) in truth]
    feeds = [k[0] for k in known]
    predicted = [k[2] for k in known]
    true = [k[3] for k in known]
    return Evaluation(
        build_id=build.build_id,
        truth=str(truth_dir),
        records_compared=len(known),
        records_without_truth=len(rows) - len(known),
        pairwise=pairwise_scores(predicted, true),
        clusters=cluster_scores(predicted, true),
        feed_pairs=tuple(feed_pair_scores(feeds, predicted, true)),
        by_error=tuple(_by_error(truth_dir, known)),
    )


def _by_error(truth_dir: Path, known: Sequence[tuple[str, str, str, str]]) -> list[ErrorRecall]:
    errors = read_identity_errors(truth_dir)
    if errors is None:
        return []
    masks = error_masks([(k[0], k[1]) for k in known], errors)
    return recall_by_error([k[2] for k in known], [k[3] for k in known], masks)
