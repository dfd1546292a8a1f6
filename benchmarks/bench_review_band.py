"""What the review band is worth: its pairs against a synthetic area's truth, and the build's pairwise precision and
recall if people decided every pair rightly (one round: each accepted pair joins its two people).

    .venv/bin/python benchmarks/bench_review_band.py --data-dir DATA --truth AREA [--json]

DATA holds a current build written with the review band (``commonground link``); AREA is the synthetic area it
was ingested from. Prints the band's pairs by whole match weight with the share that are the same person, then
precision and recall as built, with every band pair decided rightly, and with every band pair accepted blindly.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import duckdb
import numpy as np

from commonground.linkage.builds import require_current_build
from commonground.linkage.components import component_labels
from commonground.linkage.evaluate import pairwise_scores


def _scores(labels: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    s = pairwise_scores(labels, truth)
    return {"precision": round(s.precision, 5), "recall": round(s.recall, 5), "f1": round(s.f1, 5)}


def measure(data_dir: Path, area: Path) -> dict[str, Any]:
    build = require_current_build(data_dir)
    con = duckdb.connect()
    con.execute(f"ATTACH '{build.database}' AS b (READ_ONLY)")
    con.execute(
        "CREATE TABLE t AS SELECT feed || ':' || record_id AS u, person_id AS truth FROM read_csv("
        f"'{area / 'truth' / 'records.csv'}', header = true, all_varchar = true)"
    )
    con.execute(
        "CREATE TABLE r AS SELECT p.feed || ':' || p.record_id AS u, p.person_id, t.truth, "
        "(ROW_NUMBER() OVER (ORDER BY p.feed, p.record_id) - 1)::BIGINT AS node FROM b.person_records AS p "
        "JOIN t ON t.u = p.feed || ':' || p.record_id"
    )
    band = con.execute(
        "SELECT FLOOR(c.match_weight)::INTEGER AS w, COUNT(*) AS pairs, "
        "ROUND(AVG(CASE WHEN l.truth = r.truth THEN 1 ELSE 0 END), 3) AS same_person "
        "FROM b.review_candidates AS c JOIN r AS l ON l.u = c.unique_id_l JOIN r AS r ON r.u = c.unique_id_r "
        "GROUP BY 1 ORDER BY 1"
    ).fetchall()
    pairs = con.execute(
        "SELECT l.node AS l, r.node AS r, l.truth = r.truth AS same FROM b.review_candidates AS c "
        "JOIN r AS l ON l.u = c.unique_id_l JOIN r AS r ON r.u = c.unique_id_r"
    ).fetchnumpy()
    rows = con.execute("SELECT person_id, truth FROM r ORDER BY node").fetchnumpy()
    con.close()
    persons = np.unique(rows["person_id"], return_inverse=True)[1].reshape(-1)
    truth = rows["truth"]
    nodes = len(persons)
    # Each record joined to the first record of its person, then the accepted band pairs.
    order = np.argsort(persons, kind="stable")
    first = np.zeros(int(persons.max()) + 1 if nodes else 0, dtype=np.int64)
    first[persons[order[::-1]]] = order[::-1]
    left, right = first[persons], np.arange(nodes)

    def joined(accept: np.ndarray) -> np.ndarray:
        _, labels = component_labels(
            np.concatenate([left, pairs["l"][accept]]), np.concatenate([right, pairs["r"][accept]]), nodes=nodes
        )
        return labels

    same = pairs["same"].astype(bool)
    return {
        "build_id": build.build_id,
        "band": build.info.get("review_band"),
        "pairs": len(same),
        "same_person": int(same.sum()),
        "by_weight": [{"weight_from": w, "pairs": n, "same_person": float(s)} for w, n, s in band],
        "as_built": _scores(persons, truth),
        "decided_rightly": _scores(joined(same), truth),
        "accepted_blindly": _scores(joined(np.ones(len(same), dtype=bool)), truth),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--truth", type=Path, required=True, help="The synthetic area (with truth/).")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = measure(args.data_dir, args.truth)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"build {result['build_id']}; band {result['band']}")
    print(f"{result['pairs']:,} pairs in the band, {result['same_person']:,} the same person")
    for row in result["by_weight"]:
        print(f"  from {row['weight_from']:+d}: {row['pairs']:>6,} pairs, {row['same_person']:.1%} the same person")
    for key in ("as_built", "decided_rightly", "accepted_blindly"):
        s = result[key]
        print(f"{key:<17} precision {s['precision']:.5f}  recall {s['recall']:.5f}  F1 {s['f1']:.5f}")


if __name__ == "__main__":
    main()
