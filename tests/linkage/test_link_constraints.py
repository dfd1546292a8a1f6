"""A build honours people's word on links (#15): records held apart by an open or rejected link review are joined
to nobody else in the next build, and stay apart in the build after; records a reviewer kept together stay one
person even where the model would part them. A damaged constraints file is a clear error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from commonground.errors import UserError
from commonground.linkage import builds
from commonground.linkage.constraints import (
    CONSTRAINTS_FILE,
    HeldApart,
    KeptTogether,
    LinkConstraints,
)
from commonground.linkage.pipeline import build_from_store
from conftest import BuiltArea


def _people(data_dir: Path) -> dict[str, str]:
    build = builds.current_build(data_dir)
    assert build is not None
    with build.connect() as con:
        rows = con.execute("SELECT feed || ':' || record_id, person_id FROM person_records").fetchall()
    return {str(record): str(person) for record, person in rows}


def _write(data_dir: Path, constraints: LinkConstraints) -> None:
    (data_dir / CONSTRAINTS_FILE).write_text(constraints.to_json(), encoding="utf-8")


def test_held_apart_and_kept_together_survive_two_builds(data_copy: Path, built_area: BuiltArea) -> None:
    before = _people(data_copy)
    by_person: dict[str, list[str]] = {}
    for record, person in before.items():
        by_person.setdefault(person, []).append(record)
    # a person of three or more records: one of them is said to be somebody else
    doubted_person, records = next((p, sorted(r)) for p, r in sorted(by_person.items()) if len(r) >= 3)
    doubted = records[0]
    # two people the model keeps apart, whom a reviewer decided are one
    one, two = sorted(p for p, r in by_person.items() if p != doubted_person)[:2]
    kept = [by_person[one][0], by_person[two][0]]
    _write(
        data_copy,
        LinkConstraints(
            held_apart=(HeldApart(review=1, records=(doubted,), decided="open"),),
            kept_together=(KeptTogether(review=2, records=(kept[0],), with_=(kept[1],)),),
        ),
    )
    for _ in range(2):  # the review's answer holds build after build
        summary = build_from_store(data_dir=data_copy, model=built_area.model)
        after = _people(data_copy)
        alone = after[doubted]
        assert [r for r, p in after.items() if p == alone] == [doubted]
        assert after[kept[0]] == after[kept[1]]
        info = json.loads((summary.path / "build.json").read_text())
        assert info["link_reviews"]["held_apart"] == 1 and info["link_reviews"]["links_cut"] >= 1
        assert info["link_reviews"]["kept_together"] == 1 and info["link_reviews"]["links_added"] == 1
    # everyone else the doubted person had is still one person
    rest = {after[r] for r in records[1:]}
    assert len(rest) == 1


def test_a_damaged_constraints_file_is_a_clear_error(data_copy: Path, built_area: BuiltArea) -> None:
    (data_copy / CONSTRAINTS_FILE).write_text('{"held_apart": [{"records": []}]}', encoding="utf-8")
    before = builds.current_build_id(data_copy)
    with pytest.raises(UserError, match=r"link_constraints\.json: not a link constraints file"):
        build_from_store(data_dir=data_copy, model=built_area.model)
    assert builds.current_build_id(data_copy) == before
