"""Link build benchmark: synthetic area -> ingest -> link, against bare Splink on the same records.

    uv run python benchmarks/bench_link.py --people 20000 [--work DIR] [--sweep] [--json]

Synthesis and ingest run in child processes (the CLI), so this process's peak RSS is the link's.
Steps timed: training (``commonground link --train`` in a child process, skipped with ``--reuse-model``), then a
build with the saved model
(the link build: read feeds, predict, cluster, person ids, persons, households, publish), then bare
Splink's predict-and-cluster with the same trained settings on the same records in a fresh DuckDB
session. Quality is the pairwise precision/recall of the build against the area's truth;
``--sweep`` also sweeps the threshold and applies ``choose_threshold(min_precision=0.9995)``. ``--repeat N``
alternates N link builds with N bare Splink runs and reports the ratio of their medians.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

CLI = str(Path(sys.executable).parent / "commonground")


def _cli(*args: str, check: bool = True) -> None:
    subprocess.run([CLI, *args], check=check, stdout=subprocess.DEVNULL)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _bare_splink(build_db: Path, model: Any, threshold: float) -> tuple[float, int]:
    from splink import DuckDBAPI, Linker

    from commonground.linkage.compile import settings_creator
    from commonground.linkage.pipeline import scratch_connection
    from commonground.linkage.prepare import prepare_records
    from commonground.linkage.sources import input_sql, person_feeds

    # The same file-backed session and memory limit as the link build's (in memory, Splink's tables
    # would take 19 GB at 1,000,000 people).
    scratch = Path(tempfile.mkdtemp(prefix="bench-bare-splink-")) / "scratch"
    con = scratch_connection(scratch)
    con.execute(f"ATTACH '{build_db}' AS build (READ_ONLY)").fetchall()
    tables = [
        r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = 'build'").fetchall()
    ]
    con.execute(f"CREATE TABLE source_records AS {input_sql(person_feeds(tables), catalog='build')}").fetchall()
    db_api = DuckDBAPI(con)
    prepared = prepare_records(db_api=db_api, source_table="source_records")
    # The saved model's JSON, with the blocking rules the build used for this many records.
    records = int(con.execute("SELECT COUNT(*) FROM source_records").fetchall()[0][0])
    rules = model.spec.blocking_rules_for(records)
    splink_model = dict(
        model.splink_model,
        blocking_rules_to_generate_predictions=settings_creator(model.spec, blocking_rules=rules).create_settings_dict(
            "duckdb"
        )["blocking_rules_to_generate_predictions"],
    )
    started = time.perf_counter()
    linker = Linker(prepared, splink_model)
    predictions = linker.inference.predict(threshold_match_weight=threshold)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_weight=threshold
    )
    n = int(clusters.query_sql("SELECT COUNT(DISTINCT cluster_id) AS n FROM {this}").as_record_list()[0]["n"])
    seconds = time.perf_counter() - started
    con.close()
    shutil.rmtree(scratch.parent, ignore_errors=True)
    return seconds, n


def _blocking_completeness(con: Any, *, prepared: str, rules: Any, linear_rules: Any) -> dict[str, Any]:
    """The share of true pairs (two records of one person, in ``sweep_nodes.entity``) that some
    blocking rule proposes directly (not through a chain of other pairs), with the rules used at
    any size (``linear_rules``) alone, and each rule's own share."""
    from commonground.linkage.realtime import _key_sql
    from commonground.linkage.training import rule_text

    keys = ", ".join(f"{_key_sql(r)} AS k{i}" for i, r in enumerate(rules))
    con.execute(
        f"CREATE TEMP TABLE keyed AS SELECT n.node, n.entity, {keys} "
        f"FROM {prepared} AS p JOIN sweep_nodes AS n USING (unique_id)"
    ).fetchall()
    true_pairs = int(
        con.execute("SELECT SUM(c * (c - 1) / 2) FROM (SELECT COUNT(*) AS c FROM keyed GROUP BY entity)").fetchall()[0][
            0
        ]
    )
    per_rule = [
        f"SELECT a.node AS l, b.node AS r FROM keyed AS a JOIN keyed AS b ON a.entity = b.entity AND a.node < b.node "
        f"AND a.k{i} = b.k{i}"
        for i in range(len(rules))
    ]
    found = int(con.execute(f"SELECT COUNT(*) FROM ({' UNION '.join(per_rule)})").fetchall()[0][0])
    # The rules every size uses (past small_area_blocking.max_records, the only ones): what a larger
    # area of the same kind keeps.
    linear = [sql for rule, sql in zip(rules, per_rule, strict=True) if rule in linear_rules]
    found_linear = int(con.execute(f"SELECT COUNT(*) FROM ({' UNION '.join(linear)})").fetchall()[0][0])
    shares = {
        rule_text(rule): round(int(con.execute(f"SELECT COUNT(*) FROM ({sql})").fetchall()[0][0]) / true_pairs, 5)
        for rule, sql in zip(rules, per_rule, strict=True)
    }
    return {
        "true_pairs": true_pairs,
        "proposed": found,
        "completeness": round(found / true_pairs, 6),
        "completeness_linear_rules_only": round(found_linear / true_pairs, 6),
        "per_rule": shares,
    }


