"""Faults as a suite (#18): kill -9 at random points of every stage, PostgreSQL stopped and started under load, the
disk filling during ingest and a build, and the SMTP server down for an hour of notices on a simulated clock.

    .venv/bin/python benchmarks/faults.py                       # everything, 20 kill trials a stage
    .venv/bin/python benchmarks/faults.py --trials 3 --only kill
    .venv/bin/python benchmarks/faults.py --only kill --stages sync,sync-pg
    .venv/bin/python benchmarks/faults.py --only postgres,disk,smtp --cycles 5

Each stage runs as a real subprocess (``commonground --data-dir DIR ...``) on a 2,000-person synthetic area and is
sent SIGKILL after a delay drawn from a seeded RNG; then the data directory is checked (the last complete build in
place, nothing half-loaded: every store is as it was before the run or as a clean run leaves it), the stage is run
again to the end and its outputs compared with a clean run's (person ids included). The disk trials need root (to
mount a tmpfs); the PostgreSQL stop-and-start trials make a private cluster with ``initdb`` on a port of their
own, never the shared server; the ``hub sync`` kill trials on PostgreSQL (``sync-pg``) make a database for each
run on the server of ``COMMONGROUND_TEST_POSTGRES_URL`` (default: the local one) and drop them all at the end.
Figures are printed as Markdown tables (docs/reliability.md holds the last run's). The short form of every trial
runs in the test suite (``tests/faults/``), through the functions here.

This module is the script and its report; each kind of trial is a module of its own: ``faults_common`` (running
commands, fingerprints of a data directory, what killed runs leave), ``faults_area`` (the area and each stage's
starting state), ``faults_kill``, ``faults_load`` (PostgreSQL stopped and started), ``faults_disk`` and
``faults_smtp``. The names the tests use are re-exported here.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from faults_area import Area, PostgresStores, copy_state, prepare_area, seed_partnership_into
from faults_common import CLI, PG_ADMIN, SECRET, cli_env, current_build, fingerprint, leftovers, run_cli
from faults_disk import can_mount, disk_trial
from faults_kill import CI_STAGES, STAGES, Reference, Stage, Trial, clean_run, kill_trials
from faults_load import free_port, postgres_bin, postgres_trials
from faults_smtp import _expected_attempts, smtp_outage

__all__ = [
    "CI_STAGES",
    "CLI",
    "PG_ADMIN",
    "SECRET",
    "STAGES",
    "Area",
    "PostgresStores",
    "Reference",
    "Stage",
    "Trial",
    "_expected_attempts",
    "can_mount",
    "clean_run",
    "cli_env",
    "copy_state",
    "current_build",
    "disk_trial",
    "fingerprint",
    "free_port",
    "kill_trials",
    "leftovers",
    "postgres_bin",
    "postgres_trials",
    "prepare_area",
    "run_cli",
    "seed_partnership_into",
    "smtp_outage",
]
"""What the tests (``tests/faults/``) and the soak (``soak.py``) use, from the modules of each kind of trial."""


def _table(headings: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(headings) + " |", "|" + "|".join("---:" for _ in headings) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def kill_rows(outcomes: dict[str, tuple[Reference, list[Trial]]]) -> list[list[Any]]:
    rows = []
    for key, (ref, trials) in outcomes.items():
        killed = [t for t in trials if t.killed]
        states = Counter(t.after_kill for t in killed)
        reruns = [t.rerun_seconds for t in trials if t.rerun_seconds is not None]
        rows.append(
            [
                STAGES[key].name,
                len(trials),
                len(killed),
                _delays(key, trials),
                states.get("as before", 0),
                states.get("as a clean run", 0),
                states.get("each store as before or as after", 0),
                sum(1 for t in trials if t.problems),
                sum(t.leftovers for t in trials),
                f"{ref.seconds:.1f} s",
                f"{sum(reruns) / len(reruns):.1f} s" if reruns else "",
            ]
        )
    return rows


def _delays(key: str, trials: list[Trial]) -> str:
    low, high = min(t.delay for t in trials), max(t.delay for t in trials)
    if STAGES[key].trigger is not None:
        return f"{low * 1000:.0f}-{high * 1000:.0f} ms after build.json"
    return f"{low:.1f}-{high:.1f} s"


KILL_HEADINGS = [
    "stage",
    "trials",
    "killed",
    "kill after",
    "left as before",
    "left as a clean run",
    "view laid out, store as before",
    "failed",
    "half-written files left",
    "clean run",
    "rerun (mean)",
]


def report_kill(area: Area, *, trials: int, seed: int, work: Path, stages: list[str]) -> int:
    rng = random.Random(seed)
    outcomes = {}
    failures = 0
    for key in stages:
        outcomes[key] = kill_trials(area, key, trials=trials, rng=rng, work=work)
        for trial in outcomes[key][1]:
            if trial.problems:
                failures += 1
                said = "; ".join(p[-400:] for p in trial.problems)
                print(f"  FAILED {trial.stage} after {trial.delay:.2f} s: {said}", flush=True)
        print("  " + " | ".join(str(c) for c in kill_rows({key: outcomes[key]})[0]), flush=True)
    print("\n## kill -9\n\n" + _table(KILL_HEADINGS, kill_rows(outcomes)), flush=True)
    return failures


def report_postgres(area: Area, *, cycles: int, work: Path) -> int:
    figures = postgres_trials(copy_state(area.states["sync"], work / "pg-data"), cycles=cycles)
    recovery = ", ".join(f"{s:.2f} s" for s in figures.recovery_seconds)
    answers = dict(sorted(figures.statuses.items()))
    headings = ["cycles", "requests", "answers", "writes acknowledged", "lost", "stored, not acknowledged"]
    headings += ["first write served after the start", "problems"]
    row = [figures.cycles, figures.requests, answers, figures.writes_acknowledged, figures.writes_lost]
    row += [figures.stored_unacknowledged, recovery, figures.problems or "none"]
    print("\n## PostgreSQL stopped and started\n\n" + _table(headings, [row]), flush=True)
    return int(bool(figures.problems))


def report_disk(area: Area, *, work: Path) -> int:
    why = can_mount()
    if why is not None:
        print(f"\n## disk full: not run ({why})", flush=True)
        return 0
    rows = []
    failures = 0
    for key, frees in (("ingest", (0.25, 0.5, 1, 2, 4)), ("link", (1, 4, 8, 16, 32))):
        ref = clean_run(area, key, work)
        for free in frees:
            t = disk_trial(area, key, free, ref)
            failures += bool(t.problems)
            traceback = "yes" if t.traceback else "no"
            rows.append([t.stage, f"{free} MB", t.exit_code, t.message or "(none)", traceback, t.state, t.problems])
    headings = ["stage", "free", "exit", "last line on stderr", "traceback", "left", "problems"]
    print("\n## disk full (tmpfs)\n\n" + _table(headings, rows), flush=True)
    return failures


def report_smtp(area: Area, *, work: Path) -> int:
    synced = copy_state(area.states["sync"], work / "smtp-data")
    run_cli(synced, "hub", "sync")
    smtp = smtp_outage(synced)
    tries = dict(sorted(smtp.attempts_per_message.items()))
    headings = ["messages", "failed attempts", "delivered", "delivered twice", "lost", "tries per message"]
    row = [smtp.messages, smtp.failed_attempts, smtp.delivered, smtp.delivered_twice, smtp.lost, tries]
    print("\n## SMTP down for an hour (simulated clock)\n\n" + _table([*headings, "problems"], [[*row, smtp.problems]]))
    return int(bool(smtp.problems))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--trials", type=int, default=20, help="kill trials per stage")
    parser.add_argument("--cycles", type=int, default=5, help="PostgreSQL stops and starts")
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=18, help="the RNG of the kill delays")
    parser.add_argument("--only", default="kill,postgres,disk,smtp")
    parser.add_argument("--stages", default=",".join(STAGES), help="the stages of the kill trials")
    parser.add_argument("--work", type=Path, default=None, help="work folder (default: a temporary one)")
    args = parser.parse_args()
    parts = set(args.only.split(","))
    work = args.work or Path(tempfile.mkdtemp(prefix="cg-faults-"))
    started = time.perf_counter()
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    print(f"# faults: {when}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}, work in {work}")
    area = prepare_area(work, people=args.people)
    took = time.perf_counter() - started
    print(
        f"area of {args.people:,} people ready in {took:.0f} s "
        f"(the first link, with training: {area.seconds['link']:.1f} s)"
    )
    failures = 0
    try:
        if "kill" in parts:
            stages = args.stages.split(",")
            failures += report_kill(area, trials=args.trials, seed=args.seed, work=work, stages=stages)
        if "postgres" in parts:
            failures += report_postgres(area, cycles=args.cycles, work=work)
        if "disk" in parts:
            failures += report_disk(area, work=work)
        if "smtp" in parts:
            failures += report_smtp(area, work=work)
    finally:
        area.close()
    print(f"\n{failures} failures; {time.perf_counter() - started:.0f} s in all, load average {os.getloadavg()[0]:.1f}")
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
