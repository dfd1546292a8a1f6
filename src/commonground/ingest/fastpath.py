"""A vectorised fast path that accepts cells that are obviously valid.

For every column type there is a check, run over a whole Arrow column at once, that is strictly
narrower than :func:`commonground.contracts.values.parse_cell`: a cell it accepts is one that
``parse_cell`` also accepts, and the standardised value it computes is the one ``parse_cell``
returns. Anything it is not sure of (odd spacing, non-Latin letters, lower-case forms it does not
know, anything invalid) is left for ``parse_cell``, which stays the single authority on whether a
cell is valid and on the reason when it is not. ``tests/ingest/test_fastpath.py`` checks the
agreement on random and adversarial strings.

The checks are written so that a cell they accept is already in the form ``clean_text`` leaves
unchanged: no whitespace but single inner spaces, and only characters that Unicode NFC leaves
alone (ASCII, Latin-1 and Latin Extended-A, none of them combining).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from commonground.contracts.spec import Column, ColumnType
from commonground.contracts.values import EARLIEST_YEAR, MAX_CELL_CHARS, latest_moment, name_key

T = ColumnType

ARROW_TYPES: dict[ColumnType, pa.DataType] = {
    T.DATE: pa.date32(),
    T.DATETIME: pa.timestamp("us"),
    T.BOOL: pa.bool_(),
    T.INTEGER: pa.int64(),
    T.CODE_LIST: pa.list_(pa.string()),
}


def arrow_type(column: Column) -> pa.DataType:
    """The Arrow type of a column's standardised values (strings unless listed above)."""
    return ARROW_TYPES.get(column.type, pa.string())


# Letters that are NFC-stable, single code points and letters to Python's `[^\W\d_]`.
_LETTER = r"[A-Za-z\xC0-\xD6\xD8-\xF6\xF8-\xFF\x{100}-\x{17E}]"
# Printable ASCII and Latin-1 without any whitespace (no NBSP): NFC-stable, never `\s`.
_TEXT_CHAR = r"[\x21-\x7E\xA1-\xFF]"
# The same, less the characters a spreadsheet formula can start with (= @ + -).
_TEXT_FIRST = r"[\x21-\x2A\x2C\x2E-\x3C\x3E\x3F\x41-\x7E\xA1-\xFF]"

_RE_ID = r"^[A-Za-z0-9][A-Za-z0-9_\-/.:]{0,63}$"
_RE_TEXT = rf"^{_TEXT_FIRST}(?: ?{_TEXT_CHAR})*$"
_RE_NAME = rf"^{_LETTER}+(?:[ '\-.]{_LETTER}+)*$"
_RE_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_RE_DATETIME = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2})?$"
_RE_POSTCODE = r"^[A-Za-z]{1,2}[0-9][A-Za-z0-9]? ?[0-9][A-Za-z]{2}$"
_RE_NHS = r"^[0-9]{3}[ \-]?[0-9]{3}[ \-]?[0-9]{4}$"
_RE_UPRN = r"^[0-9]{1,12}$"
_RE_URN = r"^[0-9]{6}$"
_RE_EMAIL = r"^[A-Za-z0-9._%+\-']+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}$"
_RE_INTEGER = r"^[0-9]{1,9}$"
_RE_ASCII_NAME = r"^[A-Za-z '\-.]*$"

_TRUE = ("true", "t", "yes", "y", "1")
_FALSE = ("false", "f", "no", "n", "0")
_SEXES = ("F", "M", "X", "U", "f", "m", "x", "u")
_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)


@dataclass(frozen=True)
class FastResult:
    """``accepted[i]``: cell i is blank or obviously valid, and ``values[i]`` is its standardised
    value (null for a blank). Cells not accepted are left for ``parse_cell``."""

    accepted: np.ndarray
    values: pa.Array


