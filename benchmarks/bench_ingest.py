"""Benchmark: synthesise an area (or take a folder of extracts) and ingest it.

    uv run python benchmarks/bench_ingest.py 100000 1000000        # people per area
    uv run python benchmarks/bench_ingest.py --source DIR           # ingest an existing folder
    uv run python benchmarks/bench_ingest.py 100000 --generator rowgen
    uv run python benchmarks/bench_ingest.py --source DIR --src /tmp/old/src   # an earlier copy of the code

Each phase runs in its own process so that its wall time and peak memory (max RSS) are its own. Ingest is
``commonground ingest --json`` run as a practitioner runs it, in a child process: its wall time, CPU time and peak
RSS are the child's and its children's (``os.wait4``), so nothing the benchmark itself holds is counted. ``--src``
puts an earlier copy of ``src/`` first on the child's path, to measure the code before a change in the same
session as after it (the machine is shared, so only figures from one session compare fairly).
The generator is ``commonground.synth`` when it is installed, else the ingest tests' own row
generator (``tests/ingest/rowgen.py``: valid rows with 1 % broken cells, no people behind them).
Output goes to ``benchmarks/out/`` (git-ignored) unless ``--out`` says otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

_PHASE = textwrap.dedent("""
    import json, resource, sys, time
    from pathlib import Path
    started = time.perf_counter()
    result = {}
    exec(sys.argv[1])
    result["seconds"] = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result["peak_rss_mb"] = usage.ru_maxrss / 1024
    result["cpu_seconds"] = usage.ru_utime + usage.ru_stime
    print("BENCH " + json.dumps(result), flush=True)
