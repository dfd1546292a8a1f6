"""Literal cases for every value type: raw cell -> standardised value, or the reason it fails."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from commonground.contracts import FEEDS, Column, ColumnType
from commonground.contracts.values import (
    FORMULA_WARNING,
    ValueProblem,
    name_key,
    nhs_number_is_valid,
    parse_cell,
    value_warning,
)


def col(type_: ColumnType, values: tuple[str, ...] = ()) -> Column:
    return Column(name="c", type=type_, description="test column", values=values)


GOOD = [
    (ColumnType.ID, " PI-000123 ", "PI-000123"),
    (ColumnType.ID, "WMP/2023/0412", "WMP/2023/0412"),
    (ColumnType.TEXT, "  12   Acacia  Avenue ", "12 Acacia Avenue"),
    (ColumnType.TEXT, "-5 degrees outside", "-5 degrees outside"),  # text, formula-like or not (#18): kept
    (ColumnType.TEXT, '=HYPERLINK("http://x")', '=HYPERLINK("http://x")'),
    (ColumnType.TEXT, "@SUM(A1)", "@SUM(A1)"),
    (ColumnType.TEXT, "+cmd|' /C calc'!A0", "+cmd|' /C calc'!A0"),
    (ColumnType.TEXT, "-2+3+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0"),
    (ColumnType.NAME, "Siân", "Siân"),
    (ColumnType.NAME, "O'Neill-Jones", "O'Neill-Jones"),
    (ColumnType.NAME, "Mary Ann", "Mary Ann"),
    (ColumnType.DATE, "2012-02-29", date(2012, 2, 29)),
    (ColumnType.DATETIME, "2024-03-01T23:59", datetime(2024, 3, 1, 23, 59)),
    (ColumnType.DATETIME, "2024-03-01 08:05:09", datetime(2024, 3, 1, 8, 5, 9)),
    (ColumnType.SEX, "f", "F"),
    (ColumnType.SEX, "U", "U"),
    (ColumnType.POSTCODE, "sw1a1aa", "SW1A 1AA"),
    (ColumnType.POSTCODE, " m1  1ae ", "M1 1AE"),
    (ColumnType.POSTCODE, "QX12 3AB", "QX12 3AB"),
    (ColumnType.NHS_NUMBER, "943 476 5919", "9434765919"),
    (ColumnType.NHS_NUMBER, "943-476-5919", "9434765919"),
    (ColumnType.UPRN, "100023336956", "100023336956"),
    (ColumnType.UPRN, "0012", "12"),
    (ColumnType.URN, "100000", "100000"),
    (ColumnType.EMAIL, "DSL@School.Example.org", "dsl@school.example.org"),
    (ColumnType.BOOL, "Yes", True),
    (ColumnType.BOOL, "0", False),
    (ColumnType.INTEGER, "45", 45),
]


@pytest.mark.parametrize(("type_", "raw", "expected"), GOOD)
def test_good_values_are_standardised(type_: ColumnType, raw: str, expected: object) -> None:
    assert parse_cell(raw, col(type_)) == expected


BAD = [
    (ColumnType.ID, "has space", "not an identifier"),
    (ColumnType.ID, "x" * 65, "not an identifier"),
    (ColumnType.NAME, "J0hn", "not a name"),
    (ColumnType.NAME, "x" * 101, "longer than 100 characters"),
    (ColumnType.DATE, "03/04/2012", "not a date in the form YYYY-MM-DD"),
    (ColumnType.DATE, "2011-02-29", "not a real calendar date"),
    (ColumnType.DATE, "1899-12-31", "before 1900"),
    (ColumnType.DATE, "2999-01-01", "in the future"),
    (ColumnType.DATETIME, "2024-03-01", "not a date and time"),
    (ColumnType.DATETIME, "2024-03-01T24:00", "not a real time of day"),
    (ColumnType.SEX, "female", "not one of F, M, X, U"),
    (ColumnType.POSTCODE, "12345", "not a UK postcode"),
    (ColumnType.POSTCODE, "SW1A", "not a UK postcode"),
    (ColumnType.NHS_NUMBER, "943476591", "not 10 digits"),
    (ColumnType.NHS_NUMBER, "9434765918", "fails the NHS number check digit"),
    (ColumnType.UPRN, "000100023336956", "not a UPRN"),
    (ColumnType.UPRN, "12a", "not a UPRN"),
    (ColumnType.URN, "12345", "not a school URN"),
    (ColumnType.EMAIL, "not-an-email", "not an email address"),
    (ColumnType.BOOL, "maybe", "not true or false"),
    (ColumnType.INTEGER, "-3", "not a whole number"),
    (ColumnType.TEXT, "x" * 2001, "longer than 2000 characters"),
    (ColumnType.TEXT, "a\x00b", "contains a NUL byte"),
    (ColumnType.TEXT, "caf\udce9", "contains bytes that are not valid UTF-8"),
    (ColumnType.UPRN, "12\u00b3", "not a UPRN"),  # a superscript three
    (ColumnType.UPRN, "\u0661\u0662\u0663", "not a UPRN"),  # Arabic-Indic digits
    (ColumnType.NHS_NUMBER, "\u0669\u0664\u0663\u0664\u0667\u0666\u0665\u0669\u0661\u0669", "not 10 digits"),
    (ColumnType.DATE, "\u0662\u0660\u0661\u0662-01-01", "not a date in the form YYYY-MM-DD"),
    (ColumnType.INTEGER, "\u00b2", "not a whole number"),
]


@pytest.mark.parametrize(("type_", "raw", "reason"), BAD)
def test_bad_values_give_a_reason_without_the_value(type_: ColumnType, raw: str, reason: str) -> None:
    with pytest.raises(ValueProblem) as caught:
        parse_cell(raw, col(type_))
    assert caught.value.reason.startswith(reason)
    assert raw not in caught.value.reason


@pytest.mark.parametrize(
    ("type_", "value", "warned"),
    [
        (ColumnType.TEXT, "=1+1", True),
        (ColumnType.TEXT, "-2+3+cmd|' /C calc'!A0", True),
        (ColumnType.TEXT, "-5 degrees outside", True),
        (ColumnType.TEXT, "-5", False),
        (ColumnType.TEXT, "+44 20 7946 0000", False),
        (ColumnType.TEXT, "12 Acacia Avenue", False),
        (ColumnType.TEXT, None, False),
        (ColumnType.EMAIL, "+tag@example.org", False),  # only text columns are warned about
        (ColumnType.NAME, "Siân", False),
    ],
)
def test_a_formula_like_text_value_is_warned_about(type_: ColumnType, value: str | None, warned: bool) -> None:
    assert value_warning(value, col(type_)) == (FORMULA_WARNING if warned else None)


def test_codes_are_canonical_and_lists_are_ordered_as_the_contract() -> None:
    qualifiers = FEEDS["police_incidents"].column("qualifiers")
    assert parse_cell(" Child_Present ;DOMESTIC_ABUSE;; child_present", qualifiers) == [
        "domestic_abuse",
        "child_present",
    ]
    with pytest.raises(ValueProblem, match="holds 1 value not in the allowed list") as caught:
        parse_cell("domestic_abuse;arson", qualifiers)
    assert "arson" not in caught.value.reason
    assert parse_cell(" ; ;", qualifiers) is None
    role = FEEDS["police_incident_persons"].column("role")
    assert parse_cell("Victim", role) == "victim"
    with pytest.raises(ValueProblem, match="not one of the allowed values"):
        parse_cell("bystander", role)


def test_blank_cells_are_none() -> None:
    assert parse_cell("   ", col(ColumnType.DATE)) is None
    assert parse_cell(None, col(ColumnType.NAME)) is None


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Siân O'Neill-Jones", "SIAN ONEILL JONES"),
        ("  de  la Cruz ", "DE LA CRUZ"),
        ("Zoë", "ZOE"),
        ("St. John", "ST JOHN"),
    ],
)
def test_name_key(name: str, key: str) -> None:
    assert name_key(name) == key


@pytest.mark.parametrize(
    ("number", "valid"),
    [("9434765919", True), ("4010232137", True), ("9434765918", False), ("1234567890", False), ("123", False)],
)
def test_nhs_number_check_digit(number: str, valid: bool) -> None:
    # 1234567890 has check value 10, which no valid NHS number can have.
    assert nhs_number_is_valid(number) is valid
