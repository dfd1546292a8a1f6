"""Turn a :class:`~commonground.linkage.spec.LinkageModelSpec` into Splink settings.

Everything is built from Splink's comparison-level library (and one small level of our own for
day/month transposition), whose creators write their SQL only when a linker supplies the dialect.
So the same spec serves DuckDB now and Spark later, with no engine-specific SQL in the spec.
"""

from __future__ import annotations

from typing import Any

import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import ColumnExpression, SettingsCreator, block_on
from splink.internals.blocking_rule_creator import BlockingRuleCreator
from splink.internals.comparison_level_creator import ComparisonLevelCreator
from splink.internals.dialects import SplinkDialect

from commonground.linkage.parameters import ModelParameters
from commonground.linkage.spec import (
    AlternativeLevel,
    BlockingRuleSpec,
    ComparisonSpec,
    DateWithinLevel,
    DayMonthSwappedLevel,
    EditDistanceLevel,
    ElseLevel,
    ExactLevel,
    JaroWinklerLevel,
    LevelSpec,
    LinkageModelSpec,
    MissingLevel,
    Part,
    SwappedAlternativeLevel,
    SwappedLevel,
    YearSlipLevel,
)

UNIQUE_ID = "unique_id"
RETAINED_COLUMNS = ("feed",)
"""Carried through to predictions and clusters untouched."""

# Every part as a Splink column expression: regex_extract (NULL when nothing matches) or substr.
_REGEX_PARTS: dict[Part, str] = {
    # The postcode patterns are Splink's own (PostcodeComparison): outward code, then sector digit.
    Part.POSTCODE_SECTOR: cl.PostcodeComparison.SECTOR_REGEX,
    Part.POSTCODE_DISTRICT: cl.PostcodeComparison.DISTRICT_REGEX,
    Part.POSTCODE_AREA: cl.PostcodeComparison.AREA_REGEX,
    Part.HOUSE_NUMBER: "^[0-9]+[A-Za-z]?",
}
_SUBSTR_PARTS: dict[Part, tuple[int, int]] = {
    Part.YEAR: (1, 4),
    Part.YEAR_MONTH: (1, 7),
    Part.MONTH_DAY: (6, 5),
    Part.INITIAL: (1, 1),
}


def column_expression(column: str, part: Part | None = None) -> ColumnExpression:
    expr = ColumnExpression(column)
    if part is None:
        return expr
    if part in _REGEX_PARTS:
        return expr.regex_extract(_REGEX_PARTS[part])
    start, length = _SUBSTR_PARTS[part]
    return expr.substr(start, length)


class DayMonthTransposedLevel(ComparisonLevelCreator):
    """Same year, and the day on each side is the month on the other (ISO 'YYYY-MM-DD' text).

    Written with Splink's dialect-aware ``substr``, so it compiles for any backend. Equal dates
    are caught by the exact level above it; '1987-03-03' against itself never reaches here.
    """

    def __init__(self, col_name: str) -> None:
        self.col_name = col_name

    def create_sql(self, sql_dialect: SplinkDialect) -> str:
        def piece(start: int, length: int) -> ColumnExpression:
            expr = ColumnExpression(self.col_name).substr(start, length)
            expr.sql_dialect = sql_dialect
            return expr

        year, month, day = piece(1, 4), piece(6, 2), piece(9, 2)
        return f"{year.name_l} = {year.name_r} AND {month.name_l} = {day.name_r} AND {day.name_l} = {month.name_r}"

    def create_label_for_charts(self) -> str:
        return "Day and month swapped"


class CrossArrayIntersectLevel(ComparisonLevelCreator):
    """Array ``left_column`` of the left record shares at least one element with array
    ``right_column`` of the right record (Splink's array intersection, across two columns)."""

    def __init__(self, left_column: str, right_column: str) -> None:
        self.left_column = left_column
        self.right_column = right_column

    def create_sql(self, sql_dialect: SplinkDialect) -> str:
        # Splink's own array-intersection SQL for the dialect, with the right side's column swapped in.
        same = cll.ArrayIntersectLevel(self.left_column, min_intersection=1)
        sql = same.create_sql(sql_dialect)
        left, right = ColumnExpression(self.left_column), ColumnExpression(self.right_column)
        left.sql_dialect = right.sql_dialect = sql_dialect
        if sql.count(left.name_r) != 1:
            raise ValueError(f"unexpected array intersection SQL for {sql_dialect.sql_dialect_str}: {sql}")
        return sql.replace(left.name_r, right.name_r)

    def create_label_for_charts(self) -> str:
        return f"{self.left_column} shares an element with {self.right_column}"


def swapped_alternative_creator(level: SwappedAlternativeLevel, column: str) -> ComparisonLevelCreator:
    """Names swapped, one of them shortened: (column_l = other_r and other's alternatives on the
    left meet column's alternatives on the right), or the same the other way round."""
    return cll.Or(
        cll.And(
            cll.ColumnsReversedLevel(column, level.other_column),
            CrossArrayIntersectLevel(level.other_alternatives, level.alternatives),
        ),
        cll.And(
            cll.ColumnsReversedLevel(level.other_column, column),
            CrossArrayIntersectLevel(level.alternatives, level.other_alternatives),
        ),
    )


YEAR_SLIP_DAYS_PER_YEAR = 367
"""A year slip's dates are at most 366 days apart a year (a leap day between them): with the same
day and month, 'within 367 days a year' is exactly 'whole years apart'."""


