"""Where builds live and how one is published (``docs/builds.md``).

A build is written under ``builds/.tmp-<build_id>/``, renamed to ``builds/<build_id>/`` when
complete, and published by writing ``CURRENT.tmp`` and ``os.replace``-ing it over ``CURRENT``. A
crash at any point leaves ``CURRENT`` naming the previous, complete build; a half-written folder
keeps its ``.tmp-`` name, and a complete build renamed into place just before the crash is never named
by ``CURRENT``: neither is read, and the next build removes both (:func:`start_folder`). One build runs
at a time per data directory (:func:`build_lock`).
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from commonground.errors import UserError

BUILDS = Path("analytical") / "builds"
MODELS = Path("analytical") / "models"
CURRENT = "CURRENT"
TMP_PREFIX = ".tmp-"
BUILD_ID = re.compile(r"\d{8}T\d{6}Z-[0-9a-f]{8}")


def builds_dir(data_dir: Path) -> Path:
    return data_dir / BUILDS


def models_dir(data_dir: Path) -> Path:
    return data_dir / MODELS


def new_build_id(now: datetime | None = None) -> str:
    """Sortable: ``YYYYMMDDTHHMMSSZ-<8 hex>``."""
    stamp = (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{secrets.token_hex(4)}"


@dataclass(frozen=True)
class Build:
    """A published build: its folder and what ``build.json`` says about it."""

    build_id: str
    path: Path
    info: dict[str, Any]

    @property
    def database(self) -> Path:
        return self.path / "build.duckdb"

    def connect(self) -> duckdb.DuckDBPyConnection:
        """The build's tables, read-only."""
        return duckdb.connect(str(self.database), read_only=True)


def current_build_id(data_dir: Path) -> str | None:
    pointer = builds_dir(data_dir) / CURRENT
    if not pointer.exists():
        return None
    text = pointer.read_text(encoding="utf-8").strip()
    return text or None


def open_build(data_dir: Path, build_id: str) -> Build:
    path = builds_dir(data_dir) / build_id
    info = json.loads((path / "build.json").read_text(encoding="utf-8"))
    return Build(build_id=build_id, path=path, info=info)


def current_build(data_dir: Path) -> Build | None:
    """The published build, or None if nothing has been built yet."""
    build_id = current_build_id(data_dir)
    return None if build_id is None else open_build(data_dir, build_id)


def require_current_build(data_dir: Path) -> Build:
    build = current_build(data_dir)
    if build is None:
        raise UserError(f"no build yet in {data_dir}: run `commonground link` first")
    return build


@contextmanager
def build_lock(data_dir: Path) -> Iterator[None]:
    """One build at a time per data directory (an OS lock: released when the process ends, even by a crash)."""
    root = builds_dir(data_dir)
    root.mkdir(parents=True, exist_ok=True)
    with (root / ".lock").open("a") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UserError(f"another build is running in {data_dir}; wait for it to finish") from None
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def start_folder(data_dir: Path, build_id: str) -> Path:
    """A fresh temporary folder for a build. What crashed builds left is removed first: half-written ``.tmp-``
    folders, a ``CURRENT.tmp`` never moved over ``CURRENT``, and complete builds never published
    (:func:`unpublished`). Called under :func:`build_lock`: no other build is writing any of them."""
    root = builds_dir(data_dir)
    root.mkdir(parents=True, exist_ok=True)
    for leftover in [*root.glob(f"{TMP_PREFIX}*"), *unpublished(data_dir)]:
        shutil.rmtree(leftover, ignore_errors=True)
    (root / f"{CURRENT}.tmp").unlink(missing_ok=True)
    folder = root / f"{TMP_PREFIX}{build_id}"
    folder.mkdir()
    return folder


def unpublished(data_dir: Path) -> list[Path]:
    """Complete builds that were never published: renamed into place by a build that was killed before it
    replaced ``CURRENT``. Builds are made one at a time and published in the order of their ids (which begin with
    the moment each started), so such a build is one whose id sorts after the current build's. With no
    ``CURRENT`` at all, none is taken for unpublished: whether one ever was cannot be told, and a build is kept
    rather than lost."""
    current = current_build_id(data_dir)
    root = builds_dir(data_dir)
    if current is None or not root.exists():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and BUILD_ID.fullmatch(p.name) and p.name > current)


def write_info(folder: Path, info: dict[str, Any]) -> None:
    path = folder / "build.json"
    with path.open("w", encoding="utf-8") as f:
        json.dump(info, f, indent=2, sort_keys=True, default=str)
        f.flush()
        os.fsync(f.fileno())


def publish(data_dir: Path, folder: Path, build_id: str) -> Path:
    """Rename the finished folder into place, then point ``CURRENT`` at it atomically."""
    root = builds_dir(data_dir)
    final = root / build_id
    folder.rename(final)
    _fsync_dir(root)
    tmp = root / f"{CURRENT}.tmp"
    with tmp.open("w", encoding="utf-8") as f:
        f.write(build_id + "\n")
        f.flush()
        os.fsync(f.fileno())
    tmp.replace(root / CURRENT)
    _fsync_dir(root)
    return final


def discard(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory handles
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def published_builds(data_dir: Path) -> list[str]:
    """Every complete build's id, oldest first (ids sort by time)."""
    root = builds_dir(data_dir)
    if not root.exists():
        return []
    return sorted(
        p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith(".") and (p / "build.json").exists()
    )


def builds_beyond(data_dir: Path, keep: int) -> list[str]:
    """The builds retention removes: all but the newest ``keep``, and never the current one."""
    current = current_build_id(data_dir)
    ids = published_builds(data_dir)
    newest = set(ids[-keep:]) if keep > 0 else set()
    return [b for b in ids if b not in newest and b != current]


def prune_builds(data_dir: Path, keep: int) -> list[str]:
    """Remove the builds beyond the newest ``keep`` (with their person views and rules output), under the build lock
    so that no build is published meanwhile; returns their ids."""
    with build_lock(data_dir):
        gone = builds_beyond(data_dir, keep)
        for build_id in gone:
            shutil.rmtree(builds_dir(data_dir) / build_id)
    return gone
