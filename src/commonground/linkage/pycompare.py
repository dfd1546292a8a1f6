"""The prepare step and the model's comparison levels in plain Python, for one record at a time.

Linkage runs as SQL (:mod:`.prepare`, Splink's comparison levels), which is the right shape for
millions of records and the wrong one for one: a SQL engine spends tens of milliseconds planning a
statement that then runs in under one. Real-time intake (:mod:`.realtime`) therefore prepares the
incoming record and sorts each candidate pair into its levels here, with the same definitions as the
SQL, written out once more. Tests hold the two to each other: every record of a synthetic area
prepared both ways gives the same values, and every candidate pair gets the level Splink gives it.

The string measures are DuckDB's: Jaro-Winkler as DuckDB's ``jaro_winkler_similarity`` (prefix
weight 0.1 up to four characters, applied above a Jaro similarity of 0.7) and unrestricted
Damerau-Levenshtein as ``damerau_levenshtein``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date
from functools import lru_cache
from typing import Any

from commonground.linkage.compile import _REGEX_PARTS, _SUBSTR_PARTS, YEAR_SLIP_DAYS_PER_YEAR
from commonground.linkage.prepare import name_alternatives
from commonground.linkage.spec import (
    AlternativeLevel,
    ComparisonSpec,
    DateWithinLevel,
    DayMonthSwappedLevel,
    EditDistanceLevel,
    ElseLevel,
    ExactLevel,
    JaroWinklerLevel,
    LevelSpec,
    MissingLevel,
    Part,
    SwappedAlternativeLevel,
    SwappedLevel,
    YearSlipLevel,
)
from commonground.linkage.standardise import standardise_address

Record = Mapping[str, Any]
Condition = Callable[[Record, Record], bool]

_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_SEXES = frozenset({"F", "M", "X"})
# Splink's AbsoluteDateDifferenceLevel: seconds in an average month and year.
_SECONDS = {"day": 86_400.0, "month": 2_629_800.0, "year": 31_557_600.0}


def _trim(value: Any) -> str | None:
    """``NULLIF(TRIM(CAST(value AS VARCHAR)), '')`` (TRIM removes spaces only)."""
    if value is None:
        return None
    text = str(value).strip(" ")
    return text or None


def _date(text: str | None) -> date | None:
    """``TRY_CAST(text AS DATE)`` for the ISO dates the feeds carry."""
    if text is None:
        return None
    found = _ISO_DATE.fullmatch(text)
    if not found:
        return None
    try:
        return date(int(found[1]), int(found[2]), int(found[3]))
    except ValueError:
        return None


def prepare_record(record: Record) -> dict[str, Any]:
    """One standardised record (:data:`.prepare.INPUT_COLUMNS`) -> its prepared record, as
    :func:`.prepare.prepare_records` makes it."""
    given, family = _trim(record.get("given_name_key")), _trim(record.get("family_name_key"))
    names = [n for n in (given, family) if n is not None]
    dob = _trim(record.get("date_of_birth"))
    sex = _trim(record.get("sex"))
    sex = sex.upper() if sex is not None and sex.upper() in _SEXES else None
    postcode = _trim(record.get("postcode"))
    raw_address = record.get("address")
    address = standardise_address(str(raw_address)) if raw_address is not None else None
    alternatives = name_alternatives().get(given) if given is not None else None
    family_alternatives = name_alternatives().get(family) if family is not None else None
    return {
        "unique_id": None if record.get("unique_id") is None else str(record["unique_id"]),
        "feed": None if record.get("feed") is None else str(record["feed"]),
        "given_name_key": given,
        "family_name_key": family,
        "given_name_alternatives": list(alternatives) if alternatives is not None else None,
        "family_name_alternatives": list(family_alternatives) if family_alternatives is not None else None,
        # LEAST and GREATEST skip a missing name: one name alone is sorted against itself.
        "names_sorted": f"{min(names)} {max(names)}" if names else None,
        "date_of_birth": dob,
        "date_of_birth_date": _date(dob),
        "sex": sex,
        "postcode": postcode.upper() if postcode is not None else None,
        "address": address,
        "nhs_number": _trim(record.get("nhs_number")),
        "uprn": _trim(record.get("uprn")),
    }


def part_value(value: Any, part: Part | None) -> Any:
    """A named part of a value, as ``compile.column_expression`` writes it in SQL."""
    if value is None or part is None:
        return value
    text = str(value)
    if part in _REGEX_PARTS:
        found = re.search(_REGEX_PARTS[part], text)
        return found[0] if found and found[0] else None
    start, length = _SUBSTR_PARTS[part]
    return text[start - 1 : start - 1 + length]


@lru_cache(maxsize=200_000)
def jaro_winkler(a: str, b: str) -> float:
    """DuckDB's ``jaro_winkler_similarity``."""
    if not a and not b:
        return 1.0
    if not a or not b:
        return 0.0
    window = max(max(len(a), len(b)) // 2 - 1, 0)
    used = [False] * len(b)
    matched_a = []
    for i, ch in enumerate(a):
        for j in range(max(0, i - window), min(len(b), i + window + 1)):
            if not used[j] and b[j] == ch:
                used[j] = True
                matched_a.append(ch)
                break
    m = len(matched_a)
    if m == 0:
        return 0.0
    matched_b = [b[j] for j in range(len(b)) if used[j]]
    transpositions = sum(x != y for x, y in zip(matched_a, matched_b, strict=True)) // 2
    sim = (m / len(a) + m / len(b) + (m - transpositions) / m) / 3
    if sim > 0.7:
        prefix = 0
        for x, y in zip(a[:4], b[:4], strict=False):
            if x != y:
                break
            prefix += 1
        sim += prefix * 0.1 * (1 - sim)
    return sim


@lru_cache(maxsize=200_000)
def damerau_levenshtein(a: str, b: str) -> int:
    """DuckDB's ``damerau_levenshtein``: unrestricted (adjacent transpositions may be edited again)."""
    # A common prefix and suffix cost nothing (dates mostly share the year): compare the rest.
    start = 0
    while start < min(len(a), len(b)) and a[start] == b[start]:
        start += 1
    end = 0
    while end < min(len(a), len(b)) - start and a[-1 - end] == b[-1 - end]:
        end += 1
    a, b = a[start : len(a) - end], b[start : len(b) - end]
    if not a or not b:
        return len(a) + len(b)
    big = len(a) + len(b)
    last_row: dict[str, int] = {}
    d = [[big] * (len(b) + 2)] + [[big] + [0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) + 1):
        d[i + 1][1] = i
    for j in range(len(b) + 1):
        d[1][j + 1] = j
    for i in range(1, len(a) + 1):
        last_col = 0
        for j in range(1, len(b) + 1):
            k, ell = last_row.get(b[j - 1], 0), last_col
            cost = 1
            if a[i - 1] == b[j - 1]:
                cost, last_col = 0, j
            d[i + 1][j + 1] = min(
                d[i][j] + cost,
                d[i + 1][j] + 1,
                d[i][j + 1] + 1,
                d[k][ell] + (i - k - 1) + 1 + (j - ell - 1),
            )
        last_row[a[i - 1]] = i
    return d[len(a) + 1][len(b) + 1]


@lru_cache(maxsize=200_000)
def levenshtein(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def _both(column: str, part: Part | None, test: Callable[[Any, Any], bool]) -> Condition:
    """A condition on the two sides' values that is false when either is missing (SQL NULL)."""

    def condition(left: Record, right: Record) -> bool:
        a, b = part_value(left.get(column), part), part_value(right.get(column), part)
        return a is not None and b is not None and test(a, b)

    return condition


def _reversed(first: str, second: str, *, both_ways: bool) -> Condition:
    def condition(left: Record, right: Record) -> bool:
        a, b = left.get(first), right.get(second)
        crossed = a is not None and b is not None and a == b
        if both_ways:
            c, d = right.get(first), left.get(second)
            return crossed and c is not None and d is not None and c == d
        c, d = left.get(second), right.get(first)
        return crossed or (c is not None and d is not None and c == d)

    return condition


def _day_month_swapped(column: str) -> Condition:
    def test(a: Any, b: Any) -> bool:
        x, y = str(a), str(b)
        return x[0:4] == y[0:4] and x[5:7] == y[8:10] and x[8:10] == y[5:7]

    return _both(column, None, test)


def _swapped_alternative(level: SwappedAlternativeLevel, column: str) -> Condition:
    def meets(a: Any, b: Any) -> bool:
        return a is not None and b is not None and bool(set(a) & set(b))

    def condition(left: Record, right: Record) -> bool:
        one_way = (
            left.get(column) is not None
            and left.get(column) == right.get(level.other_column)
            and meets(left.get(level.other_alternatives), right.get(level.alternatives))
        )
        other_way = (
            left.get(level.other_column) is not None
            and left.get(level.other_column) == right.get(column)
            and meets(left.get(level.alternatives), right.get(level.other_alternatives))
        )
        return one_way or other_way

    return condition


def _year_slip(level: YearSlipLevel, text_column: str) -> Condition:
    most = YEAR_SLIP_DAYS_PER_YEAR * level.years
    same_day_month = _both(text_column, Part.MONTH_DAY, lambda a, b: a == b)
    close = _both(level.column, None, lambda a, b: abs((a - b).days) <= most)
    return lambda left, right: same_day_month(left, right) and close(left, right)


def level_condition(level: LevelSpec, default_column: str) -> Condition:  # noqa: C901 (one case per kind)
    """The Python twin of ``compile.level_creator``: does a pair fall in this level?"""
    match level:
        case MissingLevel():
            columns = level.columns or (default_column,)
            return lambda left, right: all(left.get(c) is None or right.get(c) is None for c in columns)
        case ExactLevel():
            return _both(level.column or default_column, level.part, lambda a, b: a == b)
        case JaroWinklerLevel():
            threshold = level.threshold
            return _both(level.column or default_column, level.part, lambda a, b: jaro_winkler(a, b) >= threshold)
        case EditDistanceLevel():
            distance = damerau_levenshtein if level.transpositions else levenshtein
            most = level.max_edits
            return _both(level.column or default_column, level.part, lambda a, b: distance(a, b) <= most)
        case SwappedLevel():
            return _reversed(default_column, level.other_column, both_ways=level.both_ways)
        case SwappedAlternativeLevel():
            return _swapped_alternative(level, default_column)
        case AlternativeLevel():
            return _both(level.column, None, lambda a, b: bool(set(a) & set(b)))
        case YearSlipLevel():
            return _year_slip(level, default_column)
        case DayMonthSwappedLevel():
            return _day_month_swapped(default_column)
        case DateWithinLevel():
            seconds = level.amount * _SECONDS[level.unit]
            return _both(level.column, None, lambda a, b: abs((a - b).days) * 86_400 <= seconds)
        case ElseLevel():
            return lambda left, right: True
    raise ValueError(f"no Python form for level {level!r}")  # pragma: no cover (the spec allows no other kind)


def comparison_levels(spec: ComparisonSpec) -> list[tuple[int, Condition]]:
    """(Splink's comparison vector value, condition) for each level, in the order they are tried:
    -1 for the missing level, then from the top level (n-1) down to 0."""
    non_missing = sum(not isinstance(lv, MissingLevel) for lv in spec.levels)
    found, value = [], non_missing - 1
    for level in spec.levels:
        if isinstance(level, MissingLevel):
            found.append((-1, level_condition(level, spec.column)))
        else:
            found.append((value, level_condition(level, spec.column)))
            value -= 1
    return found


def gamma(levels: list[tuple[int, Condition]], left: Record, right: Record) -> int:
    """The comparison vector value of a pair: the first level whose condition holds."""
    for value, condition in levels:
        if condition(left, right):
            return value
    return 0  # pragma: no cover (every comparison ends with an else level)