def year_slip_creator(level: YearSlipLevel, text_column: str) -> ComparisonLevelCreator:
    return cll.And(
        cll.ExactMatchLevel(column_expression(text_column, Part.MONTH_DAY)),
        cll.AbsoluteDateDifferenceLevel(
            level.column, input_is_string=False, threshold=YEAR_SLIP_DAYS_PER_YEAR * level.years, metric="day"
        ),
    )


def level_creator(level: LevelSpec, default_column: str) -> ComparisonLevelCreator:  # noqa: C901 (one case per kind)
    """The Splink comparison-level creator for one level of our spec."""
    creator: ComparisonLevelCreator
    match level:
        case MissingLevel():
            nulls = [cll.NullLevel(c) for c in (level.columns or (default_column,))]
            creator = nulls[0] if len(nulls) == 1 else cll.And(*nulls)
        case ExactLevel():
            col = level.column or default_column
            creator = cll.ExactMatchLevel(column_expression(col, level.part))
            if level.term_frequency:
                creator.configure(tf_adjustment_column=col, tf_adjustment_weight=1.0)
        case JaroWinklerLevel():
            expr = column_expression(level.column or default_column, level.part)
            creator = cll.JaroWinklerLevel(expr, level.threshold)
        case EditDistanceLevel():
            expr = column_expression(level.column or default_column, level.part)
            creator = (
                cll.DamerauLevenshteinLevel(expr, level.max_edits)
                if level.transpositions
                else cll.LevenshteinLevel(expr, level.max_edits)
            )
        case SwappedLevel():
            if level.both_ways:
                creator = cll.ColumnsReversedLevel(default_column, level.other_column, symmetrical=True)
            else:
                creator = cll.Or(
                    cll.ColumnsReversedLevel(default_column, level.other_column),
                    cll.ColumnsReversedLevel(level.other_column, default_column),
                )
        case SwappedAlternativeLevel():
            creator = swapped_alternative_creator(level, default_column)
        case AlternativeLevel():
            creator = cll.ArrayIntersectLevel(level.column, min_intersection=1)
        case YearSlipLevel():
            creator = year_slip_creator(level, default_column)
        case DayMonthSwappedLevel():
            creator = DayMonthTransposedLevel(default_column)
        case DateWithinLevel():
            creator = cll.AbsoluteDateDifferenceLevel(
                level.column, input_is_string=False, threshold=level.amount, metric=level.unit
            )
        case ElseLevel():
            creator = cll.ElseLevel()
    return creator.configure(label_for_charts=level.label)


def comparison_creator(spec: ComparisonSpec, parameters: ModelParameters | None = None) -> cl.CustomComparison:
    levels: list[ComparisonLevelCreator | dict[str, Any]] = []
    for index, level in enumerate(spec.levels):
        creator = level_creator(level, spec.column)
        if parameters is not None and not isinstance(level, MissingLevel):
            trained = parameters.level(spec.name, index)
            if trained.label != level.label:
                raise ValueError(
                    f"trained parameters do not fit the spec: {spec.name} level {index} is "
                    f"{level.label!r} in the spec but {trained.label!r} in the model"
                )
            if trained.m_probability is not None:
                creator.configure(m_probability=trained.m_probability)
            if trained.u_probability is not None:
                creator.configure(u_probability=trained.u_probability)
        levels.append(creator)
    return cl.CustomComparison(levels, output_column_name=spec.name, comparison_description=spec.title)


def blocking_rule_creator(rule: BlockingRuleSpec) -> BlockingRuleCreator:
    return block_on(*(column_expression(key.column, key.part) for key in rule))


def settings_creator(
    spec: LinkageModelSpec,
    *,
    parameters: ModelParameters | None = None,
    blocking_rules: tuple[BlockingRuleSpec, ...] | None = None,
    probability_two_random_records_match: float | None = None,
) -> SettingsCreator:
    """Splink settings for the spec, dialect still open; with trained ``parameters`` if given, and
    ``blocking_rules`` (``spec.blocking_rules_for(records)``) in place of the spec's own, and
    ``probability_two_random_records_match`` (``threshold.prior_for(model, records)``) in place
    of the trained prior.

    Every input is one table of prepared records from all feeds, so the link type is
    ``dedupe_only``: records within one feed are linked too (one person, many attendances).
    """
    settings = SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name=UNIQUE_ID,
        comparisons=[comparison_creator(c, parameters) for c in spec.comparisons],
        blocking_rules_to_generate_predictions=[
            blocking_rule_creator(r) for r in (spec.blocking_rules if blocking_rules is None else blocking_rules)
        ],
        additional_columns_to_retain=list(RETAINED_COLUMNS),
        retain_matching_columns=True,
        retain_intermediate_calculation_columns=True,
    )
    if probability_two_random_records_match is not None:
        settings.probability_two_random_records_match = probability_two_random_records_match
    elif parameters is not None:
        settings.probability_two_random_records_match = parameters.probability_two_random_records_match
    return settings


def settings_dict(spec: LinkageModelSpec, *, dialect: str, parameters: ModelParameters | None = None) -> dict[str, Any]:
    """The complete Splink settings dict for a dialect ("duckdb", "spark"): SQL written out."""
    return settings_creator(spec, parameters=parameters).create_settings_dict(dialect)