def _np(mask: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A boolean Arrow array as numpy, nulls as False."""
    return np.asarray(pc.fill_null(mask, False).to_numpy(zero_copy_only=False), dtype=bool)


def _matches(raw: pa.Array, pattern: str) -> np.ndarray:
    return _np(pc.match_substring_regex(raw, pattern))


def _keep(values: pa.Array, ok: np.ndarray, type_: pa.DataType) -> pa.Array:
    """``values`` where ``ok``, null elsewhere."""
    return pc.if_else(pa.array(ok, pa.bool_()), values, pa.scalar(None, type_))


def _filled(raw: pa.Array, ok: np.ndarray, filler: str) -> pa.Array:
    """``raw`` with every cell that is not ``ok`` replaced by a harmless ``filler``."""
    return pc.if_else(pa.array(ok, pa.bool_()), raw, pa.scalar(filler, pa.string()))


def _int_slice(text: pa.Array, start: int, stop: int) -> np.ndarray:
    part = pc.utf8_slice_codeunits(text, start=start, stop=stop)
    return np.asarray(pc.cast(part, pa.int64()).to_numpy(zero_copy_only=False), dtype=np.int64)


def _days(text: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """From 'YYYY-MM-DD...' strings: whether the date is real, in range, and its datetime64[D]."""
    year, month, day = _int_slice(text, 0, 4), _int_slice(text, 5, 7), _int_slice(text, 8, 10)
    month_ok = (month >= 1) & (month <= 12)
    safe_month = np.where(month_ok, month, 1)
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    limit = _DAYS_IN_MONTH[safe_month] + ((safe_month == 2) & leap)
    real = month_ok & (day >= 1) & (day <= limit) & (year >= EARLIEST_YEAR)
    safe_year = np.where(real, year, 1970)
    months = ((safe_year - 1970) * 12 + np.where(real, month, 1) - 1).astype("datetime64[M]")
    days = months.astype("datetime64[D]") + (np.where(real, day, 1) - 1).astype("timedelta64[D]")
    return real, days


def _fast_id(raw: pa.Array, column: Column) -> tuple[np.ndarray, pa.Array]:
    return _matches(raw, _RE_ID), raw


def _fast_text(raw: pa.Array, column: Column) -> tuple[np.ndarray, pa.Array]:
    short = _np(pc.less_equal(pc.utf8_length(raw), MAX_CELL_CHARS))
    return short & _matches(raw, _RE_TEXT), raw


def _fast_name(raw: pa.Array, column: Column) -> tuple[np.ndarray, pa.Array]:
    short = _np(pc.less_equal(pc.utf8_length(raw), 100))
    return short & _matches(raw, _RE_NAME), raw


def _fast_date(raw: pa.Array, column: Column) -> tuple[np.ndarray, pa.Array]:
    shaped = _matches(raw, _RE_DATE)
    real, days = _days(_filled(raw, shaped, "1970-01-01"))
    ok = shaped & real & (days <= np.datetime64(latest_moment().date(), "D"))
    return ok, pa.array(days, pa.date32())


def _fast_datetime(raw: pa.Array, column: Column) -> tuple[np.ndarray, pa.Array]:
    now = np.datetime64(latest_moment(), "us")  # taken before parse_cell could ever look
    shaped = _matches(raw, _RE_DATETIME)
    text = _filled(raw, shaped, "1970-01-01T00:00:00")
    real, days = _days(text)
    hour, minute = _int_slice(text, 11, 13), _int_slice(text, 14, 16)
    has_seconds = np.asarray(pc.utf8_length(text).to_numpy(zero_copy_only=False)) == 19
    seconds_text = _filled(text, has_seconds, "1970-01-01T00:00:00")
    second = np.where(has_seconds, _int_slice(seconds_text, 17, 19), 0)
    clock_ok = (hour <= 23) & (minute <= 59) & (second <= 59)
    stamp = days.astype("datetime64[s]") + (hour * 3600 + minute * 60 + second).astype("timedelta64[s]")
    stamp_us = stamp.astype("datetime64[us]")
    ok = shaped & real & clock_ok & (stamp_us <= now)
    return ok, pa.array(stamp_us, pa.timestamp("us"))


def _fast_sex(raw: pa.Array, column: Column) -> tuple[np.ndarray, pa.Array]:
    ok = _np(pc.is_in(raw, value_set=pa.array(_SEXES)))
    return ok, pc.ascii_upper(raw)


def _fast_postcode(raw: pa.Array, column: Column) -> tuple[np.ndarray, pa.Array]:
    ok = _matches(raw, _RE_POSTCODE)
    compact = pc.replace_substring(pc.ascii_upper(_filled(raw, ok, "AA1 1AA")), " ", "")
    outward = pc.utf8_slice_codeunits(compact, start=0, stop=-3)
    inward = pc.utf8_slice_codeunits(compact, start=-3)
    return ok, pc.binary_join_element_wise(outward, inward, " ")


def _digit_matrix(digits: pa.Array, width: int) -> np.ndarray:
    """Strings of exactly ``width`` ASCII digits (no nulls) as an (n, width) integer matrix."""
    text = pc.cast(digits, pa.string())
    offsets = np.frombuffer(text.buffers()[1], dtype=np.int32)[text.offset : text.offset + len(text) + 1]
    data = np.frombuffer(text.buffers()[2] or b"", dtype=np.uint8)[offsets[0] : offsets[-1]]
    if len(data) != len(text) * width:
        raise ValueError("digit strings of unexpected width")  # cannot happen after the regex
    return data.reshape(len(text), width).astype(np.int64) - 48


def nhs_check_ok(digits: np.ndarray) -> np.ndarray:
    """The modulus-11 check over an (n, 10) digit matrix."""
    weights = np.arange(10, 1, -1, dtype=np.int64)
    check = 11 - (digits[:, :9] @ weights) % 11
    check = np.where(check == 11, 0, check)
    return np.asarray((check != 10) & (check == digits[:, 9]), dtype=bool)


def _fast_nhs_number(raw: pa.Array, column: Column) -> tuple[np.ndarray, pa.Array]:
    shaped = _matches(raw, _RE_NHS)
    digits = pc.replace_substring_regex(_filled(raw, shaped, "0000000000"), r"[ \-]", "")
    matrix = _digit_matrix(digits, 10)
    return shaped & nhs_check_ok(matrix), digits


def _fast_uprn(raw: pa.Array, column: Column) -> tuple[np.ndarray, pa.Array]:
    ok = _matches(raw, _RE_UPRN)
    number = pc.cast(_filled(raw, ok, "0"), pa.int64())
    return ok, pc.cast(number, pa.string())


def _fast_urn(raw: pa.Array, column: Column) -> tuple[np.ndarray, pa.Array]:
    return _matches(raw, _RE_URN), raw


def _fast_email(raw: pa.Array, column: Column) -> tuple[np.ndarray, pa.Array]:
    short = _np(pc.less_equal(pc.utf8_length(raw), 254))
    return short & _matches(raw, _RE_EMAIL), pc.ascii_lower(raw)


def _fast_bool(raw: pa.Array, column: Column) -> tuple[np.ndarray, pa.Array]:
    lowered = pc.ascii_lower(raw)
    true = _np(pc.is_in(lowered, value_set=pa.array(_TRUE)))
    false = _np(pc.is_in(lowered, value_set=pa.array(_FALSE)))
    return true | false, pa.array(true, pa.bool_())


def _fast_code(raw: pa.Array, column: Column) -> tuple[np.ndarray, pa.Array]:
    lowered = pc.ascii_lower(raw)
    return _np(pc.is_in(lowered, value_set=pa.array(column.values, pa.string()))), lowered


def _fast_code_list(raw: pa.Array, column: Column) -> tuple[np.ndarray, pa.Array]:
    lowered = pc.ascii_lower(raw)
    one = "(?:" + "|".join(re.escape(v) for v in column.values) + ")"
    ok = _matches(lowered, f"^{one}(?:;{one})*$")
    present = np.zeros((len(raw), len(column.values)), dtype=bool)
    for j, value in enumerate(column.values):
        present[:, j] = ok & _matches(lowered, f"(?:^|;){re.escape(value)}(?:;|$)")
    return ok, code_lists_from_matrix(present, column.values)


def code_lists_from_matrix(present: np.ndarray, values: tuple[str, ...]) -> pa.Array:
    """Rows of a presence matrix as lists of the present values, in the contract's order."""
    offsets = np.zeros(len(present) + 1, dtype=np.int32)
    np.cumsum(present.sum(axis=1), out=offsets[1:])
    _, cols = np.nonzero(present)
    items = pc.take(pa.array(values, pa.string()), pa.array(cols.astype(np.int32)))
    return pa.ListArray.from_arrays(pa.array(offsets), items)


def _fast_integer(raw: pa.Array, column: Column) -> tuple[np.ndarray, pa.Array]:
    ok = _matches(raw, _RE_INTEGER)
    return ok, pc.cast(_filled(raw, ok, "0"), pa.int64())


_FAST: dict[ColumnType, Callable[[pa.Array, Column], tuple[np.ndarray, pa.Array]]] = {
    T.ID: _fast_id,
    T.TEXT: _fast_text,
    T.NAME: _fast_name,
    T.DATE: _fast_date,
    T.DATETIME: _fast_datetime,
    T.SEX: _fast_sex,
    T.POSTCODE: _fast_postcode,
    T.NHS_NUMBER: _fast_nhs_number,
    T.UPRN: _fast_uprn,
    T.URN: _fast_urn,
    T.EMAIL: _fast_email,
    T.BOOL: _fast_bool,
    T.CODE: _fast_code,
    T.CODE_LIST: _fast_code_list,
    T.INTEGER: _fast_integer,
}


def fast_parse(raw: pa.Array, column: Column) -> FastResult:
    """Run the column type's fast check over a string column. Blank cells ('' or null) are accepted
    with a null value; whether a blank is allowed is the caller's question, as with parse_cell."""
    blank = _np(pc.or_kleene(pc.is_null(raw), pc.equal(raw, "")))
    if len(raw) == 0 or blank.all():
        return FastResult(accepted=blank, values=pa.nulls(len(raw), arrow_type(column)))
    ok, values = _FAST[column.type](raw, column)
    ok = ok & ~blank
    return FastResult(accepted=ok | blank, values=_keep(values, ok, arrow_type(column)))


def name_keys(names: pa.Array) -> pa.Array:
    """``values.name_key`` over a column of standardised names (null stays null).

    Pure-ASCII names are reduced with Arrow string kernels (the same steps as ``name_key`` takes
    on ASCII text); any other name goes through ``name_key`` itself.
    """
    simple = _matches(names, _RE_ASCII_NAME)
    upper = pc.ascii_upper(names)
    kept = pc.replace_substring_regex(upper, r"['.]", "")
    spaced = pc.replace_substring_regex(kept, r"[^A-Z]+", " ")
    keys = pc.utf8_trim(spaced, " ")
    others = np.flatnonzero(~simple & ~np.asarray(pc.is_null(names).to_numpy(zero_copy_only=False)))
    if len(others) == 0:
        return keys
    # Names repeat: reduce each distinct one once.
    rest = pc.take(names, pa.array(others))
    distinct = pc.unique(rest)
    reduced = pa.array([name_key(str(v)) for v in distinct.to_pylist()], pa.string())
    patched = pc.take(reduced, pc.index_in(rest, value_set=distinct))
    mask = np.zeros(len(names), dtype=bool)
    mask[others] = True
    return pc.replace_with_mask(keys, pa.array(mask), patched)
