"""Parquet input: typed columns are turned into text and go through the same checks as CSV."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from ingest_helpers import Area, csv_text, file_result
from rowgen import make_rows

from commonground.contracts import FEEDS


def test_typed_parquet_columns_load_like_csv(area: Area) -> None:
    feed = FEEDS["custody_records"]
    table = pa.table(
        {
            "record_id": ["C1", "C2", "C3", "C4"],
            "arrested_at": pa.array(
                [datetime(2023, 4, 5, 10, 11), datetime(2023, 4, 6, 1, 2, 3), None, datetime(2023, 4, 7)],
                pa.timestamp("ms"),
            ),
            "offence_group": pa.array(["VIOLENCE", "theft", "theft", "theft"]).dictionary_encode(),
            "vulnerabilities": pa.array(
                [["substance", "mental_health"], [], None, ["nonsense"]], pa.list_(pa.string())
            ),
            "released_at": pa.array([datetime(2023, 4, 5, 18), None, None, None], pa.timestamp("us")),
            "liaison_diversion_referral": [True, False, None, True],
            "given_name": ["Ada", "Bo", "Cy", "Di"],
            "family_name": ["Lovelace", "Smith", "Jones", "Khan"],
            "date_of_birth": pa.array([date(1990, 1, 2)] * 4, pa.date32()),
            "Sex ": ["f", "M", "U", "X"],
            "postcode": ["ls1 4ab", None, "", "M1 1AA"],
            "address": [None, "1 High St", None, None],
            "nhs_number": pa.array([9434765919, None, None, None], pa.int64()),
            "uprn": pa.array([123, None, None, None], pa.int64()),
        }
    )
    pq.write_table(table, area.source / "custody_records.parquet")
    entry = file_result(area.ingest(), "custody_records.parquet")
    assert (entry.status, entry.rows_read, entry.rows_accepted, entry.rows_quarantined) == ("loaded", 4, 3, 1)
    rows = area.query(
        "SELECT record_id, arrested_at, offence_group, vulnerabilities, released_at, "
        "liaison_diversion_referral, sex, postcode, nhs_number, uprn, date_of_birth, _row_number "
        "FROM feed_custody_records ORDER BY record_id"
    )
    assert rows[0] == (
        "C1",
        datetime(2023, 4, 5, 10, 11),
        "violence",
        ["mental_health", "substance"],
        datetime(2023, 4, 5, 18),
        True,
        "F",
        "LS1 4AB",
        "9434765919",
        "123",
        date(1990, 1, 2),
        2,
    )
    assert rows[1][3] is None  # an empty Parquet list is a blank cell
    assert area.query("SELECT row_number, field, reason FROM quarantine") == [
        (4, "arrested_at", "blank, but the column requires a value")
    ]
    assert area.query("SELECT row_number, field FROM ingest_warnings") == [(5, "vulnerabilities")]
    assert feed.name == "custody_records"


def test_parquet_and_csv_give_the_same_store(tmp_path: Path) -> None:
    generated = make_rows(FEEDS["ed_attendances"], 500, seed=3, defect_rate=0.2)
    as_csv, as_parquet = Area(tmp_path / "a"), Area(tmp_path / "b")
    as_csv.write("ed_attendances.csv", csv_text(generated.header, generated.rows))
    table = pa.table({h: [r[i] for r in generated.rows] for i, h in enumerate(generated.header)})
    pq.write_table(table, as_parquet.source / "ed_attendances.parquet")
    one, two = as_csv.ingest(), as_parquet.ingest()
    assert [(f.rows_read, f.rows_accepted, f.rows_quarantined, f.warnings) for f in one.files] == [
        (f.rows_read, f.rows_accepted, f.rows_quarantined, f.warnings) for f in two.files
    ]
    query = "SELECT * EXCLUDE (_batch_id) FROM feed_ed_attendances ORDER BY _row_number"
    assert as_csv.query(query) == as_parquet.query(query)
    query = "SELECT row_number, field, reason FROM quarantine ORDER BY ALL"
    assert as_csv.query(query) == as_parquet.query(query)


def test_an_all_null_parquet_column_is_blank(area: Area) -> None:
    feed = FEEDS["postcode_areas"]
    table = pa.table(
        {
            "record_id": ["P1", "P2"],
            "postcode": ["LS1 4AB", "LS1 4AD"],
            "area_code": pa.nulls(2),
            "deprivation_decile": pa.array([3, 10], pa.int8()),
        }
    )
    pq.write_table(table, area.source / "postcode_areas.parquet")
    entry = file_result(area.ingest(), "postcode_areas.parquet")
    assert (entry.status, entry.rows_accepted, entry.rows_quarantined) == ("loaded", 0, 2)
    assert area.query("SELECT DISTINCT field, reason FROM quarantine") == [
        ("area_code", "blank, but the column requires a value")
    ]
    assert feed.column("deprivation_decile").values[-1] == "10"


def test_a_parquet_column_of_binary_data_refuses_the_file(area: Area) -> None:
    table = pa.table(
        {
            "record_id": ["P1"],
            "postcode": pa.array([b"LS1 4AB"], pa.binary()),
            "area_code": ["E01"],
            "deprivation_decile": ["3"],
        }
    )
    pq.write_table(table, area.source / "postcode_areas.parquet")
    entry = file_result(area.ingest(), "postcode_areas.parquet")
    assert entry.status == "refused" and "Parquet data of type binary" in entry.error
    assert area.query("SELECT count(*) FROM feed_postcode_areas") == [(0,)]
