"""``kill -9`` at random points of a stage (#18): the stages, a clean run of each, the trials and their checks."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from faults_area import copy_state
from faults_common import CLI, audit_whole, builds_root, cli_env, current_build, fingerprint, leftovers, run_cli

if TYPE_CHECKING:
    from faults_area import Area


def publishing(data_dir: Path, current: str | None) -> bool:
    """A build is being published: its folder, still ``.tmp-``, holds ``build.json`` (written just before the
    rename), or ``CURRENT`` already names another build."""
    root = builds_root(data_dir)
    if any((folder / "build.json").exists() for folder in root.glob(".tmp-*")):
        return True
    build = current_build(data_dir)
    return (build.name if build else None) != current


@dataclass(frozen=True)
class Stage:
    name: str
    state: str
    command: Callable[[Area], list[str]]
    window: tuple[float, float] = (0.0, 1.0)
    """Where the kill falls: fractions of the stage's clean duration, or with ``trigger``, seconds after it."""
    trigger: Callable[[Path, str | None], bool] | None = None
    """Watched every millisecond (with the data directory and the build current before): the delay starts when it
    holds."""
    postgres: bool = False
    """The operational store on PostgreSQL (a fresh database for every run: :meth:`Area.store_for`)."""


STAGES = {
    "ingest": Stage("ingest", "ingest", lambda a: ["ingest", str(a.feeds)]),
    "link": Stage("link", "link", lambda a: ["link"]),
    "flag": Stage("rules (flag)", "flag", lambda a: ["flag"]),
    "sync": Stage("hub sync", "sync", lambda a: ["hub", "sync"]),
    "sync-pg": Stage("hub sync (PostgreSQL)", "sync", lambda a: ["hub", "sync"], postgres=True),
    "late-link": Stage("end of link (last 15 %)", "link", lambda a: ["link"], window=(0.85, 1.02)),
    "publish": Stage("publish (at build.json)", "link", lambda a: ["link"], window=(0.0, 0.02), trigger=publishing),
}
CI_STAGES = ("ingest", "link", "flag", "sync", "publish")
"""The stages the test suite kills (``sync-pg`` too, where a PostgreSQL server is reachable)."""


@dataclass
class Trial:
    stage: str
    delay: float
    killed: bool
    """False when the stage finished before its kill came."""
    after_kill: str
    """What the kill left: ``as before`` or ``as a clean run`` (never anything between)."""
    problems: list[str]
    leftovers: int
    rerun_seconds: float | None


@dataclass
class Reference:
    before: dict[str, Any]
    after: dict[str, Any]
    seconds: float
    current_before: str | None


def clean_run(area: Area, key: str, work: Path) -> Reference:
    """The stage run once, unharmed, from its state: what every rerun must equal."""
    stage = STAGES[key]
    cached = (stage.state, *stage.command(area), *(["postgres"] if stage.postgres else []))
    if cached in area.clean:
        return area.clean[cached]
    state = area.states[stage.state]
    target = copy_state(state, work / f"clean-{key}")
    url = area.store_for(stage)
    before = fingerprint(target, url)
    seconds = run_cli(target, *stage.command(area), env=store_env(url))
    after = fingerprint(target, url)
    build = current_build(state)
    shutil.rmtree(target)
    area.clean[cached] = Reference(before, after, seconds, build.name if build else None)
    return area.clean[cached]


def store_env(url: str | None) -> dict[str, str]:
    """The environment of a command on the operational store at ``url`` (None: the data directory's SQLite)."""
    return cli_env(COMMONGROUND_DATABASE_URL=url) if url else cli_env()


def _check_after_kill(data_dir: Path, ref: Reference, url: str | None = None) -> tuple[str, list[str]]:
    problems: list[str] = []
    try:
        now = fingerprint(data_dir, url)
    except Exception as error:  # a store that cannot be read is the failure this looks for
        return "unreadable", [f"cannot read the data directory: {type(error).__name__}: {error}"]
    build = current_build(data_dir)
    name = build.name if build else None
    if now == ref.before and name == ref.current_before:
        state = "as before"
    elif now == ref.after:
        state = "as a clean run"
    else:
        state = "each store as before or as after"  # hub sync lays out its person view before its transaction
        for part in now:
            if now[part] not in (ref.before[part], ref.after[part]):
                state = "between"
                problems.append(f"{part} is neither as before nor as after a clean run")
    if name != ref.current_before and (build is None or not (build / "build.json").exists()):
        problems.append(f"CURRENT names {name}, not a complete build")
    if not audit_whole(data_dir, url):
        problems.append("the audit chain does not verify")
    return state, problems


def kill_trials(
    area: Area, key: str, *, trials: int, rng: random.Random, work: Path, rerun_each: bool = True
) -> tuple[Reference, list[Trial]]:
    """``trials`` runs of a stage, each killed after a random delay and checked; with ``rerun_each`` each is run
    again to the end and compared with a clean run, else the kills follow one another on one data directory
    (each from what the one before left) and it is run again once, at the end (the short form for CI)."""
    stage = STAGES[key]
    ref = clean_run(area, key, work)
    duration = ref.seconds  # the clean run's, from the same state (the first link of the area also trained)
    results: list[Trial] = []
    target = work / f"trial-{key}"
    url: str | None = None
    for number in range(trials):
        if rerun_each or number == 0:
            copy_state(area.states[stage.state], target)
            url = area.store_for(stage)
        delay = rng.uniform(*stage.window) * (duration if stage.trigger is None else 1.0)
        current = current_build(target)
        child = subprocess.Popen(
            [CLI, "--data-dir", str(target), *stage.command(area)],
            env=store_env(url),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if stage.trigger is not None:
            while child.poll() is None and not stage.trigger(target, current.name if current else None):
                time.sleep(0.001)
        killed = _kill_after(child, delay)
        state, problems = _check_after_kill(target, ref, url)
        left = len(leftovers(target))
        rerun: float | None = None
        if rerun_each or number == trials - 1:
            rerun, more = _rerun(area, stage, target, ref, url)
            problems += more
        results.append(Trial(stage.name, delay, killed, state, problems, left, rerun))
    shutil.rmtree(target, ignore_errors=True)
    return ref, results


def _kill_after(child: subprocess.Popen[bytes], delay: float) -> bool:
    """SIGKILL ``child`` after ``delay`` seconds; False when it ended first."""
    try:
        child.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        return True
    return False


def _rerun(
    area: Area, stage: Stage, target: Path, ref: Reference, url: str | None = None
) -> tuple[float | None, list[str]]:
    try:
        seconds = run_cli(target, *stage.command(area), env=store_env(url))
    except RuntimeError as error:
        return None, [f"the rerun failed: {error}"]
    now = fingerprint(target, url)
    problems = [f"after the rerun, {part} differs from a clean run" for part in now if now[part] != ref.after[part]]
    if now["build"].get("people") != ref.before["build"].get("people"):  # nothing new was linked: nobody changes
        problems.append("after the rerun, the people or their person ids differ from the build before")
    if not audit_whole(target, url):
        problems.append("the audit chain does not verify after the rerun")
    if leftovers(target):
        problems.append(f"what a killed run left is still there after the rerun: {', '.join(leftovers(target))}")
    return seconds, problems
