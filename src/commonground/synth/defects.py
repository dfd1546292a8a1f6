"""Deliberately broken cells, each listed in ``truth/defects.csv`` so a test can check ingest catches exactly these.

About one row in a thousand gets exactly one bad cell (never the record id, never a column the
feed must keep unique): an impossible or future date, a date in the wrong format, a time that
does not exist, an unknown code, a spreadsheet formula in a name, a name with a digit in it, an NHS
number that fails its check digit, a malformed postcode, a text cell run on past 2,000 characters,
a blank in a column that must be filled, and so on. A bad value in a column that may be blank is a
*warning* (ingest blanks it); in a column that must hold a value it is a *quarantine* (ingest sets
the row aside).

A spreadsheet formula in a *text* column is no defect since #18: ingest keeps it as text (with a
warning of its own) and files people open neutralise it. Text columns get an over-long cell instead,
made from the same random draw the formula took, so an area of a given seed and size keeps every
other cell, and the same rows and columns broken, as before: only those text cells differ.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from commonground.contracts import FEEDS
from commonground.contracts.spec import Column, ColumnType
from commonground.contracts.values import MAX_CELL_CHARS, ValueProblem, nhs_number_is_valid, parse_cell

DEFECT_RATE = 0.001
FORMULAS = (
    '=HYPERLINK("http://example.invalid/","Click for details")',
    "=1+1",
    "@SUM(A1:A9)",
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C notepad'!A0",
)

Maker = Callable[[np.random.Generator, str], str]


def _date(rng: np.random.Generator) -> tuple[int, str, str]:
    year = int(rng.integers(2021, 2027))
    return year, f"{int(rng.integers(1, 13)):02d}", f"{int(rng.integers(1, 29)):02d}"


def _impossible_date(rng: np.random.Generator, value: str) -> str:
    year, _, _ = _date(rng)
    bad = (f"{year}-02-30", f"{year}-04-31", f"{year}-13-01", f"{year}-00-10", f"{year}-06-31")
    out = bad[int(rng.integers(len(bad)))]
    return out + ("T10:15:00" if len(value) > 10 else "")


def _future_date(rng: np.random.Generator, value: str) -> str:
    return f"{int(value[:4]) + 40}{value[4:]}"


def _slashed_date(rng: np.random.Generator, value: str) -> str:
    return f"{value[8:10]}/{value[5:7]}/{value[:4]}{value[10:]}"


def _bad_time(rng: np.random.Generator, value: str) -> str:
    return f"{value[:10]}T{int(rng.integers(24, 30))}:{int(rng.integers(0, 60)):02d}:00"


def _unknown_code(rng: np.random.Generator, value: str) -> str:
    return ("not_known", "unknown", "see notes", "zz_unrecorded", "other_issue")[int(rng.integers(5))]


def _unknown_in_list(rng: np.random.Generator, value: str) -> str:
    extra = ("zz_unrecorded", "not_known", "tbc")[int(rng.integers(3))]
    return f"{value};{extra}" if value else extra


def _formula(rng: np.random.Generator, value: str) -> str:
    return FORMULAS[int(rng.integers(len(FORMULAS)))]


def _overlong_text(rng: np.random.Generator, value: str) -> str:
    """A text cell run on past 2,000 characters, as when an extract loses a line end or a closing quote.

    It takes the draw a formula took before #18, and, where that draw was the last formula (``-2+3…``, which the
    rule of the time let through as text, so no cell was broken), it breaks nothing now either: the same cells
    are broken in an area of the same seed.
    """
    if int(rng.integers(len(FORMULAS))) == len(FORMULAS) - 1:
        return value
    text = value or "continued"
    return (text + " ") * (MAX_CELL_CHARS // (len(text) + 1) + 1)


def _digit_in_name(rng: np.random.Generator, value: str) -> str:
    if len(value) < 2:
        return "J0hn"
    i = int(rng.integers(1, len(value)))
    return value[:i] + str(int(rng.integers(0, 10))) + value[i + 1 :]


def _bad_sex(rng: np.random.Generator, value: str) -> str:
    return ("Female", "Male", "9", "Unknown", "fm")[int(rng.integers(5))]


def _bad_postcode(rng: np.random.Generator, value: str) -> str:
    outward = value.split(" ")[0] if value else "QX1"
    return (outward, f"{outward} 9", "12345", f"{outward}-{outward}")[int(rng.integers(4))]


def _bad_check_digit(rng: np.random.Generator, value: str) -> str:
    for d in rng.permutation(10).tolist():
        cand = value[:9] + str(d)
        if not nhs_number_is_valid(cand):
            return cand
    return value[:9] + "x"


def _bad_uprn(rng: np.random.Generator, value: str) -> str:
    return (f"UPRN{value}", "1234567890123", "n/a")[int(rng.integers(3))]


def _bad_urn(rng: np.random.Generator, value: str) -> str:
    return value[:5] if value else "12345"


def _bad_bool(rng: np.random.Generator, value: str) -> str:
    return ("maybe", "2", "unknown", "Y/N")[int(rng.integers(4))]


def _bad_integer(rng: np.random.Generator, value: str) -> str:
    return ("-5", "12.5", "about 20", "1e3")[int(rng.integers(4))]


def _bad_id(rng: np.random.Generator, value: str) -> str:
    return (value.replace("-", " ") if value else "ref 123") or "ref 123"


MAKERS: dict[ColumnType, tuple[tuple[str, Maker], ...]] = {
    ColumnType.DATE: (
        ("impossible_date", _impossible_date),
        ("future_date", _future_date),
        ("wrong_date_format", _slashed_date),
    ),
    ColumnType.DATETIME: (
        ("impossible_date", _impossible_date),
        ("future_date", _future_date),
        ("impossible_time", _bad_time),
    ),
    ColumnType.CODE: (("unknown_code", _unknown_code),),
    ColumnType.CODE_LIST: (("unknown_code", _unknown_in_list),),
    ColumnType.TEXT: (("overlong_text", _overlong_text),),
    ColumnType.NAME: (("digit_in_name", _digit_in_name), ("formula", _formula)),
    ColumnType.SEX: (("unknown_sex_code", _bad_sex),),
    ColumnType.POSTCODE: (("malformed_postcode", _bad_postcode),),
    ColumnType.NHS_NUMBER: (("bad_nhs_check_digit", _bad_check_digit),),
    ColumnType.UPRN: (("malformed_uprn", _bad_uprn),),
    ColumnType.URN: (("malformed_urn", _bad_urn),),
    ColumnType.BOOL: (("not_a_boolean", _bad_bool),),
    ColumnType.INTEGER: (("not_a_whole_number", _bad_integer),),
    ColumnType.ID: (("malformed_id", _bad_id),),
}


def _is_invalid(text: str, column: Column) -> bool:
    if text == "":
        return not column.nullable
    try:
        parse_cell(text, column)
    except ValueProblem:
        return True
    return False


def _break_cell(rng: np.random.Generator, column: Column, value: str) -> tuple[str, str] | None:
    """A broken version of one cell and the kind of defect, or None when this cell cannot be broken."""
    options = list(MAKERS.get(column.type, ()))
    if column.type == ColumnType.NHS_NUMBER and not value:
        options = []
    if not column.nullable:
        options.append(("blank_required", lambda _r, _v: ""))
    if not options:
        return None
    name, make = options[int(rng.integers(len(options)))]
    if not value and column.type in (ColumnType.DATE, ColumnType.DATETIME):
        year, month, day = _date(rng)
        value = f"{year}-{month}-{day}" + ("T13:20:00" if column.type == ColumnType.DATETIME else "")
    bad = make(rng, value)
    return (bad, name) if _is_invalid(bad, column) else None


def inject(rng: np.random.Generator, feed: str, table: dict[str, np.ndarray]) -> list[tuple[str, str, str, str, str]]:
    """Break about one row in a thousand; returns (feed, record_id, column, kind, defect) per broken cell."""
    contract = FEEDS[feed]
    n = len(table["record_id"])
    k = int(rng.binomial(n, DEFECT_RATE)) if n else 0
    if n >= 200:
        k = max(k, 1)
    rows = np.sort(rng.choice(n, size=k, replace=False)) if k else np.zeros(0, dtype=np.int64)
    columns = [c for c in contract.columns if c.name != "record_id" and c.name not in contract.unique]
    found: list[tuple[str, str, str, str, str]] = []
    for i in rows.tolist():
        for j in rng.permutation(len(columns)).tolist():
            column = columns[j]
            if not column.nullable and table[column.name][i] == "":
                continue  # already blank (a harsh profile's missing date of birth): nothing more to break
            broken = _break_cell(rng, column, str(table[column.name][i]))
            if broken is None:
                continue
            table[column.name][i] = broken[0]
            kind = "warning" if column.blank_keeps_row else "quarantine"  # ingest keeps the row (#15)
            found.append((feed, str(table["record_id"][i]), column.name, kind, broken[1]))
            break
    return found
