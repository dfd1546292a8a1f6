"""What a killed build leaves is removed by the next build (#18): a half-written ``.tmp-`` folder, a ``CURRENT.tmp``
never moved over ``CURRENT``, and a complete build renamed into place just before the kill and never named by
``CURRENT``. Builds that were published and then superseded stay."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from commonground.linkage import builds
from commonground.linkage.pipeline import build_from_store
from conftest import BuiltArea


def _listing(data_dir: Path) -> set[str]:
    return {p.name for p in builds.builds_dir(data_dir).iterdir()}


def test_the_next_build_removes_a_build_killed_between_its_rename_and_current(
    data_copy: Path, built_area: BuiltArea
) -> None:
    root = builds.builds_dir(data_copy)
    current = builds.current_build_id(data_copy)
    assert current == built_area.second_build
    killed = builds.new_build_id()  # as a kill after the rename and before CURRENT leaves it: complete, unnamed
    shutil.copytree(root / current, root / killed)
    (root / "CURRENT.tmp").write_text(killed + "\n", encoding="utf-8")
    (root / f"{builds.TMP_PREFIX}{builds.new_build_id()}").mkdir()  # and one killed before its rename
    assert builds.unpublished(data_copy) == [root / killed]
    summary = build_from_store(data_dir=data_copy, model=built_area.model)
    assert builds.current_build_id(data_copy) == summary.build_id
    assert _listing(data_copy) == {
        built_area.first_build,
        built_area.second_build,
        summary.build_id,
        "CURRENT",
        ".lock",
    }


def test_a_build_that_failed_to_replace_current_is_removed_by_the_next(
    data_copy: Path, built_area: BuiltArea, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _listing(data_copy)

    def fail(*args: Any) -> None:
        raise OSError("disk gone")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="disk gone"):
        build_from_store(data_dir=data_copy, model=built_area.model)
    monkeypatch.undo()
    left = _listing(data_copy) - before - {"CURRENT.tmp", ".lock"}
    assert len(left) == 1 and builds.unpublished(data_copy) == [builds.builds_dir(data_copy) / left.pop()]
    summary = build_from_store(data_dir=data_copy, model=built_area.model)
    assert _listing(data_copy) == before | {summary.build_id, ".lock"}


def test_without_current_no_build_is_taken_for_unpublished(data_copy: Path, built_area: BuiltArea) -> None:
    (builds.builds_dir(data_copy) / "CURRENT").unlink()
    assert builds.unpublished(data_copy) == []
