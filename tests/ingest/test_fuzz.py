"""Hypothesis-generated files: rows read = accepted + quarantined, and nothing is lost or invented."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ingest_helpers import Area, csv_text
from rowgen import make_rows

from commonground.contracts import FEEDS

FEED_NAMES = sorted(FEEDS)
SETTINGS = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _fresh(tmp_path: Path, n: int) -> Area:
    return Area(tmp_path / f"example{n}")


_counter = iter(range(10**9))


@SETTINGS
@given(
    name=st.sampled_from(FEED_NAMES),
    n=st.integers(0, 60),
    seed=st.integers(0, 10**6),
    rate=st.sampled_from([0.0, 0.2, 0.6]),
    end=st.sampled_from(["\n", "\r\n", "\r"]),
    bom=st.booleans(),
    trailing=st.sampled_from(["", "\n", "\r\n\r\n"]),
)
def test_generated_files_load_exactly_as_expected(
    tmp_path: Path, name: str, n: int, seed: int, rate: float, end: str, bom: bool, trailing: str
) -> None:
    area = _fresh(tmp_path, next(_counter))
    generated = make_rows(FEEDS[name], n, seed=seed, defect_rate=rate)
    data = ("\ufeff" if bom else "") + csv_text(generated.header, generated.rows, end=end) + trailing
    area.write(f"{name}.csv", data)
    (entry,) = area.ingest().files
    assert entry.status == "loaded"
    assert (entry.rows_read, entry.rows_quarantined) == (n, len(generated.quarantined))
    assert entry.rows_accepted == n - len(generated.quarantined)
    quarantined = {r for (r,) in area.query("SELECT DISTINCT row_number FROM quarantine")}
    assert quarantined == {i + 2 for i in generated.quarantined}
    warned = set(area.query("SELECT row_number, field FROM ingest_warnings"))
    assert warned == {(i + 2, c) for i, c in generated.warned if i not in generated.quarantined}


HOSTILE = [
    b'"',
    b'""',
    b"\x00",
    b"\xff",
    b"\xe9",
    b"\r",
    b"\n",
    b",",
    b"\r\n",
    b"\xef\xbb\xbf",
    b"=",
    b"\xc3",
    b"\x1f",
    b"\xed\xa0\x80",
    b";",
]


@SETTINGS
@given(
    name=st.sampled_from(FEED_NAMES),
    n=st.integers(1, 40),
    seed=st.integers(0, 10**6),
    edits=st.lists(
        st.tuples(st.floats(0, 1), st.one_of(st.sampled_from(HOSTILE), st.binary(max_size=4))), min_size=1, max_size=8
    ),
)
def test_hostile_bytes_lose_nothing(
    tmp_path: Path, name: str, n: int, seed: int, edits: list[tuple[float, bytes]]
) -> None:
    area = _fresh(tmp_path, next(_counter))
    generated = make_rows(FEEDS[name], n, seed=seed, defect_rate=0.1)
    data = csv_text(generated.header, generated.rows).encode("utf-8")
    for where, insert in edits:
        at = int(where * len(data))
        data = data[:at] + insert + data[at:]
    area.write(f"{name}.csv", data)
    (entry,) = area.ingest().files
    counts = area.counts()
    if entry.status == "refused":
        assert entry.error
        assert counts[f"feed_{name}"] == counts["quarantine"] == counts["ingest_batches"] == 0
        return
    assert entry.rows_read == entry.rows_accepted + entry.rows_quarantined
    assert entry.rows_read <= data.count(b"\n") + data.count(b"\r") + 1
    assert counts[f"feed_{name}"] == entry.rows_accepted
    accepted = {r for (r,) in area.query(f"SELECT _row_number FROM feed_{name}")}
    quarantined = {r for (r,) in area.query("SELECT DISTINCT row_number FROM quarantine")}
    assert len(accepted) == entry.rows_accepted and len(quarantined) == entry.rows_quarantined
    assert not accepted & quarantined
    assert all(r >= 2 for r in accepted | quarantined)
