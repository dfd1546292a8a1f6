"""One record against a build: latency of ``RecordMatcher.match`` beside Splink's ``predict_between``.

    uv run python benchmarks/bench_match.py --data-dir DIR [--lookups 1000] [--splink-lookups 100] [--json]
    uv run python benchmarks/bench_match.py --store DIR/analytical/ingest.duckdb --model MODEL.json ...

``DIR`` is a data directory with a current build and its model (for example ``--work DIR`` of
``bench_link.py``: ``DIR/data``); or, for a size with no build, an ingest store and a saved model, every
record then its own person (the latency depends on the records, the blocking index and the model, not
on the clusters). The matcher is loaded once from the build (prepared records,
blocking index, term frequencies, model); then ``--lookups`` records drawn from the build (seed
``--seed``) are each matched against every other record, one at a time, and each lookup is timed
(prepare, candidates, scoring, ranking persons and explaining the best five), as wall time and
as this process's CPU time (the machine may be shared: CPU time is the work, wall time what a
caller waits; the load average is printed with them).

Splink's own route, on the same records in the same run: a linker on the build's prepared records
with the same trained model and its term-frequency tables computed once (warm), then for each of
``--splink-lookups`` of the same records: register it, prepare it with the same SQL, and
``linker.inference.predict_between`` it against the build's records (Splink blocks with the
model's rules and scores the candidates), reading the scored pairs back. The ratio of the two
medians is printed, and every pair Splink scores is checked against ours (match weights to 1e-6).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import duckdb


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _percentiles(seconds: list[float]) -> dict[str, float]:
    ordered = sorted(seconds)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000

    return {
        "p50_ms": round(at(0.50), 2),
        "p95_ms": round(at(0.95), 2),
        "p99_ms": round(at(0.99), 2),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 2),
        "max_ms": round(ordered[-1] * 1000, 2),
    }


def _source_records(database: Path) -> duckdb.DuckDBPyConnection:
    """A DuckDB session holding ``source_records``: the person-level records of a build or ingest store."""
    from commonground.linkage.sources import input_sql, person_feeds

    con = duckdb.connect()
    con.execute(f"ATTACH '{database}' AS src (READ_ONLY)").fetchall()
    tables = [
        r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = 'src'").fetchall()
    ]
    con.execute(f"CREATE TABLE source_records AS {input_sql(person_feeds(tables), catalog='src')}").fetchall()
    con.execute("DETACH src").fetchall()
    return con


def _splink(database: Path, model: Any, ids: list[str], matcher: Any) -> dict[str, Any]:
    """Splink's predict_between for each record of ``ids`` against the build, with warm tf tables."""
    from splink import DuckDBAPI

    from commonground.linkage.predict import linker_for
    from commonground.linkage.prepare import prepare_records, records_table

    con = _source_records(database)
    db_api = DuckDBAPI(con)
    started = time.perf_counter()
    prepared = prepare_records(db_api=db_api, source_table="source_records")
    linker = linker_for(model, prepared=prepared)
    for col in ("given_name_key", "family_name_key", "address"):
        linker.table_management.compute_tf_table(col)
    load_s = time.perf_counter() - started
    seconds: list[float] = []
    cpu_seconds: list[float] = []
    worst, pairs = 0.0, 0
    for uid in ids:
        record = matcher.input_record(uid)
        record["unique_id"] = "incoming"
        started, cpu = time.perf_counter(), time.process_time()
        raw = db_api.register(records_table([record]))
        new = prepare_records(db_api=db_api, source_table=raw.physical_name)
        found = linker.inference.predict_between(new, prepared, warning_mode="never").as_record_list()
        seconds.append(time.perf_counter() - started)
        cpu_seconds.append(time.process_time() - cpu)
        ours = matcher.score(matcher.input_record(uid), exclude=[uid])
        mine = {c["unique_id"]: float(w) for c, w in zip(ours.candidates, ours.match_weight, strict=True)}
        for row in found:
            if row["unique_id_r"] == uid:
                continue
            pairs += 1
            worst = max(worst, abs(mine[row["unique_id_r"]] - float(row["match_weight"])))
    con.close()
    return {
        "load_seconds": round(load_s, 2),
        "pairs_checked": pairs,
        "max_weight_difference": worst,
        "wall": _percentiles(seconds),
        "cpu": _percentiles(cpu_seconds),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--data-dir", type=Path, help="A data directory with a current build.")
    where.add_argument(
        "--store",
        type=Path,
        help="An ingest store (ingest.duckdb) to match against instead, each record its own person, with "
        "--model: for sizes that have no build (the latency does not depend on the clusters).",
    )
    parser.add_argument("--model", type=Path, help="A saved model JSON (with --store).")
    parser.add_argument("--lookups", type=int, default=1000)
    parser.add_argument("--splink-lookups", type=int, default=100, help="0 to skip Splink.")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from splink import DuckDBAPI

    from commonground.linkage.builds import require_current_build
    from commonground.linkage.prepare import prepare_records
    from commonground.linkage.realtime import RecordMatcher
    from commonground.linkage.reports import model_of
    from commonground.linkage.training import TrainedModel

    started = time.perf_counter()
    if args.data_dir:
        build = require_current_build(args.data_dir)
        database, model = build.database, model_of(args.data_dir, build)
        matcher = RecordMatcher.from_build(args.data_dir)
    else:
        if not args.model:
            parser.error("--store needs --model")
        database, model = args.store, TrainedModel.load(args.model)
        con = _source_records(database)
        prepared = prepare_records(db_api=DuckDBAPI(con), source_table="source_records")
        matcher = RecordMatcher(model=model, con=con, prepared_table=prepared.physical_name, build_id=str(database))
        con.close()
    load_s = time.perf_counter() - started
    load_rss = _peak_rss_mb()
    ids = random.Random(args.seed).sample(sorted(matcher._ids), min(args.lookups, len(matcher)))
    for uid in ids[:20]:  # warm the interpreter's caches of code paths, not of answers
        matcher.match(matcher.input_record(uid), exclude=[uid])
    seconds: list[float] = []
    cpu_seconds: list[float] = []
    candidates, linked = [], 0
    for uid in ids:
        record = matcher.input_record(uid)
        started, cpu = time.perf_counter(), time.process_time()
        result = matcher.match(record, exclude=[uid])
        seconds.append(time.perf_counter() - started)
        cpu_seconds.append(time.process_time() - cpu)
        candidates.append(result.candidates)
        linked += bool(result.matches and result.matches[0].same_person)
    result_: dict[str, Any] = {
        "build": matcher.build_id,
        "records": len(matcher),
        "lookups": len(ids),
        "load_seconds": round(load_s, 1),
        "peak_rss_mb_after_load": round(load_rss),
        "candidates_mean": round(statistics.fmean(candidates), 1),
        "candidates_max": max(candidates),
        "matched_a_person": linked,
        "ours": {"wall": _percentiles(seconds), "cpu": _percentiles(cpu_seconds)},
        "load_average": [round(x, 1) for x in os.getloadavg()],
    }
    if args.splink_lookups:
        splink = _splink(database, model, ids[: args.splink_lookups], matcher)
        result_["splink_predict_between"] = splink
        for q in ("p50_ms", "p95_ms"):
            result_[f"splink_over_ours_wall_{q[:3]}"] = round(splink["wall"][q] / result_["ours"]["wall"][q], 1)
            result_[f"splink_over_ours_cpu_{q[:3]}"] = round(splink["cpu"][q] / max(result_["ours"]["cpu"][q], 1e-3), 1)
    result_["peak_rss_mb"] = round(_peak_rss_mb())
    if args.json:
        print(json.dumps(result_, indent=2))
        return
    for key, value in result_.items():
        print(f"{key:28} {value}")


if __name__ == "__main__":
    sys.exit(main())
