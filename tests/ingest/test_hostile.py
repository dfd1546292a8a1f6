"""Hostile input: each case gives a clear per-row or per-file message, and nothing is lost."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from ingest_helpers import Area, csv_text, file_result, good_row

from commonground.contracts import FEEDS

FEED = FEEDS["mental_health_contacts"]
COLS = list(FEED.column_names)


def rows(n: int, start: int = 1) -> list[list[str]]:
    return [good_row(FEED, i) for i in range(start, start + n)]


def text(n: int = 3, *, end: str = "\n") -> str:
    return csv_text(COLS, rows(n), end=end)


def loaded(area: Area) -> tuple[int, int, int]:
    entry = file_result(area.ingest(), "mental_health_contacts.csv")
    assert entry.status == "loaded", entry.error
    assert entry.rows_read == entry.rows_accepted + entry.rows_quarantined
    return entry.rows_read, entry.rows_accepted, entry.rows_quarantined


def test_bad_bytes_stay_in_their_rows(area: Area) -> None:
    body = rows(4)
    given = COLS.index("given_name")
    body[0][given] = "Ren\x01e"  # becomes Latin-1 below, in a required column: quarantined
    body[2][COLS.index("address")] = "Caf\x01 Row"  # in a nullable column: blanked with a warning
    data = csv_text(COLS, body).encode("utf-8").replace(b"\x01", b"\xe9")
    area.write("mental_health_contacts.csv", data)
    assert loaded(area) == (4, 3, 1)
    assert area.query("SELECT row_number, field, reason FROM quarantine") == [
        (2, "given_name", "contains bytes that are not valid UTF-8")
    ]
    assert area.query("SELECT row_number, field, reason FROM ingest_warnings") == [
        (4, "address", "contains bytes that are not valid UTF-8")
    ]
    (raw,) = area.query("SELECT raw FROM quarantine")[0]
    cells_back = json.loads(raw)["cells"]
    assert cells_back[given].encode("utf-8", "surrogateescape") == b"Ren\xe9e"  # the bytes are kept


def test_a_utf16_file_is_refused(area: Area) -> None:
    area.write("mental_health_contacts.csv", text().encode("utf-16"))
    entry = file_result(area.ingest(), "mental_health_contacts.csv")
    assert entry.status == "refused"
    assert "UTF-16" in entry.error and "mental_health_contacts.csv" in entry.error


def test_a_byte_order_mark_is_dropped(area: Area) -> None:
    area.write("mental_health_contacts.csv", b"\xef\xbb\xbf" + text().encode("utf-8"))
    assert loaded(area) == (3, 3, 0)


def test_nul_bytes_quarantine_their_row(area: Area) -> None:
    body = rows(2)
    body[1][COLS.index("family_name")] = "Sm\x00ith"
    area.write("mental_health_contacts.csv", csv_text(COLS, body))
    assert loaded(area) == (2, 1, 1)
    assert area.query("SELECT row_number, field, reason FROM quarantine") == [(3, "family_name", "contains a NUL byte")]


FORMULA_WARNING = "begins like a spreadsheet formula; kept as text (neutralised in files people open)"


def test_spreadsheet_formulas_are_kept_as_text_with_a_warning(area: Area) -> None:
    body = rows(4)
    body[0][COLS.index("address")] = "=cmd|' /C calc'!A0"
    body[1][COLS.index("address")] = "@SUM(1+1)"
    body[2][COLS.index("address")] = "-2+3"  # '-' then a digit, but a sum: a spreadsheet computes it
    body[3][COLS.index("address")] = "-5"  # a plain number: no formula
    area.write("mental_health_contacts.csv", csv_text(COLS, body))
    assert loaded(area) == (4, 4, 0)
    warnings = area.query("SELECT row_number, field, reason FROM ingest_warnings ORDER BY row_number")
    assert warnings == [(n, "address", FORMULA_WARNING) for n in (2, 3, 4)]
    stored = area.query("SELECT _row_number, address FROM feed_mental_health_contacts ORDER BY _row_number")
    assert stored == [(2, "=cmd|' /C calc'!A0"), (3, "@SUM(1+1)"), (4, "-2+3"), (5, "-5")]


def test_a_quote_that_never_closes(area: Area) -> None:
    good = text(2)
    broken = good_row(FEED, 8)
    after = rows(3, start=10)
    for row in after:
        row[COLS.index("address")] = "10 High St"  # no quotes after the open one
    tail = ",".join(broken[:-1]) + ',"never closed\n' + csv_text(COLS, after).split("\n", 1)[1]
    area.write("mental_health_contacts.csv", good + tail)
    read, accepted, quarantined = loaded(area)
    assert (read, accepted, quarantined) == (3, 2, 1)
    ((row, field, reason, raw),) = area.query("SELECT row_number, field, reason, raw FROM quarantine")
    assert (row, field) == (4, None)
    assert "never closes" in reason
    assert json.loads(raw)["text"].startswith(",".join(broken[:-1]))  # the rest of the file, kept


def test_a_closing_quote_followed_by_junk(area: Area) -> None:
    body = rows(3)
    body[1][COLS.index("address")] = "QUOTED"
    data = csv_text(COLS, body).replace("QUOTED", '"12 High St"x')
    area.write("mental_health_contacts.csv", data)
    assert loaded(area) == (3, 2, 1)
    assert area.query("SELECT row_number, field, reason FROM quarantine") == [
        (3, None, "a closing quote is followed by other characters before the next comma")
    ]


def test_crlf_blank_lines_and_multiline_cells(area: Area) -> None:
    body = rows(3)
    body[0][COLS.index("address")] = "Flat 1\r\nHigh St"  # a quoted cell across two lines
    area.write("mental_health_contacts.csv", csv_text(COLS, body, end="\r\n") + "\r\n\r\n\n")
    assert loaded(area) == (3, 3, 0)
    numbers = area.query("SELECT _row_number, address FROM feed_mental_health_contacts ORDER BY 1")
    assert [n for n, _ in numbers] == [2, 4, 5]  # the row after the two-line cell starts on line 4
    assert numbers[0][1] == "Flat 1 High St"


def test_wrong_number_of_cells(area: Area) -> None:
    body = rows(3)
    body[0].append("extra")
    body[1] = body[1][:-2]
    area.write("mental_health_contacts.csv", csv_text(COLS, body))
    assert loaded(area) == (3, 1, 2)
    assert area.query("SELECT row_number, field, reason FROM quarantine ORDER BY 1") == [
        (2, None, f"row has {len(COLS) + 1} cells, header has {len(COLS)}"),
        (3, None, f"row has {len(COLS) - 2} cells, header has {len(COLS)}"),
    ]


def test_odd_header_case_and_spaces(area: Area) -> None:
    header = ",".join(f"  {c.upper()} " if i % 2 else c.title() for i, c in enumerate(COLS))
    area.write("mental_health_contacts.csv", header + "\n" + text(2).split("\n", 1)[1])
    assert loaded(area) == (2, 2, 0)


def test_an_empty_file_is_refused_and_a_header_only_file_loads(area: Area) -> None:
    area.write("mental_health_contacts.csv", "")
    area.write("schools.csv", "\n\n")
    header_only = FEEDS["postcode_areas"]
    area.write("postcode_areas.csv", ",".join(header_only.column_names) + "\r\n")
    result = area.ingest()
    for name in ("mental_health_contacts.csv", "schools.csv"):
        entry = file_result(result, name)
        assert entry.status == "refused" and "empty" in entry.error and "no header" in entry.error
    entry = file_result(result, "postcode_areas.csv")
    assert (entry.status, entry.rows_read) == ("loaded", 0)


def test_an_overlong_cell(area: Area) -> None:
    body = rows(2)
    body[0][COLS.index("address")] = "x" * 5_000
    body[1][COLS.index("family_name")] = "y" * 2_001
    area.write("mental_health_contacts.csv", csv_text(COLS, body))
    assert loaded(area) == (2, 1, 1)
    assert area.query("SELECT reason FROM ingest_warnings") == [("longer than 2000 characters",)]
    assert area.query("SELECT reason FROM quarantine") == [("longer than 2000 characters",)]


@pytest.mark.slow
def test_a_50_megabyte_field_does_not_blow_memory(tmp_path: Path) -> None:
    """In a subprocess, so its peak memory is its own."""
    source = tmp_path / "src"
    source.mkdir()
    body = rows(3)
    body[1][COLS.index("address")] = "z" * (50 * 2**20)
    (source / "mental_health_contacts.csv").write_text(csv_text(COLS, body), encoding="utf-8")
    script = textwrap.dedent(f"""
        import json
        from pathlib import Path
        from commonground.ingest import ingest_directory
        result = ingest_directory(source=Path({str(source)!r}), data_dir=Path({str(tmp_path / "data")!r}))
        # VmHWM, not getrusage's ru_maxrss: Linux carries the parent's peak across fork and exec into ru_maxrss,
        # so a child of a large test process would report the parent's size.
        status = Path("/proc/self/status").read_text().splitlines()
        peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) * 1024
        print(json.dumps({{"peak": peak, "result": result.to_dict()}}))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    report = json.loads(done.stdout)
    (entry,) = report["result"]["files"]
    assert (entry["rows_read"], entry["rows_accepted"], entry["rows_quarantined"]) == (3, 3, 0)
    assert report["peak"] < 1_200 * 2**20, report["peak"]  # a few copies of 50 MB, not gigabytes


def test_a_runaway_field_past_the_reader_limit(area: Area, monkeypatch: pytest.MonkeyPatch) -> None:
    import csv

    import commonground.ingest.reader as reader

    monkeypatch.setattr(reader, "FIELD_LIMIT", 1000)
    before = csv.field_size_limit()
    body = rows(3)
    body[1][COLS.index("address")] = "w" * 1500
    area.write("mental_health_contacts.csv", csv_text(COLS, body))
    assert loaded(area) == (3, 2, 1)
    (reason,) = area.query("SELECT reason FROM quarantine")[0]
    assert reason.startswith("a cell longer than 1,000 characters")
    assert csv.field_size_limit() == before  # the process-wide limit is put back
