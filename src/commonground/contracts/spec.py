"""The shape of a feed contract: typed, validated when built, and plain data underneath.

A contract names its columns, their types and whether each must be present in the file
(``required``) and must hold a value on every row (``nullable=False``), or is expected but may be
unknown to the partner (``unknown_allowed``: a blank loads with a warning). Types say how a raw text cell is
checked and standardised (see :mod:`commonground.contracts.values`).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator


class ColumnType(StrEnum):
    """How a raw cell is read. Each type has one parser in ``values.PARSERS``."""

    ID = "id"  # an identifier from the partner's system: letters, digits, - _ / .
    TEXT = "text"  # free text: trimmed, whitespace collapsed; formula-like text kept, with a warning
    NAME = "name"  # a person's given or family name
    DATE = "date"  # YYYY-MM-DD
    DATETIME = "datetime"  # YYYY-MM-DDTHH:MM[:SS] (a space instead of T is accepted), local time
    SEX = "sex"  # F, M, X (indeterminate) or U (not known)
    POSTCODE = "postcode"  # a UK postcode, stored as 'AB1 2CD'
    NHS_NUMBER = "nhs_number"  # 10 digits with a valid modulus-11 check digit
    UPRN = "uprn"  # Unique Property Reference Number: 1 to 12 digits
    URN = "urn"  # school Unique Reference Number: 6 digits
    EMAIL = "email"
    BOOL = "bool"  # true/false, yes/no, y/n, 1/0
    CODE = "code"  # one of a fixed list of values
    CODE_LIST = "code_list"  # a ';'-separated list drawn from a fixed list of values
    INTEGER = "integer"  # a whole number, 0 or more


class Column(BaseModel):
    """One column of a feed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    type: ColumnType
    description: str
    required: bool = True
    """The column must be in the file. An optional column may be left out altogether."""
    nullable: bool = False
    """A blank cell is allowed. A bad value in a nullable column is blanked with a warning;
    in a non-nullable column it sends the row to quarantine."""
    values: tuple[str, ...] = ()
    """The allowed values of a CODE or CODE_LIST column, in canonical (lower-case) form."""
    unknown_allowed: bool = False
    """A value is expected (the column is not nullable), but the partner may not have it: a blank cell, or a bad
    value (blanked), keeps the row with a warning instead of sending it to quarantine. For a date of birth in feeds
    whose people may not or could not say (#15): losing the event would be worse than recording it without."""
    identity: bool = False
    """Part of the identity block: personal data, never echoed in a message or a log."""

    @property
    def blank_keeps_row(self) -> bool:
        """A blank or bad value is blanked and the row kept (with a warning for a bad value, and for a blank where
        a value is expected); otherwise the row goes to quarantine."""
        return self.nullable or self.unknown_allowed

    @model_validator(mode="after")
    def _codes_have_values(self) -> Self:
        coded = self.type in (ColumnType.CODE, ColumnType.CODE_LIST)
        if coded and not self.values:
            raise ValueError(f"column {self.name!r}: a {self.type} column needs its list of values")
        if not coded and self.values:
            raise ValueError(f"column {self.name!r}: only code columns take a list of values")
        if not self.required and not self.nullable:
            raise ValueError(f"column {self.name!r}: an optional column must be nullable")
        if self.unknown_allowed and self.nullable:
            raise ValueError(
                f"column {self.name!r}: unknown_allowed is for a column that expects a value (not nullable)"
            )
        return self


class FeedContract(BaseModel):
    """What one partner sends: the file it comes in, who sends it, and its columns."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str
    source: str
    description: str
    person_level: bool
    """Each row describes one person (it carries the identity block) and is linked later."""
    columns: tuple[Column, ...]
    unique: tuple[str, ...] = ("record_id",)
    """Columns whose values must be unique within the feed (checked within a file and across
    everything already loaded)."""

    @model_validator(mode="after")
    def _check_columns(self) -> Self:
        names = [c.name for c in self.columns]
        duplicates = {n for n in names if names.count(n) > 1}
        if duplicates:
            raise ValueError(f"feed {self.name!r}: columns named twice: {sorted(duplicates)}")
        if "record_id" not in names:
            raise ValueError(f"feed {self.name!r}: every feed has a record_id column")
        missing = [u for u in self.unique if u not in names]
        if missing:
            raise ValueError(f"feed {self.name!r}: unique columns not in the feed: {missing}")
        return self

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"feed {self.name!r} has no column {name!r}")