""")

_SYNTH = """
from commonground.synth import generate
generate(people={people}, seed={seed}, out=Path({out!r}))
"""

_ROWGEN = """
sys.path.insert(0, {tests!r})
import rowgen
rowgen.write_area(Path({out!r}), people={people}, seed={seed}, defect_rate=0.01)
"""


def _phase(code: str) -> dict[str, object]:
    done = subprocess.run([sys.executable, "-c", _PHASE, code], capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"phase failed ({done.returncode})")
    line = next(x for x in done.stdout.splitlines() if x.startswith("BENCH "))
    return dict(json.loads(line[len("BENCH ") :]))


def _ingest(source: Path, data: Path, src: Path | None) -> dict[str, object]:
    """``commonground ingest`` in a child process: its summary, with wall and CPU seconds and peak RSS (MB) of the
    child and everything it started."""
    launch = "import sys; sys.argv[0] = 'commonground'; from commonground.cli import main; main()"
    command = [sys.executable, "-c", launch, "--data-dir", str(data), "ingest", "--json", str(source)]
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(src.resolve()), env.get("PYTHONPATH")]))
    with tempfile.TemporaryFile() as output, tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        child = subprocess.Popen(command, stdout=output, stderr=errors, cwd=ROOT, env=env)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        output.seek(0)
        errors.seek(0)
        printed, complaint = output.read().decode(), errors.read().decode()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.stderr.write(complaint)
        raise SystemExit(f"ingest failed ({os.waitstatus_to_exitcode(status)})")
    document = json.loads(printed)
    files = document["files"]
    result: dict[str, object] = {
        key: sum(int(f.get(key) or 0) for f in files)
        for key in ("rows_read", "rows_accepted", "rows_quarantined", "warnings")
    }
    result["feeds"] = {f["file"]: f["rows_read"] for f in files}
    result["seconds"] = seconds
    result["cpu_seconds"] = usage.ru_utime + usage.ru_stime
    result["peak_rss_mb"] = usage.ru_maxrss / 1024
    return result


def _generator(choice: str) -> str:
    if choice != "auto":
        return choice
    try:
        from commonground.synth import generate  # noqa: F401
    except ImportError:
        return "rowgen"
    return "synth"


def _size(path: Path) -> float:
    return sum(p.stat().st_size for p in path.iterdir() if p.is_file()) / 2**20


def run(people: int, *, seed: int, out: Path, generator: str, keep: bool, src: Path | None) -> dict[str, object]:
    area = out / f"area-{people}"
    data = out / f"data-{people}"
    shutil.rmtree(area, ignore_errors=True)
    shutil.rmtree(data, ignore_errors=True)
    template = _SYNTH if generator == "synth" else _ROWGEN
    made = _phase(template.format(people=people, seed=seed, out=str(area), tests=str(ROOT / "tests" / "ingest")))
    ingested = _ingest(area, data, src)
    rows = int(ingested["rows_read"])  # type: ignore[call-overload]
    seconds = float(ingested["seconds"])  # type: ignore[arg-type]
    report = {
        "people": people,
        "generator": generator,
        "csv_mb": round(_size(area), 1),
        "generate_seconds": round(float(made["seconds"]), 1),  # type: ignore[arg-type]
        "generate_peak_rss_mb": round(float(made["peak_rss_mb"])),  # type: ignore[arg-type]
        "rows": rows,
        "rows_accepted": ingested["rows_accepted"],
        "rows_quarantined": ingested["rows_quarantined"],
        "warnings": ingested["warnings"],
        "ingest_seconds": round(seconds, 1),
        "rows_per_second": round(rows / seconds),
        "ingest_cpu_seconds": round(float(ingested["cpu_seconds"]), 1),  # type: ignore[arg-type]
        "load_average": round(os.getloadavg()[0], 1),
        "ingest_peak_rss_mb": round(float(ingested["peak_rss_mb"])),  # type: ignore[arg-type]
        "store_mb": round((data / "analytical" / "ingest.duckdb").stat().st_size / 2**20, 1),
        "largest_feed": max(ingested["feeds"].items(), key=lambda kv: kv[1]),  # type: ignore[attr-defined]
    }
    if not keep:
        shutil.rmtree(area, ignore_errors=True)
        shutil.rmtree(data, ignore_errors=True)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("people", nargs="*", type=int, default=[100_000])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=HERE / "out")
    parser.add_argument("--generator", choices=["auto", "synth", "rowgen"], default="auto")
    parser.add_argument("--source", type=Path, help="ingest this folder instead of generating one")
    parser.add_argument("--keep", action="store_true", help="keep the generated files and the store")
    parser.add_argument("--src", type=Path, help="run ingest from this copy of src/ (to measure earlier code)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.source:
        data = args.out / "data-source"
        shutil.rmtree(data, ignore_errors=True)
        result = _ingest(args.source.resolve(), data, args.src)
        result["rows_per_second"] = round(int(result["rows_read"]) / float(result["seconds"]))  # type: ignore[call-overload, arg-type]
        result["load_average"] = round(os.getloadavg()[0], 1)
        print(json.dumps(result, indent=2))
        print(
            f"ingest of {args.source.name}: {result['rows_read']:,} rows in {result['seconds']:.1f} s wall, "
            f"{result['cpu_seconds']:.1f} s CPU, peak RSS {result['peak_rss_mb']:,.0f} MB "
            f"(load average {result['load_average']})",
            flush=True,
        )
        shutil.rmtree(data, ignore_errors=True)
        return
    generator = _generator(args.generator)
    for people in args.people:
        report = run(people, seed=args.seed, out=args.out, generator=generator, keep=args.keep, src=args.src)
        print(json.dumps(report), flush=True)
        print(
            f"{people:>9,} people ({generator}): {report['rows']:,} rows, {report['csv_mb']} MB of CSV; "
            f"generate {report['generate_seconds']} s; ingest {report['ingest_seconds']} s = "
            f"{report['rows_per_second']:,} rows/s ({report['ingest_cpu_seconds']} s CPU), "
            f"peak {report['ingest_peak_rss_mb']} MB; load average {report['load_average']}",
            flush=True,
        )


if __name__ == "__main__":
    main()
