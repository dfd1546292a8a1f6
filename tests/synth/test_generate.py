"""The public entry point: determinism, progress reports, the summary, and small or odd sizes."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest
from synth_support import Area, digest

from commonground.contracts import FEEDS
from commonground.synth import SynthSummary, generate


def test_same_seed_same_bytes_different_seed_different_area(tmp_path: Path) -> None:
    a = generate(people=600, seed=3, out=tmp_path / "a")
    b = generate(people=600, seed=3, out=tmp_path / "b")
    generate(people=600, seed=4, out=tmp_path / "c")
    assert digest(tmp_path / "a") == digest(tmp_path / "b")
    assert a.rows == b.rows
    assert digest(tmp_path / "a") != digest(tmp_path / "c")
    people_a = (tmp_path / "a" / "truth" / "people.csv").read_text()
    people_c = (tmp_path / "c" / "truth" / "people.csv").read_text()
    assert people_a != people_c


def test_the_same_bytes_in_another_process_with_another_hash_seed(tmp_path: Path) -> None:
    generate(people=400, seed=6, out=tmp_path / "here")
    code = (
        "import sys; from pathlib import Path; from commonground.synth import generate; "
        "generate(people=400, seed=6, out=Path(sys.argv[1]))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "there")], check=True, env=env)
    assert digest(tmp_path / "here") == digest(tmp_path / "there")


def test_generating_again_into_the_same_folder_replaces_it(tmp_path: Path) -> None:
    generate(people=300, seed=5, out=tmp_path / "x")
    first = digest(tmp_path / "x")
    (tmp_path / "x" / "truth" / "stale.csv").write_text("left over\n")
    generate(people=300, seed=5, out=tmp_path / "x")
    assert digest(tmp_path / "x") == first


def test_progress_is_reported(area: Area) -> None:
    stages = [s for s, _, _ in area.progress]
    assert stages[0] == "Laying out the area"
    for feed in FEEDS:
        assert f"Writing {feed}.csv" in stages
    for stage, done, total in area.progress:
        assert done >= 0
        if total is not None:
            assert done <= total, stage
    ed = [(d, t) for s, d, t in area.progress if s == "Writing ed_attendances.csv"]
    assert ed[-1][0] == ed[-1][1] == area.summary.rows["ed_attendances"]


def test_summary(area: Area) -> None:
    s = area.summary
    assert isinstance(s, SynthSummary)
    assert set(s.rows) == set(FEEDS)
    assert s.households > s.households_at_start > s.people_at_start / 2.7
    assert s.seconds > 0 and s.out == area.out
    assert s.total_rows == sum(s.rows.values())
    text = str(s)
    assert "ed_attendances.csv" in text and f"{s.rows['ed_attendances']:,}" in text
    assert ("households (at start / ever)", f"{s.households_at_start:,} / {s.households:,}") in s.table()
    with pytest.raises(AttributeError):
        s.people = 1  # type: ignore[misc]


def test_the_emergency_department_feed_is_the_biggest(area: Area) -> None:
    rows = area.summary.rows
    assert max(rows, key=lambda f: rows[f]) == "ed_attendances"


@pytest.mark.parametrize("people", [1, 2, 17, 90])
def test_tiny_areas(tmp_path: Path, people: int) -> None:
    summary = generate(people=people, seed=11, out=tmp_path)
    assert summary.people_at_start == people
    for feed, contract in FEEDS.items():
        with (tmp_path / f"{feed}.csv").open(encoding="utf-8", newline="") as f:
            header = next(csv.reader(f))
        assert tuple(header) == contract.column_names
    schools = list(csv.DictReader((tmp_path / "schools.csv").open(encoding="utf-8")))
    assert len(schools) >= 2
    people_rows = list(csv.DictReader((tmp_path / "truth" / "people.csv").open(encoding="utf-8")))
    assert len(people_rows) == summary.people


def test_refuses_an_empty_area(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        generate(people=0, seed=1, out=tmp_path)
