"""Benchmark ``commonground.synth.generate``: wall time, CPU time, rows per second and peak memory.

Each size runs in a fresh subprocess, so its peak resident memory is its own (read from
``getrusage`` in the child). CPU seconds are printed too: on a shared machine they say more
about the code than the wall clock does.

    uv run python benchmarks/bench_synth.py --people 100000 1000000 [--seed 1] [--noise harsh] [--out /tmp/bench]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = """
import json, resource, sys, time
from pathlib import Path
from commonground.synth import generate
people, seed, out, noise = int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3]), sys.argv[4]
t0 = time.perf_counter()
summary = generate(people=people, seed=seed, out=out, noise=noise)
wall = time.perf_counter() - t0
usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({
    "people": people, "people_ever": summary.people, "households": summary.households, "rows": summary.total_rows,
    "wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime, "peak_rss_mb": usage.ru_maxrss / 1024,
    "bytes": sum(p.stat().st_size for p in out.rglob("*") if p.is_file()),
}))
"""


def run(people: int, seed: int, out: Path, noise: str = "default") -> dict[str, float]:
    if out.exists():
        shutil.rmtree(out)
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(people), str(seed), str(out), noise],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, nargs="+", default=[100_000])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--noise", default="default", help="noise profile: default or harsh")
    parser.add_argument("--out", type=Path, default=None, help="where to write (default: a temporary folder)")
    args = parser.parse_args()
    base = args.out or Path(tempfile.mkdtemp(prefix="bench_synth_"))
    print(f"{'people':>10} {'rows':>11} {'wall s':>8} {'cpu s':>8} {'rows/s':>10} {'peak MB':>8} {'output MB':>9}")
    for people in args.people:
        r = run(people, args.seed, base / f"area_{people}", args.noise)
        print(
            f"{people:>10,} {r['rows']:>11,} {r['wall_s']:>8.1f} {r['cpu_s']:>8.1f} "
            f"{r['rows'] / r['wall_s']:>10,.0f} {r['peak_rss_mb']:>8,.0f} {r['bytes'] / 1e6:>9,.0f}",
            flush=True,
        )
    if args.out is None:
        shutil.rmtree(base)


if __name__ == "__main__":
    main()
