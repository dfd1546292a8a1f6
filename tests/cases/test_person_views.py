"""The service reads the current person view, and the new one when hub sync lays the same build out again."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from person_view_fixture import BUILD_ID, ViewPerson, write_test_view

from commonground.cases.person_view import KEEP_VIEWS, VIEWS_DIR, view_path
from commonground.web.views import PersonViews


def _person(given_name: str) -> ViewPerson:
    return ViewPerson("P000001", given_name, "Testperson", dt.date(2012, 3, 4), "school_roll", "S1")


def test_nothing_before_a_view_is_laid_out(tmp_path: Path) -> None:
    assert PersonViews(tmp_path).current() is None


def test_a_view_laid_out_again_for_the_same_build_is_read_again(tmp_path: Path) -> None:
    write_test_view(tmp_path, [_person("Ayla")])
    views = PersonViews(tmp_path)
    first = views.current()
    assert first is not None and views.build_id == BUILD_ID
    assert views.current() is first  # nothing new: the same open view
    assert "Ayla" in json.dumps(first.document("P000001"))

    write_test_view(tmp_path, [_person("Ayleen")])  # as `hub sync` does after the rules ran again
    second = views.current()
    assert second is not None and second is not first
    assert views.build_id == BUILD_ID
    assert "Ayleen" in json.dumps(second.document("P000001"))
    assert "Ayla" in json.dumps(first.document("P000001"))  # a request already reading the old view finishes on it


def test_only_the_current_view_and_the_one_before_it_are_kept(tmp_path: Path) -> None:
    for name in ("Ayla", "Ayleen", "Aylin", "Aila"):
        written = write_test_view(tmp_path, [_person(name)])
    build = written.parents[2]
    assert view_path(build) == written
    folders = sorted(d for d in (build / VIEWS_DIR).iterdir() if d.is_dir())
    assert len(folders) == KEEP_VIEWS and folders[-1] == written.parent
