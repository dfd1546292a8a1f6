"""Literal cases for the synth's small parts: names, NHS numbers, intervals, ids, defects, CSV quoting."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from commonground.contracts import FEEDS
from commonground.contracts.values import nhs_number_is_valid
from commonground.synth.arrays import ints, join_intervals, lookup_spell, merge_intervals
from commonground.synth.defects import _break_cell, _is_invalid, inject
from commonground.synth.feedrows import FeedRows, yearly_ids
from commonground.synth.names import ascii_fold, build_namebook, is_valid_name, typo
from commonground.synth.output import write_table
from commonground.synth.population import nhs_numbers
from commonground.synth.timeline import SECONDS_PER_DAY, day_of

NAMES = ["Smith", "O'Neill", "Siân", "Wiśniewski", "Jo", "Smith-Jones", "Lee-Anne", "Harpreet Kaur", "Al"]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(NAMES), st.floats(0, 0.999), st.floats(0, 0.999))
def test_a_typo_always_leaves_a_valid_name(name: str, u: float, v: float) -> None:
    out = typo(name, u, v)
    assert is_valid_name(out)
    assert abs(len(out) - len(name)) <= 1


def test_typo_kinds() -> None:
    outs = {typo("Margaret", u, 0.5) for u in (0.1, 0.3, 0.6, 0.9)}
    assert len(outs) == 4 and "Margaret" not in outs


def test_ascii_fold() -> None:
    assert [ascii_fold(n) for n in ("Siân", "Łukasz", "Zoë", "Smith")] == ["Sian", "Lukasz", "Zoe", "Smith"]


def test_family_names_are_long_tailed() -> None:
    book = build_namebook(np.random.default_rng(1))
    drawn = book.draw_family(np.random.default_rng(2), np.zeros(50_000, dtype=np.int64))
    counts = np.sort(np.bincount(drawn))[::-1]
    assert 0.008 < counts[0] / 50_000 < 0.02  # the commonest (Smith-like) about 1 %
    assert (counts == 1).sum() > 100  # and hundreds of names seen once
    assert all(is_valid_name(n) for n in book.family) and all(is_valid_name(n) for n in book.given)


def test_nhs_numbers() -> None:
    numbers = nhs_numbers(np.random.default_rng(3), 5_000)
    assert len(set(numbers)) == 5_000
    assert all(n.startswith("999") and nhs_number_is_valid(n) for n in numbers)


def test_nhs_numbers_beyond_the_test_range_stay_valid_and_distinct() -> None:
    numbers = nhs_numbers(np.random.default_rng(4), 950_000)
    assert len(set(numbers)) == 950_000
    assert {n[:3] for n in numbers} == {"999", "998"}
    assert all(nhs_number_is_valid(n) for n in numbers[-1000:])


def test_merge_intervals() -> None:
    key = ints([1, 1, 1, 2, 1])
    start = ints([0, 5, 20, 0, 10])
    end = ints([5, 12, 30, 3, 11])
    first, s, e = merge_intervals([key], start, end)
    got = sorted(zip(key[first].tolist(), s.tolist(), e.tolist(), strict=True))
    assert got == [(1, 0, 12), (1, 20, 30), (2, 0, 3)]


def test_join_and_lookup() -> None:
    li, rj, s, e = join_intervals(
        ints([7, 7, 8]), ints([0, 10, 0]), ints([5, 20, 9]), ints([7, 8]), ints([3, 9]), ints([12, 10])
    )
    assert sorted(zip(li.tolist(), rj.tolist(), s.tolist(), e.tolist(), strict=True)) == [(0, 0, 3, 5), (1, 0, 10, 12)]
    spell = lookup_spell(
        ints([1, 1, 2]), ints([0, 10, 0]), ints([10, 20, 5]), ints([1, 1, 2, 2, 3]), ints([9, 10, 4, 5, 0])
    )
    assert spell.tolist() == [0, 1, 2, -1, -1]


def test_yearly_ids_restart_each_year() -> None:
    days = ints([day_of(date(y, 6, 1)) for y in (2021, 2021, 2022)])
    ids = yearly_ids("CR/", 6, "/", two_digit=True)(ints([0, 1, 2]), days * SECONDS_PER_DAY)
    assert ids.tolist() == ["CR/21/000001", "CR/21/000002", "CR/22/000001"]


def test_feed_rows_refuse_unknown_columns() -> None:
    rows = FeedRows("ed_attendances")
    with pytest.raises(KeyError):
        rows.add(pid=ints([0]), day=ints([0]), sort=ints([0]), no_such_column=np.array(["x"], dtype=object))


@pytest.mark.parametrize("feed", [f for f in FEEDS if f not in ("schools", "postcode_areas")])
def test_every_breakable_column_breaks_into_an_invalid_cell(feed: str) -> None:
    rng = np.random.default_rng(5)
    contract = FEEDS[feed]
    samples = {
        "date": "2023-04-12",
        "datetime": "2023-04-12T10:11:12",
        "nhs_number": "9990000018",
        "postcode": "QX1 0AB",
        "urn": "123456",
        "uprn": "100000000001",
        "name": "Margaret",
        "sex": "F",
        "bool": "true",
        "integer": "12",
        "id": "QXP-20230412-0001",
        "text": "1 Mill Lane",
    }
    for column in contract.columns:
        if column.name == "record_id" or column.name in contract.unique:
            continue
        value = column.values[0] if column.values else samples[column.type.value]
        broke = [b for b in (_break_cell(rng, column, value) for _ in range(40)) if b is not None]
        assert broke, column.name
        assert all(_is_invalid(bad, column) for bad, _ in broke)


def test_inject_breaks_one_cell_per_chosen_row() -> None:
    n = 5_000
    table = {c.name: np.array(["x"] * n, dtype=object) for c in FEEDS["missing_episodes"].columns}
    table["record_id"] = np.array([f"M-{i}" for i in range(n)], dtype=object)
    table["reported_at"][:] = "2023-01-01T10:00:00"
    found = inject(np.random.default_rng(6), "missing_episodes", table)
    assert 1 <= len(found) < 20
    assert len({rid for _, rid, _, _, _ in found}) == len(found)


def test_csv_quoting(tmp_path: Path) -> None:
    cols = [np.array(["a", 'say "hi"', "x,y", ""], dtype=object), np.array(["1", "2", "3", "4"], dtype=object)]
    write_table(tmp_path / "t.csv", ("one", "two"), cols)
    assert (tmp_path / "t.csv").read_text() == 'one,two\na,1\n"say ""hi""",2\n"x,y",3\n,4\n'
