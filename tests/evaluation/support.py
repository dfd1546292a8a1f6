"""Helpers for the evaluation tests: the planted interventions' cohorts in build person ids."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import duckdb

from commonground.evaluation import Cohort, cohort_from_pairs


def truth_to_build(build_dir: Path, truth_dir: Path) -> dict[str, str]:
    """Each truth person's build person: the build person holding most of their records (ties to the smaller id)."""
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH '{build_dir / 'build.duckdb'}' AS b (READ_ONLY)")
        rows = con.execute(
            """
            SELECT truth_id, build_id FROM (
                SELECT t.person_id AS truth_id, CAST(pr.person_id AS VARCHAR) AS build_id,
                       ROW_NUMBER() OVER (PARTITION BY t.person_id ORDER BY COUNT(*) DESC,
                                          CAST(pr.person_id AS VARCHAR)) AS rn
                FROM read_csv(?, header = true, all_varchar = true) AS t
                JOIN b.person_records AS pr ON pr.feed = t.feed AND pr.record_id = t.record_id
                GROUP BY t.person_id, pr.person_id
            ) WHERE rn = 1
            """,
            [str(truth_dir / "records.csv")],
        ).fetchall()
    finally:
        con.close()
    return {str(t): str(b) for t, b in rows}


def planted(truth_dir: Path, code: str) -> list[tuple[str, date, float]]:
    """(truth person id, start, true risk ratio) of one planted intervention."""
    with (truth_dir / "interventions.csv").open(encoding="utf-8", newline="") as f:
        return [
            (row["person_id"], date.fromisoformat(row["start"]), float(row["true_effect"]))
            for row in csv.DictReader(f)
            if row["intervention"] == code
        ]


def planted_cohort(build_dir: Path, truth_dir: Path, code: str) -> tuple[Cohort, int, float]:
    """The cohort of one planted intervention in build person ids, how many recipients linkage never saw,
    and the true risk ratio."""
    mapping = truth_to_build(build_dir, truth_dir)
    rows = planted(truth_dir, code)
    pairs = [(mapping[p], start) for p, start, _ in rows if p in mapping]
    return cohort_from_pairs(pairs), len(rows) - len(pairs), rows[0][2]
