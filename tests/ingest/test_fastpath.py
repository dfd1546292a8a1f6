"""The fast path never disagrees with parse_cell: a cell it accepts, parse_cell accepts with the same value."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rowgen import good_value

from commonground.contracts import FEEDS, Column, ColumnType
from commonground.contracts.values import ValueProblem, name_key, parse_cell
from commonground.ingest.fastpath import fast_parse, name_keys

T = ColumnType


def _column(kind: ColumnType) -> Column:
    """A real contract column of each type (code lists: the CIN factors, whose codes prefix each other)."""
    if kind is T.CODE_LIST:
        return FEEDS["childrens_social_care"].column("assessment_factors")
    if kind is T.CODE:
        return FEEDS["ed_attendances"].column("injury_intent")
    return next(c for f in FEEDS.values() for c in f.columns if c.type is kind)


COLUMNS = [_column(kind) for kind in ColumnType]
ODD = [
    " ",
    "  ",
    "\t",
    "\n",
    "\r",
    "\r\n",
    "\xa0",
    "\x1c",
    "\x85",
    "\u2028",
    "\u3000",
    "\u0301",
    "\u0308",
    "٣",
    "²",
    "\uff11",
    "\x00",
    "'",
    ";",
    ";;",
    "-",
    "=",
    "+",
    "@",
    ".",
    ",",
    "K",
    "\u212a",
    "İ",
    "ß",
    "ﬁ",
    "é",
    "e\u0301",
    "Å",
    "\u00c5",
    "\u212b",
    "ſ",
    "ĳ",
    "ŉ",
    ":",
    "/",
    "_",
    "T",
    " T",
    "Z",
    "0",
    "9",
    "1a",
    "10a",
]


def _mutate(data: st.DataObject, text: str) -> str:
    for _ in range(data.draw(st.integers(0, 3))):
        op = data.draw(st.sampled_from(["upper", "lower", "swap", "insert", "delete", "digit", "space"]))
        pos = data.draw(st.integers(0, len(text)))
        if op == "upper":
            text = text.upper()
        elif op == "lower":
            text = text.lower()
        elif op == "swap":
            text = text.swapcase()
        elif op == "insert":
            text = text[:pos] + data.draw(st.sampled_from(ODD)) + text[pos:]
        elif op == "delete" and text:
            text = text[:pos] + text[pos + 1 :]
        elif op == "digit" and pos < len(text) and text[pos].isdigit():
            text = text[:pos] + data.draw(st.sampled_from("0123456789")) + text[pos + 1 :]
        elif op == "space":
            before = data.draw(st.sampled_from(["", " ", "  ", "\t"]))
            text = before + text + data.draw(st.sampled_from(["", " ", "\n"]))
    return text


def _candidates(data: st.DataObject, column: Column) -> list[str | None]:
    cells: list[str | None] = []
    for _ in range(data.draw(st.integers(1, 25))):
        source = data.draw(st.sampled_from(["valid", "mutated", "random", "none"]))
        valid = good_value(column, random.Random(data.draw(st.integers(0, 10**6))), data.draw(st.integers(0, 10**7)))
        if source == "valid":
            cells.append(valid)
        elif source == "mutated":
            cells.append(_mutate(data, valid))
        elif source == "random":
            cells.append(data.draw(st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)))
        else:
            cells.append(None)
    return cells


def assert_agrees(cells: list[str | None], column: Column) -> int:
    """Every cell the fast path accepts gets exactly parse_cell's value. Returns how many it accepted."""
    fast = fast_parse(pa.array(cells, pa.string()), column)
    accepted = 0
    for i, cell in enumerate(cells):
        if not fast.accepted[i]:
            continue
        accepted += 1
        try:
            expected = parse_cell(cell, column)
        except ValueProblem as problem:
            raise AssertionError(f"fast path accepted a cell parse_cell rejects ({problem.reason}): {cell!r}") from None
        assert fast.values[i].as_py() == expected, (cell, fast.values[i].as_py(), expected)
    return accepted


@pytest.mark.parametrize("column", COLUMNS, ids=[c.type.value for c in COLUMNS])
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_fast_path_agrees_with_parse_cell(column: Column, data: st.DataObject) -> None:
    assert_agrees(_candidates(data, column), column)


@pytest.mark.parametrize("column", COLUMNS, ids=[c.type.value for c in COLUMNS])
def test_fast_path_accepts_the_ordinary_forms(column: Column) -> None:
    """Not vacuous: well-formed values take the fast path (else the property above proves nothing)."""
    rng = random.Random(7)
    cells = [good_value(column, rng, i) for i in range(200)]
    assert assert_agrees(cells, column) >= 150


@pytest.mark.parametrize("kind", [T.TEXT, T.NAME, T.CODE, T.SEX, T.EMAIL, T.ID])
def test_every_latin_character_alone_and_inside_a_word(kind: ColumnType) -> None:
    column = _column(kind)
    chars = [chr(c) for c in range(0x00, 0x250)]
    cells = [*chars, *(f"Ab{c}cd" for c in chars), *(f"Ab {c}" for c in chars), *(f"{c}bc" for c in chars)]
    assert_agrees(cells, column)


def test_dates_at_the_edges() -> None:
    column = _column(T.DATE)
    today = date.today()
    cells = [(today + timedelta(days=d)).isoformat() for d in (-1, 0, 1, 400)]
    cells += [
        "1899-12-31",
        "1900-01-01",
        "2024-02-29",
        "2023-02-29",
        "2100-02-29",
        "2000-02-29",
        "0000-01-01",
        "2023-13-01",
        "2023-00-10",
        "2023-04-31",
        "2023-04-30",
        "2023-12-31",
        "2023-01-00",
    ]
    assert_agrees(cells, column)
    fast = fast_parse(pa.array(cells), column)
    assert fast.values[1].as_py() == today
    assert not fast.accepted[2]


def test_datetimes_at_the_edges() -> None:
    column = _column(T.DATETIME)
    now = datetime.now().replace(microsecond=0)
    cells = [(now + timedelta(seconds=s)).isoformat() for s in (-60, 3600)]
    cells += [
        "2023-01-01T23:59:59",
        "2023-01-01T24:00",
        "2023-01-01T23:60",
        "2023-01-01T00:00:60",
        "2023-01-01 07:05",
        "2023-01-01T07:05:09",
        "1899-12-31T23:59",
        "2023-02-29T10:00",
    ]
    assert_agrees(cells, column)
    fast = fast_parse(pa.array(cells), column)
    assert fast.values[6].as_py() == datetime(2023, 1, 1, 7, 5)
    assert not fast.accepted[1]


def test_code_lists_keep_contract_order_and_drop_repeats() -> None:
    column = _column(T.CODE_LIST)
    cells = ["3b;1a", "1A;1a;10a", "20", "21;3c;3C", "1a;", ";1a", "1a;;2b", "1a; 2b"]
    assert_agrees(cells, column)
    fast = fast_parse(pa.array(cells), column)
    assert fast.values[0].as_py() == ["1a", "3b"]
    assert fast.values[1].as_py() == ["1a", "10a"]


@settings(max_examples=200, deadline=None)
@given(
    names=st.lists(
        st.one_of(
            st.text(st.characters(blacklist_categories=("Cs",)), max_size=15),
            st.text(alphabet="abcXYZ '-.’éÅ", max_size=15),
        ),
        max_size=20,
    )
)
def test_name_keys_agree_with_name_key(names: list[str]) -> None:
    keys = name_keys(pa.array(names, pa.string())).to_pylist()
    assert keys == [name_key(n) for n in names]
