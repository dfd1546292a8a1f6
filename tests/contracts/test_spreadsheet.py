"""Literal cases for the spreadsheet rule (#18): which cells look like a formula, how a cell is neutralised, and the
CSV writer for files people open."""

from __future__ import annotations

import csv
import io

import pytest

from commonground import spreadsheet
from commonground.spreadsheet import looks_like_formula, safe_cell

FORMULA_LIKE = [
    "=1+1",
    '=HYPERLINK("http://x","click")',
    "@SUM(A1:A9)",
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",  # '-' then a digit, then a formula
    "-2+3",
    "-5 degrees outside",  # a spreadsheet tries to compute it (#NAME?)
    "- item",
    "-",
    "+",
    "-5.",
    "-1 e5",
    "\t=1+1",
    "\r=1+1",
    "\tplain words after a tab",
    "-0x1F",
    "+١٢٣",  # Arabic-Indic digits are not the digits of a plain number
]

NOT_FORMULA_LIKE = [
    "",
    "12 Acacia Avenue",
    "a=b",
    " =1+1",  # begins with a space: a spreadsheet shows it as text
    "-5",
    "+5",
    "-0.05",
    "-1,234.5",
    "+44 20 7946 0000",
    "- 5",
    "-1e-05",
    "+2.5E+10",
    "'=1+1",  # already neutralised
    "Ünïcode",
]


@pytest.mark.parametrize("text", FORMULA_LIKE)
def test_formula_like(text: str) -> None:
    assert looks_like_formula(text)


@pytest.mark.parametrize("text", NOT_FORMULA_LIKE)
def test_not_formula_like(text: str) -> None:
    assert not looks_like_formula(text)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ('=HYPERLINK("http://x","click")', '\'=HYPERLINK("http://x","click")'),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("@x", "'@x"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("-5", "-5"),
        ("plain", "plain"),
        ("", ""),
        (None, None),
        (-5, -5),
        (-0.25, -0.25),
        (12, 12),
        (True, True),
        (float("-inf"), "'-inf"),
    ],
)
def test_safe_cell(value: object, expected: object) -> None:
    assert safe_cell(value) == expected


def _read(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def test_the_writer_neutralises_and_quotes_every_field() -> None:
    out = io.StringIO()
    writer = spreadsheet.writer(out, lineterminator="\n")
    writer.writerow(["note", "n"])
    writer.writerows([['=HYPERLINK("http://x","click")', -3], ["a, b", None]])
    assert out.getvalue() == ('"note","n"\n"\'=HYPERLINK(""http://x"",""click"")","-3"\n"a, b",""\n')
    assert _read(out.getvalue()) == [
        ["note", "n"],
        ['\'=HYPERLINK("http://x","click")', "-3"],
        ["a, b", ""],
    ]


def test_the_writer_can_quote_only_where_needed() -> None:
    out = io.StringIO()
    spreadsheet.writer(out, lineterminator="\n", quote_all=False).writerow(["=1+1", "x", "a,b", 4])
    assert out.getvalue() == '\'=1+1,x,"a,b",4\n'
