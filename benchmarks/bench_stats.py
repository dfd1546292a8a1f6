"""Time `commonground stats` (every published table, disclosure-controlled) on a linked synthetic area.

    uv run python benchmarks/bench_stats.py --persons 100000
    uv run python benchmarks/bench_stats.py --data-dir DIR      # a data directory with a current build

Unlike bench_rules (a build synthesised straight into tables, with no postcodes), the statistics need what
only the real chain gives: postcodes, small areas and deprivation deciles, police roles and every feed. So
the area is made by synth, ingest, linkage and the rules (``benchmarks/out/stats-area-<persons>/``, kept and
reused: linking 100,000 people takes a few minutes), and only ``run_stats`` is timed, in a fresh process
so its peak RSS is its own. Figures go to stdout and to ``benchmarks/out/stats-<persons>.json``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

OUT = Path(__file__).parent / "out"


def make_area(persons: int, root: Path, *, seed: int) -> Path:
    """The data directory of a linked synthetic area with the rules run (made once, then reused)."""
    from commonground.ingest import ingest_directory
    from commonground.linkage.builds import require_current_build
    from commonground.linkage.pipeline import build_from_store
    from commonground.rules import run_rules
    from commonground.synth import generate

    data = root / "data"
    if not (data / "analytical" / "builds" / "CURRENT").exists():
        generate(people=persons, seed=seed, out=root / "area", on_progress=None)
        ingest_directory(source=root / "area", data_dir=data, on_progress=None)
        build_from_store(data_dir=data, on_progress=None)
    build = require_current_build(data)
    if not (build.path / "rules.duckdb").exists():
        run_rules(build_dir=build.path)
    return data


def run_only(data_dir: Path, out_dir: Path) -> None:
    from commonground.linkage.builds import require_current_build
    from commonground.stats import run_stats

    build = require_current_build(data_dir)
    started = time.perf_counter()
    result = run_stats(build_dir=build.path, out_dir=out_dir)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "seconds": round(seconds, 2),
                "peak_rss_mib": round(peak),
                "tables": result.tables,
                "figures": result.figures,
                "hidden": result.hidden,
                "build_id": result.build_id,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--data-dir", type=Path, default=None, help="Use this data directory's current build.")
    parser.add_argument("--run-only", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run_only:
        run_only(args.run_only, args.out)
        return
    started = time.perf_counter()
    data_dir = args.data_dir or make_area(args.persons, OUT / f"stats-area-{args.persons}", seed=args.seed)
    prepared = time.perf_counter() - started
    out_dir = OUT / f"stats-tables-{args.persons}"
    child = subprocess.run(
        [sys.executable, __file__, "--run-only", str(data_dir), "--out", str(out_dir)],
        check=True,
        capture_output=True,
        text=True,
    )
    figures = json.loads(child.stdout.strip().splitlines()[-1])
    figures.update(
        persons=args.persons,
        prepare_seconds=round(prepared, 1),
        measured_at=datetime.now().isoformat(timespec="seconds"),
    )
    OUT.mkdir(exist_ok=True)
    (OUT / f"stats-{args.persons}.json").write_text(json.dumps(figures, indent=2), encoding="utf-8")
    print(
        f"run_stats on {args.persons:,} persons (build {figures['build_id']}): {figures['seconds']} s, "
        f"peak RSS {figures['peak_rss_mib']:,} MiB; {figures['tables']} tables, {figures['figures']:,} figures, "
        f"{figures['hidden']:,} hidden; tables in {out_dir}"
    )


if __name__ == "__main__":
    main()
