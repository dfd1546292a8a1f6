"""A run is one transaction: killed part-way (kill -9, for real), the store is as it was before."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from ingest_helpers import Area, csv_text, file_result, good_row

from commonground.contracts import FEEDS

FEED = FEEDS["ed_attendances"]


def big_file(path: Path, rows: int) -> None:
    template = good_row(FEED, 1)
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write(csv_text(list(FEED.column_names), []))
        tail = csv_text(["x"], [template[1:]]).split("\n", 1)[1]  # the row after record_id, quoted as CSV
        for i in range(rows):
            handle.write(f"ED{i:09d},{tail}")


@pytest.mark.slow
def test_kill_9_part_way_leaves_the_store_as_it_was(area: Area) -> None:
    schools = FEEDS["schools"]
    area.write("schools.csv", csv_text(list(schools.column_names), [good_row(schools, 1)]))
    area.ingest()
    before = area.counts()
    big_file(area.source / "ed_attendances.csv", 60_000)
    script = textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        import commonground.ingest.reader as reader
        reader.CHUNK_ROWS = 10_000
        from commonground.ingest import ingest_directory

        def progress(label, done, total):
            if done >= 20_000:  # two chunks written into the open transaction
                print("part-way", flush=True)
                time.sleep(60)

        ingest_directory(source=Path({str(area.source)!r}), data_dir=Path({str(area.data)!r}), on_progress=progress)
        print("finished", flush=True)
    """)
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "part-way"
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == -signal.SIGKILL
    assert area.counts() == before  # nothing of the killed run: not its rows, not its run record
    result = area.ingest()  # and the next run loads it
    entry = file_result(result, "ed_attendances.csv")
    assert (entry.status, entry.rows_accepted) == ("loaded", 60_000)
    assert file_result(result, "schools.csv").status == "already_loaded"
    assert area.query("SELECT count(*) FROM feed_ed_attendances") == [(60_000,)]


def test_an_error_part_way_rolls_the_whole_run_back(area: Area, monkeypatch: pytest.MonkeyPatch) -> None:
    import commonground.ingest.store as store

    schools = FEEDS["schools"]
    area.write("schools.csv", csv_text(list(schools.column_names), [good_row(schools, 1)]))
    area.write(
        "substance_treatment.csv",
        csv_text(list(FEEDS["substance_treatment"].column_names), [good_row(FEEDS["substance_treatment"], 1)]),
    )
    area.ingest()
    before = area.counts()
    area.write(
        "postcode_areas.csv",
        csv_text(list(FEEDS["postcode_areas"].column_names), [good_row(FEEDS["postcode_areas"], 1)]),
    )
    area.write("schools.parquet", b"not parquet")

    def fail(self: object, **batch: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(store.StoreWriter, "record_batch", fail)
    with pytest.raises(RuntimeError, match="disk full"):
        area.ingest()
    assert area.counts() == before
