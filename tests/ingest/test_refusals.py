"""Whole-file refusals: a clear message naming the file and the problem; nothing of it loaded;
the other files still load."""

from __future__ import annotations

from pathlib import Path

import pytest
from ingest_helpers import Area, csv_text, file_result, good_row

from commonground.contracts import FEEDS
from commonground.ingest import IngestError, ingest_directory

FEED = FEEDS["substance_treatment"]
COLS = list(FEED.column_names)


def good_file(area: Area) -> None:
    area.write("schools.csv", csv_text(list(FEEDS["schools"].column_names), [good_row(FEEDS["schools"], 1)]))


def refused(area: Area, name: str) -> str:
    result = area.ingest()
    entry = file_result(result, name)
    assert entry.status == "refused"
    assert (entry.rows_read, entry.rows_accepted, entry.rows_quarantined) == (0, 0, 0)
    assert entry.error.startswith(f"{name}: ")
    assert file_result(result, "schools.csv").status == "loaded"  # the others still load
    assert area.query("SELECT count(*) FROM feed_substance_treatment") == [(0,)]
    assert area.query("SELECT count(*) FROM quarantine") == [(0,)]
    assert [f for (f,) in area.query("SELECT file_name FROM ingest_batches")] == ["schools.csv"]
    return entry.error


@pytest.mark.parametrize(
    "name",
    [
        "notes.txt",
        "Substance_Treatment.csv",
        "substance-treatment.csv",
        "people.csv",
        "substance_treatment.csv.bak",
        ".DS_Store",
    ],
)
def test_a_file_named_for_no_feed(area: Area, name: str) -> None:
    good_file(area)
    area.write(name, csv_text(COLS, [good_row(FEED, 1)]))
    error = refused(area, name)
    assert "not a feed file name" in error and "substance_treatment" in error


def test_missing_required_columns_are_named(area: Area) -> None:
    good_file(area)
    keep = [c for c in COLS if c not in ("start_date", "sex")]
    area.write("substance_treatment.csv", csv_text(keep, [[good_row(FEED, 1)[COLS.index(c)] for c in keep]]))
    error = refused(area, "substance_treatment.csv")
    assert "required columns missing: start_date, sex" in error


def test_unexpected_columns_are_named(area: Area) -> None:
    good_file(area)
    area.write("substance_treatment.csv", csv_text([*COLS, "Risk_Score"], [[*good_row(FEED, 1), "7"]]))
    error = refused(area, "substance_treatment.csv")
    assert "columns the substance_treatment contract does not have: risk_score" in error


def test_a_file_without_its_header_row_does_not_echo_data(area: Area) -> None:
    good_file(area)
    row = good_row(FEED, 1)
    area.write("substance_treatment.csv", csv_text(row, [row]))
    error = refused(area, "substance_treatment.csv")
    assert "is the header row missing?" in error
    for cell in (c.strip().lower() for c in row if len(c.strip()) >= 4):
        assert cell not in error.lower()


def test_an_odd_header_name_is_counted_not_shown(area: Area) -> None:
    good_file(area)
    area.write("substance_treatment.csv", csv_text([*COLS, "Jane Smith 1980-01-01"], [[*good_row(FEED, 1), "x"]]))
    error = refused(area, "substance_treatment.csv")
    assert "Jane" not in error and "jane" not in error and "1 more not shown" in error


@pytest.mark.parametrize(
    ("header_extra", "expected"),
    [
        (["start_date"], "columns named twice in the header: start_date"),
        ([""], "a column has no name in the header"),
    ],
)
def test_header_shape_problems(area: Area, header_extra: list[str], expected: str) -> None:
    good_file(area)
    area.write("substance_treatment.csv", csv_text([*COLS, *header_extra], [[*good_row(FEED, 1), "x"]]))
    assert expected in refused(area, "substance_treatment.csv")


def test_a_broken_parquet_file(area: Area) -> None:
    good_file(area)
    area.write("substance_treatment.parquet", b"PAR1 this is not parquet")
    assert "not a readable Parquet file" in refused(area, "substance_treatment.parquet")


def test_subfolders_are_ignored(area: Area) -> None:
    good_file(area)
    (area.source / "truth").mkdir()
    (area.source / "truth" / "substance_treatment.csv").write_text(csv_text(COLS, [good_row(FEED, 1)]))
    result = area.ingest()
    assert [f.file for f in result.files] == ["schools.csv"]


def test_the_source_must_be_a_directory(area: Area) -> None:
    with pytest.raises(IngestError, match="not a directory"):
        ingest_directory(source=area.source / "missing", data_dir=area.data)


def test_a_file_that_cannot_be_read(area: Area, monkeypatch: pytest.MonkeyPatch) -> None:
    import commonground.ingest.service as service

    good_file(area)
    area.write("substance_treatment.csv", csv_text(COLS, [good_row(FEED, 1)]))
    real = service._fingerprint

    def unreadable(path: Path) -> object:
        if path.name == "substance_treatment.csv":
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(service, "_fingerprint", unreadable)
    assert "cannot be read (PermissionError)" in refused(area, "substance_treatment.csv")
