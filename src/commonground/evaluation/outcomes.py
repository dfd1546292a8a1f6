"""Outcomes as data: which linked records count as the outcome, in the rule packs' condition language.

An outcome names kinds of record (a rules source, see ``commonground.rules.sources``, with
conditions on its coded columns, as in the rule packs) and, optionally, the *index events* that
make a person eligible as a comparison: by default the outcome's own events ("another crisis"
compares people who had a crisis). The outcomes kept in the repository are in ``outcomes.yaml``
beside this module; :func:`load_outcomes` reads an area's own file.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from commonground.errors import UserError
from commonground.rules.sources import DERIVED_SOURCES, SOURCES, ColumnKind
from commonground.rules.spec import Condition

OUTCOMES_FILE = Path(__file__).with_name("outcomes.yaml")
_NAME = r"^[a-z][a-z0-9_]*$"


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class Population(StrEnum):
    ADULT = "adult"
    CHILD = "child"
    ANY = "any"


class OutcomeEvent(_Spec):
    """One kind of record that counts."""

    source: str
    label: str = Field(min_length=3, max_length=200)
    where: tuple[Condition, ...] = ()

    @model_validator(mode="after")
    def _check(self) -> Self:
        source = SOURCES.get(self.source)
        if source is None or not source.person or source.name in DERIVED_SOURCES:
            usable = sorted(n for n, s in SOURCES.items() if s.person and n not in DERIVED_SOURCES)
            raise ValueError(f"unknown source {self.source!r} (one of: {', '.join(usable)})")
        for condition in self.where:
            for column, kind, values in condition.columns():
                known = source.columns.get(column)
                if known is None:
                    raise ValueError(f"{self.source} has no column {column!r} (columns: {', '.join(source.columns)})")
                if known.kind is not kind:
                    raise ValueError(f"{self.source}.{column} is a {known.kind.value}, not a {kind.value}")
                if kind in (ColumnKind.CODE, ColumnKind.CODE_LIST):
                    unknown = sorted(set(values) - set(known.values))
                    if unknown:
                        raise ValueError(
                            f"{unknown} not codes of {self.source}.{column} (allowed: {', '.join(known.values)})"
                        )
        return self


class OutcomeSpec(_Spec):
    """An outcome measured from linked records."""

    name: str = Field(pattern=_NAME)
    title: str = Field(min_length=3, max_length=120)
    description: str = Field(min_length=10)
    population: Population = Population.ANY
    """Who can be in the comparison group: adults (18 or over at the index date), children, or anyone."""
    events: tuple[OutcomeEvent, ...] = Field(min_length=1)
    index_events: tuple[OutcomeEvent, ...] = ()
    """What makes a person eligible as a comparison (their index date); the outcome's events if empty."""

    @property
    def eligibility(self) -> tuple[OutcomeEvent, ...]:
        return self.index_events or self.events

    def explain(self) -> str:
        """The outcome in words, with the records it counts."""
        lines = [f"{self.title} ({self.name}): {self.description}", "Counts:"]
        lines += [f"  - {event.label}" for event in self.events]
        if self.index_events:
            lines.append("Comparison people are those with:")
            lines += [f"  - {event.label}" for event in self.index_events]
        return "\n".join(lines)


class OutcomeFile(_Spec):
    version: int = Field(ge=1)
    outcomes: tuple[OutcomeSpec, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> Self:
        names = [o.name for o in self.outcomes]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"outcome names used twice: {', '.join(repeated)}")
        return self


def load_outcomes(path: Path = OUTCOMES_FILE) -> dict[str, OutcomeSpec]:
    """The outcomes of a YAML file, by name; a :class:`UserError` naming the file and the problem."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        parsed = OutcomeFile.model_validate(data)
    except (OSError, yaml.YAMLError) as error:
        raise UserError(f"{path}: {error}") from error
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg'].removeprefix('Value error, ')}" for e in error.errors()
        )
        raise UserError(f"{path.name}: {problems}") from error
    return {o.name: o for o in parsed.outcomes}


def default_outcomes() -> dict[str, OutcomeSpec]:
    """The outcomes kept in the repository."""
    return load_outcomes(OUTCOMES_FILE)


def outcome_named(name: str, outcomes: dict[str, OutcomeSpec] | None = None) -> OutcomeSpec:
    known = outcomes if outcomes is not None else default_outcomes()
    if name not in known:
        raise UserError(f"unknown outcome {name!r} (one of: {', '.join(sorted(known))})")
    return known[name]
