"""Check and standardise one raw cell of a feed, by its column's type.

Every parser takes the cell's text (already known not to be blank) and returns the
standardised value, or raises :class:`ValueProblem` with a reason in plain words. A reason
never repeats the value itself: the value may be personal data, and reasons reach reports.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta

from commonground.contracts.spec import Column, ColumnType
from commonground.spreadsheet import looks_like_formula as looks_like_formula

MAX_CELL_CHARS = 2_000
"""The longest cell any column accepts. Longer cells are a broken extract, not data."""

EARLIEST_YEAR = 1900

FORMULA_WARNING = "begins like a spreadsheet formula; kept as text (neutralised in files people open)"
"""The warning ingest records for a text cell that :func:`looks_like_formula` (#18): the value is kept as sent."""

Value = str | date | datetime | bool | int | list[str]

_clock_ahead = timedelta(0)


def latest_moment() -> datetime:
    """The latest moment a record may hold (local wall-clock time, as the feeds write it): now, unless a
    demonstration has moved its clock on (:func:`clock_moved_on`). A later date is "in the future"."""
    return datetime.now() + _clock_ahead


@contextmanager
def clock_moved_on(by: timedelta) -> Iterator[None]:
    """Check dates against a clock ``by`` ahead of the real one while the block runs: ``commonground demo
    --advance`` delivers the records of days its clock has reached and the real one has not yet (the pages show
    deadlines by the same moved clock). Nothing else moves the clock; it is back to the real one after the block."""
    global _clock_ahead
    before, _clock_ahead = _clock_ahead, by
    try:
        yield
    finally:
        _clock_ahead = before


class ValueProblem(ValueError):
    """A cell that does not meet its column's contract. ``reason`` is safe to show and log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


_WHITESPACE = re.compile(r"\s+")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-/.:]{0,63}$")
_NAME = re.compile(r"^[^\W\d_]+(?:[ '\-.’][^\W\d_]*)*$")
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$", re.ASCII)
_DATETIME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?$", re.ASCII)
# The UK postcode grammar: outward code (area, district), inward code (sector, unit).
_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?) ?([0-9][A-Z]{2})$")
_EMAIL = re.compile(r"^[A-Za-z0-9._%+\-']+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}$")
_TRUE = frozenset({"true", "t", "yes", "y", "1"})
_FALSE = frozenset({"false", "f", "no", "n", "0"})


def clean_text(raw: str) -> str:
    """Unicode NFC, whitespace runs to one space, trimmed."""
    return _WHITESPACE.sub(" ", unicodedata.normalize("NFC", raw)).strip()


def value_warning(value: object, column: Column) -> str | None:
    """A warning about a valid, standardised value, or None. A text value that begins like a spreadsheet formula
    (:func:`commonground.spreadsheet.looks_like_formula`: ``=``, ``+``, ``-``, ``@``, tab or carriage return, not a
    plain number such as ``-5``) is text all the same: it is kept as sent, and every file a person opens neutralises
    it (a leading ``'``). The warning lets a data steward see where such values came in."""
    if column.type is ColumnType.TEXT and isinstance(value, str) and looks_like_formula(value):
        return FORMULA_WARNING
    return None


def name_key(name: str) -> str:
    """A name reduced for comparison: accents removed, upper case, letters and single spaces only.

    'Siân O'Neill-Jones' -> 'SIAN ONEILL JONES'. Used by linkage; the display form is kept too.
    """
    decomposed = unicodedata.normalize("NFKD", name)
    ascii_only = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    kept = re.sub(r"['’.]", "", ascii_only.upper())
    return _WHITESPACE.sub(" ", re.sub(r"[^A-Z]", " ", kept)).strip()


def _is_ascii_digits(text: str) -> bool:
    """Only 0-9: ``str.isdigit`` also accepts superscripts and other scripts' digits."""
    return text.isascii() and text.isdigit()


def nhs_number_is_valid(digits: str) -> bool:
    """The NHS number modulus-11 check: weights 10..2 on the first nine digits."""
    if len(digits) != 10 or not _is_ascii_digits(digits):
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])


def _parse_id(text: str, column: Column) -> str:
    if not _ID.match(text):
        raise ValueProblem("not an identifier (letters, digits and - _ / . : only, at most 64 characters)")
    return text


def _parse_text(text: str, column: Column) -> str:
    # Free text is text, even when it begins like a spreadsheet formula: see value_warning (#18).
    return text


def _parse_name(text: str, column: Column) -> str:
    if len(text) > 100:
        raise ValueProblem("longer than 100 characters")
    if not _NAME.match(text):
        raise ValueProblem("not a name (letters, spaces, hyphens and apostrophes only)")
    return text


def _check_date(year: int, month: int, day: int) -> date:
    try:
        value = date(year, month, day)
    except ValueError:
        raise ValueProblem("not a real calendar date") from None
    if value.year < EARLIEST_YEAR:
        raise ValueProblem(f"before {EARLIEST_YEAR}")
    if value > latest_moment().date():
        raise ValueProblem("in the future")
    return value


