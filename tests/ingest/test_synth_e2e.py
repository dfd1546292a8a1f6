"""End to end with the synthetic area: ingest quarantines exactly the rows synth broke on purpose
(truth/defects.csv, kind=quarantine) and warns on exactly the cells it broke in nullable columns."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import duckdb
import pytest

from commonground.ingest import ingest_directory, store_path
from commonground.ingest.validate import ORDERED_PAIRS
from commonground.synth import generate


@pytest.mark.slow
def test_ingest_catches_exactly_the_deliberate_defects(tmp_path: Path) -> None:
    area = tmp_path / "area"
    generate(people=4000, seed=11, out=area)
    result = ingest_directory(source=area, data_dir=tmp_path / "data")
    feeds = {f.feed for f in result.files if f.status == "loaded"}
    assert len(feeds) == 13
    # synth writes manifest.json beside the feeds: not a feed, so refused (the only refusal).
    assert [f.file for f in result.files if f.status == "refused"] in ([], ["manifest.json"])
    with (area / "truth" / "defects.csv").open(encoding="utf-8", newline="") as handle:
        defects = list(csv.DictReader(handle))
    assert defects, "synth broke no cells: the test would prove nothing"
    expected_quarantine = {(d["feed"], d["record_id"]) for d in defects if d["kind"] == "quarantine"}
    expected_warnings = {(d["feed"], d["record_id"], d["column"]) for d in defects if d["kind"] == "warning"}
    assert expected_quarantine and expected_warnings

    con = duckdb.connect(str(store_path(tmp_path / "data")), read_only=True)
    try:
        headers = {feed: json.loads(h) for feed, h in con.execute("SELECT feed, header FROM ingest_batches").fetchall()}
        quarantined: set[tuple[str, str]] = set()
        out_of_order: set[tuple[str, str]] = set()
        for feed, raw, reason in con.execute("SELECT feed, raw, reason FROM quarantine").fetchall():
            cells = dict(zip(headers[feed], json.loads(raw)["cells"], strict=True))
            key = (feed, cells["record_id"])
            quarantined.add(key)
            pairs = [(a, b) for a, b, why in ORDERED_PAIRS.get(feed, ()) if why == reason]
            if pairs:  # a cross-field check: confirm it from the raw cells, independently of ingest
                ((earlier, later),) = pairs
                assert cells[later].replace(" ", "T") < cells[earlier].replace(" ", "T"), (key, reason)
                out_of_order.add(key)
        warned = set()
        for feed in feeds:
            reasons = {why for _, _, why in ORDERED_PAIRS.get(feed, ())}
            for record_id, field, reason in con.execute(
                f"SELECT f.record_id, w.field, w.reason FROM ingest_warnings w JOIN feed_{feed} f "
                "ON f._batch_id = w.batch_id AND f._row_number = w.row_number"
            ).fetchall():
                if reason.split(";")[0] in reasons:  # an end before its start: blanked, confirmed from the file
                    ((earlier, later),) = [(a, b) for a, b, why in ORDERED_PAIRS[feed] if reason.startswith(why)]
                    cells = _source_row(area, feed, record_id)
                    assert cells[later].replace(" ", "T") < cells[earlier].replace(" ", "T"), (feed, reason)
                    out_of_order.add((feed, record_id))
                else:
                    warned.add((feed, record_id, field))
    finally:
        con.close()
    # Exactly the deliberate defects, plus any rows synth wrote with an end before its start (not
    # listed as defects: synth's school roll can do this at scale; each one is confirmed above from the file;
    # since #15 they load with the optional field blanked and a warning, rather than being quarantined).
    assert quarantined - out_of_order == expected_quarantine - out_of_order
    assert expected_quarantine <= quarantined
    warned_elsewhere = {w for w in expected_warnings if (w[0], w[1]) in out_of_order}
    assert warned == expected_warnings - warned_elsewhere
    totals = result.totals()
    assert totals["rows_quarantined"] == len(quarantined)
    assert totals["warnings"] == len(warned)
    assert totals["rows_read"] == totals["rows_accepted"] + totals["rows_quarantined"]


def _source_row(area: Path, feed: str, record_id: str) -> dict[str, str]:
    with (area / f"{feed}.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["record_id"] == record_id:
                return row
    raise AssertionError(f"{feed} {record_id} is not in the area's file")