def _sweep(data_dir: Path, area: Path, *, floor: float) -> dict[str, Any]:
    """Pairwise precision and recall at every half point of match weight from ``floor`` to +30,
    scored once and clustered again at each threshold, all as arrays (1,000,000 people fit)."""
    from splink import DuckDBAPI

    from commonground.linkage.builds import require_current_build
    from commonground.linkage.evaluate import choose_threshold, sweep_table, threshold_sweep_arrays
    from commonground.linkage.pipeline import scratch_connection
    from commonground.linkage.predict import score
    from commonground.linkage.reports import model_of
    from commonground.linkage.sources import input_sql, person_feeds

    build = require_current_build(data_dir)
    model = model_of(data_dir, build)
    truth = area / "truth" / "records.csv"
    scratch = Path(tempfile.mkdtemp(prefix="bench-link-sweep-")) / "scratch"
    con = scratch_connection(scratch)
    con.execute(f"ATTACH '{build.database}' AS build (READ_ONLY)").fetchall()
    tables = [
        r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = 'build'").fetchall()
    ]
    con.execute(f"CREATE TABLE source_records AS {input_sql(person_feeds(tables), catalog='build')}").fetchall()
    # Every record numbered, with its true person as an integer (a record the truth does not know is
    # a person of its own).
    con.execute(
        "CREATE TABLE sweep_nodes AS SELECT s.unique_id, (ROW_NUMBER() OVER () - 1)::BIGINT AS node, "
        "DENSE_RANK() OVER (ORDER BY COALESCE('P' || t.person_id, 'R' || s.unique_id)) - 1 AS entity "
        "FROM source_records AS s LEFT JOIN read_csv("
        f"'{truth}', header = true, all_varchar = true) AS t ON t.feed || ':' || t.record_id = s.unique_id"
    ).fetchall()
    scored = score(
        model,
        db_api=DuckDBAPI(con),
        source_table="source_records",
        threshold_match_weight=floor,
        keep_pairs_below_threshold=False,
    )
    completeness = _blocking_completeness(
        con,
        prepared=scored.prepared.physical_name,
        rules=model.spec.blocking_rules_for(int(con.execute("SELECT COUNT(*) FROM sweep_nodes").fetchall()[0][0])),
        linear_rules=model.spec.blocking_rules,
    )
    edges = con.execute(
        f"SELECT l.node AS l, r.node AS r, p.match_weight AS w FROM {scored.predictions.physical_name} AS p "
        "JOIN sweep_nodes AS l ON l.unique_id = p.unique_id_l JOIN sweep_nodes AS r ON r.unique_id = p.unique_id_r"
    ).fetchnumpy()
    entity = con.execute("SELECT entity FROM sweep_nodes ORDER BY node").fetchnumpy()["entity"]
    con.close()
    shutil.rmtree(scratch.parent, ignore_errors=True)
    points = threshold_sweep_arrays(
        left=edges["l"],
        right=edges["r"],
        weights=edges["w"],
        truth_codes=entity,
        thresholds=sorted({x / 2 for x in range(int(floor * 2), 61)} | {model.spec.default_threshold_match_weight}),
    )
    chosen = choose_threshold(points, min_precision=0.9995)
    best = choose_threshold(points)
    default = next(p for p in points if p.threshold_match_weight == model.spec.default_threshold_match_weight)
    return {
        "blocking_completeness": completeness,
        "default": {
            "threshold_match_probability": model.spec.threshold_match_probability,
            "threshold": default.threshold_match_weight,
            "precision": default.precision,
            "recall": default.recall,
            "f1": default.f1,
        },
        "table": sweep_table(points),
        "chosen": {
            "threshold": chosen.threshold_match_weight,
            "precision": chosen.precision,
            "recall": chosen.recall,
            "f1": chosen.f1,
        },
        "best_f1": {
            "threshold": best.threshold_match_weight,
            "precision": best.precision,
            "recall": best.recall,
            "f1": best.f1,
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--work", type=Path, default=None, help="Keep the area and data here (default: temporary).")
    parser.add_argument("--sweep", action="store_true", help="Also sweep the threshold against the truth.")
    parser.add_argument(
        "--sweep-from", type=float, default=-2.0, help="The sweep's lowest threshold (pairs below it are not kept)."
    )
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--repeat", type=int, default=1, help="Link builds and bare Splink runs, alternated.")
    parser.add_argument("--reuse-model", action="store_true", help="Skip training when WORK has a model.")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-link-"))
    area, data_dir = work / "area", work / "data"

    from commonground.linkage.builds import require_current_build
    from commonground.linkage.pipeline import build_from_store
    from commonground.linkage.reports import evaluate_build, model_of

    synth_s = ingest_s = 0.0
    if not (data_dir / "analytical" / "ingest.duckdb").exists():  # else reuse the area already ingested in WORK
        started = time.perf_counter()
        _cli("synth", "--out", str(area), "--people", str(args.people), "--seed", str(args.seed))
        synth_s = time.perf_counter() - started
        started = time.perf_counter()
        _cli("--data-dir", str(data_dir), "ingest", str(area), check=False)
        ingest_s = time.perf_counter() - started

    # Training in a child process, so this process's peak RSS is the link build's own.
    started = time.perf_counter()
    if not (args.reuse_model and any((data_dir / "analytical" / "models").glob("*.json"))):
        _cli("--data-dir", str(data_dir), "link", "--train")
    train_s = round(time.perf_counter() - started, 2)
    link_runs: list[float] = []
    bare_runs: list[float] = []
    link_cpu: list[float] = []
    bare_cpu: list[float] = []
    rss = 0.0
    for _ in range(args.repeat):  # alternated, so a busy spell on the machine falls on both sides
        stages: dict[str, list[float]] = {}

        def timed(stage: str, done: int, total: int | None, stages: dict[str, list[float]] = stages) -> None:
            stages.setdefault(stage, [time.perf_counter(), 0.0])[1] = time.perf_counter()

        cpu = time.process_time()  # this process, every thread: robust to other work on the machine
        built = build_from_store(data_dir=data_dir, on_progress=timed)
        stage_seconds = {k: round(end - start, 1) for k, (start, end) in stages.items()}
        link_cpu.append(round(time.process_time() - cpu, 1))
        link_runs.append(built.seconds)
        rss = rss or _peak_rss_mb()  # the first build's peak, before bare Splink runs here
        build = require_current_build(data_dir)
        model = model_of(data_dir, build)
        cpu = time.process_time()
        bare_s, bare_clusters = _bare_splink(build.database, model, built.threshold_match_weight)
        bare_cpu.append(round(time.process_time() - cpu, 1))
        bare_runs.append(round(bare_s, 2))
    evaluation = evaluate_build(data_dir=data_dir, truth_dir=area)
    p = evaluation.pairwise
    result: dict[str, Any] = {
        "people": args.people,
        "records": built.records,
        "persons": built.persons,
        "links": built.links,
        "households": built.households,
        "threshold": built.threshold_match_weight,
        "blocking_rules": len(build.info["blocking_rules"]),
        "synth_seconds": round(synth_s, 1),
        "ingest_seconds": round(ingest_s, 1),
        "train_build_seconds": train_s,
        "link_build_seconds": link_runs,
        "bare_splink_seconds": bare_runs,
        "bare_splink_clusters": bare_clusters,
        "ratio_to_bare_splink": round(statistics.median(link_runs) / statistics.median(bare_runs), 2),
        "link_build_cpu_seconds": link_cpu,
        "link_build_stage_seconds": stage_seconds,
        "bare_splink_cpu_seconds": bare_cpu,
        "cpu_ratio_to_bare_splink": round(statistics.median(link_cpu) / statistics.median(bare_cpu), 2),
        "load_average_after": [round(x, 1) for x in os.getloadavg()],
        "peak_rss_mb_link_build": round(rss),
        "precision": round(p.precision, 5),
        "recall": round(p.recall, 5),
        "f1": round(p.f1, 5),
        "false_links": p.false_positives,
        "missed_links": p.false_negatives,
        "merged_clusters": evaluation.clusters.merged_clusters,
        "split_entities": evaluation.clusters.split_entities,
        "person_ids_second_build": built.person_ids,
    }
    if args.sweep:
        result["sweep"] = _sweep(data_dir, area, floor=args.sweep_from)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    for key, value in result.items():
        if key == "sweep":
            print(value["table"])
            print("blocking completeness:", value["blocking_completeness"])
            print("the model's default threshold:", value["default"])
            print("chosen (min precision 0.9995):", value["chosen"])
            print("best F1:", value["best_f1"])
        else:
            print(f"{key:28} {value}")


if __name__ == "__main__":
    main()