def _parse_date(text: str, column: Column) -> date:
    m = _DATE.match(text)
    if not m:
        raise ValueProblem("not a date in the form YYYY-MM-DD")
    return _check_date(int(m[1]), int(m[2]), int(m[3]))


def _parse_datetime(text: str, column: Column) -> datetime:
    m = _DATETIME.match(text)
    if not m:
        raise ValueProblem("not a date and time in the form YYYY-MM-DDTHH:MM[:SS]")
    day = _check_date(int(m[1]), int(m[2]), int(m[3]))
    hour, minute, second = int(m[4]), int(m[5]), int(m[6] or 0)
    if hour > 23 or minute > 59 or second > 59:
        raise ValueProblem("not a real time of day")
    value = datetime(day.year, day.month, day.day, hour, minute, second)
    if value > latest_moment():
        raise ValueProblem("in the future")
    return value


def _parse_sex(text: str, column: Column) -> str:
    value = text.upper()
    if value not in ("F", "M", "X", "U"):
        raise ValueProblem("not one of F, M, X, U")
    return value


def _parse_postcode(text: str, column: Column) -> str:
    compact = text.upper().replace(" ", "")
    m = _POSTCODE.match(f"{compact[:-3]} {compact[-3:]}") if 5 <= len(compact) <= 7 else None
    if not m:
        raise ValueProblem("not a UK postcode")
    return f"{m[1]} {m[2]}"


def _parse_nhs_number(text: str, column: Column) -> str:
    digits = re.sub(r"[\s\-]", "", text)
    if len(digits) != 10 or not _is_ascii_digits(digits):
        raise ValueProblem("not 10 digits")
    if not nhs_number_is_valid(digits):
        raise ValueProblem("fails the NHS number check digit")
    return digits


def _parse_uprn(text: str, column: Column) -> str:
    if not (_is_ascii_digits(text) and len(text) <= 12):
        raise ValueProblem("not a UPRN (1 to 12 digits)")
    return str(int(text))


def _parse_urn(text: str, column: Column) -> str:
    if not (_is_ascii_digits(text) and len(text) == 6):
        raise ValueProblem("not a school URN (6 digits)")
    return text


def _parse_email(text: str, column: Column) -> str:
    if not _EMAIL.match(text) or len(text) > 254:
        raise ValueProblem("not an email address")
    return text.lower()


def _parse_bool(text: str, column: Column) -> bool:
    lowered = text.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueProblem("not true or false")


def _parse_code(text: str, column: Column) -> str:
    value = text.lower()
    if value not in column.values:
        raise ValueProblem(f"not one of the allowed values ({', '.join(column.values)})")
    return value


def _parse_code_list(text: str, column: Column) -> list[str] | None:
    items = [item.strip().lower() for item in text.split(";") if item.strip()]
    unknown = sum(1 for item in items if item not in column.values)
    if unknown:
        # The unknown items are not repeated: a misplaced cell could hold a name.
        raise ValueProblem(f"holds {unknown} value{'s' if unknown > 1 else ''} not in the allowed list")
    if not items:
        return None
    # Canonical form: each value once, in the order the contract lists them.
    present = set(items)
    return [v for v in column.values if v in present]


def _parse_integer(text: str, column: Column) -> int:
    if not _is_ascii_digits(text) or len(text) > 9:
        raise ValueProblem("not a whole number")
    return int(text)


Parser = Callable[[str, Column], Value | None]

PARSERS: dict[ColumnType, Parser] = {
    ColumnType.ID: _parse_id,
    ColumnType.TEXT: _parse_text,
    ColumnType.NAME: _parse_name,
    ColumnType.DATE: _parse_date,
    ColumnType.DATETIME: _parse_datetime,
    ColumnType.SEX: _parse_sex,
    ColumnType.POSTCODE: _parse_postcode,
    ColumnType.NHS_NUMBER: _parse_nhs_number,
    ColumnType.UPRN: _parse_uprn,
    ColumnType.URN: _parse_urn,
    ColumnType.EMAIL: _parse_email,
    ColumnType.BOOL: _parse_bool,
    ColumnType.CODE: _parse_code,
    ColumnType.CODE_LIST: _parse_code_list,
    ColumnType.INTEGER: _parse_integer,
}


def parse_cell(raw: str | None, column: Column) -> Value | None:
    """Check and standardise one cell. Blank gives ``None``; a bad value raises ValueProblem.

    Whether ``None`` is acceptable is the caller's question (``column.nullable``).
    """
    if raw is None:
        return None
    if len(raw) > MAX_CELL_CHARS:
        raise ValueProblem(f"longer than {MAX_CELL_CHARS} characters")
    if "\x00" in raw:
        raise ValueProblem("contains a NUL byte")
    try:
        raw.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: the reader decodes with surrogateescape
        raise ValueProblem("contains bytes that are not valid UTF-8") from None
    text = clean_text(raw)
    if not text:
        return None
    return PARSERS[column.type](text, column)
