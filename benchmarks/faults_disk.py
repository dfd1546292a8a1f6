"""The disk filling up during a stage (#18), on a tmpfs the suite mounts."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from faults_area import copy_state
from faults_common import CLI, cli_env
from faults_kill import STAGES, Reference, _check_after_kill, _rerun

if TYPE_CHECKING:
    from faults_area import Area


@dataclass
class DiskTrial:
    stage: str
    free_mb: float
    exit_code: int
    message: str
    traceback: bool
    state: str
    problems: list[str]


def can_mount() -> str | None:
    """Why a small filesystem cannot be made here, or None when it can."""
    if os.geteuid() != 0:
        return "mounting a tmpfs needs root"
    probe = Path(tempfile.mkdtemp(prefix="cg-faults-mount-"))
    try:
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(probe)], check=True, capture_output=True)
        subprocess.run(["umount", str(probe)], check=True, capture_output=True)
    except (subprocess.CalledProcessError, FileNotFoundError) as error:
        return f"cannot mount a tmpfs: {error}"
    finally:
        probe.rmdir()
    return None


@contextlib.contextmanager
def small_disk(size_mb: int) -> Iterator[Path]:
    """A tmpfs of ``size_mb`` MiB, unmounted afterwards."""
    mount = Path(tempfile.mkdtemp(prefix="cg-faults-disk-"))
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_mb}m", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)
        mount.rmdir()


def _fill(mount: Path, free_mb: float) -> None:
    ballast = mount / "ballast"
    ballast.unlink(missing_ok=True)
    available = shutil.disk_usage(mount).free
    size = max(0, available - int(free_mb * 1024 * 1024))
    with ballast.open("wb") as handle:
        handle.truncate(0)
        chunk = b"\0" * (1024 * 1024)
        while size > 0:
            handle.write(chunk[: min(size, len(chunk))])
            size -= len(chunk)


def disk_trial(area: Area, key: str, free_mb: float, ref: Reference) -> DiskTrial:
    """The stage's state on a small filesystem filled to leave ``free_mb``: the stage must stop with a clear
    message (no traceback) and leave everything as it was; with the space freed, a rerun equals a clean run."""
    stage = STAGES[key]
    state = area.states[stage.state]
    need = sum(f.stat().st_size for f in state.rglob("*") if f.is_file()) // (1024 * 1024)
    with small_disk(int(need * 2.5) + 40) as mount:
        target = copy_state(state, mount / "data")
        _fill(mount, free_mb)
        done = subprocess.run(
            [CLI, "--data-dir", str(target), *stage.command(area)], env=cli_env(), capture_output=True, text=True
        )
        lines = [line for line in done.stderr.splitlines() if line.strip() and "━" not in line]
        message = lines[-1].strip() if lines else ""
        state_after, problems = _check_after_kill(target, ref)
        traceback = "Traceback" in done.stderr
        if done.returncode != 0:
            if traceback:
                problems.append("a traceback was printed")
            if "disk" not in message.lower():
                problems.append(f"the message does not say the disk is full: {message[:200]!r}")
            if state_after != "as before":
                problems.append(f"the failed run left the data directory {state_after}")
        (mount / "ballast").unlink()
        _, more = _rerun(area, stage, target, ref)
        problems += more
    message = message.replace(str(mount), "DISK")
    return DiskTrial(stage.name, free_mb, done.returncode, message, traceback, state_after, problems)
