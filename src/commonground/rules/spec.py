"""Rule packs as data: typed specs that validate when built and round-trip to YAML.

A rule says, in words and in structure, what evidence makes it fire for whom::

    id: ace.household_mental_illness          # stable; partners script against it
    version: 1                                # bumped whenever the meaning changes
    population: child                         # whose indicator it is
    produces: indicator                       # or flag (then the routing pack says where it goes)
    evidence:                                 # any of these records is evidence
      - source: mental_health_contacts
        relation: household_adult             # an adult living with the child at the time
        label: an adult of the child's household detained under the Mental Health Act or in crisis care
        where:
          - any:
              - {column: mha_section, in: ["2", "3", "135", "136"]}
              - {column: service, in: [crisis]}
    window_days: 30                           # optional: the requirements must hold within this many days
    require: [{at_least: 3, of: days}]        # optional: by default one record is enough

Nothing here knows SQL; :mod:`commonground.rules.compile` turns a rule into SQL for an engine.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator, model_validator

from commonground.contracts import codes
from commonground.rules.sources import FORBIDDEN_WORDS, SOURCES, ColumnKind, Source

_NAME = r"^[a-z][a-z0-9_]*$"


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


# ---------------------------------------------------------------------------------------------
# Conditions on one record


def _as_codes(value: Any) -> Any:
    """YAML reads `2` and `136` as numbers; codes are text."""
    if isinstance(value, list | tuple):
        return tuple(str(v).lower() if isinstance(v, str | int) and not isinstance(v, bool) else v for v in value)
    return value


class InCodes(_Spec):
    """The column holds one of these codes."""

    column: str
    in_: tuple[str, ...] = Field(alias="in", min_length=1)

    @field_validator("in_", mode="before")
    @classmethod
    def _codes(cls, value: Any) -> Any:
        return _as_codes(value)

    def columns(self) -> Iterator[tuple[str, ColumnKind, tuple[str, ...]]]:
        yield self.column, ColumnKind.CODE, self.in_

    def describe(self, source: Source) -> str:
        return f"{_column_words(self.column)} is {_codes_in_words(source, self.column, self.in_)}"


class ContainsAny(_Spec):
    """The list column holds at least one of these codes."""

    column: str
    contains_any: tuple[str, ...] = Field(min_length=1)

    @field_validator("contains_any", mode="before")
    @classmethod
    def _codes(cls, value: Any) -> Any:
        return _as_codes(value)

    def columns(self) -> Iterator[tuple[str, ColumnKind, tuple[str, ...]]]:
        yield self.column, ColumnKind.CODE_LIST, self.contains_any

    def describe(self, source: Source) -> str:
        return f"{_column_words(self.column)} include {_codes_in_words(source, self.column, self.contains_any)}"


class IsValue(_Spec):
    """The true/false column holds this value."""

    column: str
    is_: bool = Field(alias="is")

    def columns(self) -> Iterator[tuple[str, ColumnKind, tuple[str, ...]]]:
        yield self.column, ColumnKind.BOOL, ()

    def describe(self, source: Source) -> str:
        return f"{_column_words(self.column)} is {'yes' if self.is_ else 'no'}"


class AtLeast(_Spec):
    """The number column holds at least this value."""

    column: str
    at_least: float

    def columns(self) -> Iterator[tuple[str, ColumnKind, tuple[str, ...]]]:
        yield self.column, ColumnKind.NUMBER, ()

    def describe(self, source: Source) -> str:
        value = int(self.at_least) if self.at_least.is_integer() else self.at_least
        return f"{_column_words(self.column)} is at least {value}"


class AnyOf(_Spec):
    """At least one of the conditions holds."""

    any_of: tuple[Condition, ...] = Field(alias="any", min_length=1)

    def columns(self) -> Iterator[tuple[str, ColumnKind, tuple[str, ...]]]:
        for condition in self.any_of:
            yield from condition.columns()

    def describe(self, source: Source) -> str:
        return "(" + " or ".join(c.describe(source) for c in self.any_of) + ")"


class AllOf(_Spec):
    """Every one of the conditions holds."""

    all_of: tuple[Condition, ...] = Field(alias="all", min_length=1)

    def columns(self) -> Iterator[tuple[str, ColumnKind, tuple[str, ...]]]:
        for condition in self.all_of:
            yield from condition.columns()

    def describe(self, source: Source) -> str:
        return "(" + " and ".join(c.describe(source) for c in self.all_of) + ")"


_CONDITION_KEYS = {
    "any": "any",
    "all": "all",
    "in": "in",
    "contains_any": "contains_any",
    "is": "is",
    "at_least": "at_least",
}
_CONDITION_TAGS: dict[type[BaseModel], str] = {
    AnyOf: "any",
    AllOf: "all",
    InCodes: "in",
    ContainsAny: "contains_any",
    IsValue: "is",
    AtLeast: "at_least",
}


def _condition_tag(value: Any) -> str | None:
    if isinstance(value, dict):
        for key, tag in _CONDITION_KEYS.items():
            if key in value:
                return tag
        return None
    kind: type[BaseModel] = type(value)
    return _CONDITION_TAGS.get(kind)


Condition = Annotated[
    Annotated[InCodes, Tag("in")]
    | Annotated[ContainsAny, Tag("contains_any")]
    | Annotated[IsValue, Tag("is")]
    | Annotated[AtLeast, Tag("at_least")]
    | Annotated[AnyOf, Tag("any")]
    | Annotated[AllOf, Tag("all")],
    Discriminator(
        _condition_tag,
        custom_error_type="condition",
        custom_error_message=(
            "a condition is {column: NAME, in: [codes]}, {column: NAME, contains_any: [codes]}, "
            "{column: NAME, is: true|false}, {column: NAME, at_least: N}, {any: [conditions]} or {all: [conditions]}"
        ),
    ),
]

AnyOf.model_rebuild()
AllOf.model_rebuild()


def _column_words(column: str) -> str:
    return column.replace("_", " ")


def _codes_in_words(source: Source, column: str, values: tuple[str, ...]) -> str:
    known = source.columns.get(column)
    meanings = codes.MEANINGS.get(known.values, {}) if known else {}
    words = [f"{meanings[v]} ({v})" if v in meanings else v for v in values]
    return words[0] if len(words) == 1 else "one of " + ", ".join(words)


# ---------------------------------------------------------------------------------------------
# Rules


class Population(StrEnum):
    CHILD = "child"  # under 18 on the date of the evidence
    ADULT = "adult"  # 18 or over on the date of the evidence


class Kind(StrEnum):
    INDICATOR = "indicator"  # a fact about a person, kept with its evidence; nobody is told
    FLAG = "flag"  # a piece of work for a partner, routed by the routing pack with a deadline


class Relation(StrEnum):
    """How a record is connected to the person the rule is about."""

    SELF = "self"  # the record is about the person
    HOUSEHOLD_ADULT = "household_adult"  # the record is about an adult living with the child at the time
    AT_HOUSEHOLD = "at_household"  # the record's place is the child's home at the time


RELATION_WORDS = {
    Relation.SELF: "the person's own record",
    Relation.HOUSEHOLD_ADULT: "a record of an adult living in the child's household at the time",
    Relation.AT_HOUSEHOLD: "a record at the child's home while the child lived there",
}


class Count(StrEnum):
    DAYS = "days"  # days with evidence (several records on one day count once)
    SIGNALS = "signals"  # different signals (e.g. different needs)
    AGENCIES = "agencies"  # different kinds of partner that recorded the evidence


class Evidence(_Spec):
    """One kind of record that counts as evidence for a rule."""

    source: str
    relation: Relation = Relation.SELF
    signal: str = Field(default="main", pattern=_NAME)
    """A name for what this evidence shows, so requirements can count it (``custody``, ``substance``)."""
    label: str = Field(min_length=3, max_length=200)
    """Plain English, shown beside each evidence record: "the child named as present at a domestic-abuse incident"."""
    where: tuple[Condition, ...] = ()
    """Conditions on the record; all must hold."""

    def conditions(self) -> Iterator[Condition]:
        yield from self.where


class Requirement(_Spec):
    """What must be seen within the window for the rule to fire."""

    at_least: int = Field(default=1, ge=1)
    of: Count = Count.DAYS
    signals: tuple[str, ...] = ()
    """Which signals count; empty for all of the rule's evidence."""

    def describe(self, all_signals: tuple[str, ...]) -> str:
        chosen = self.signals or all_signals
        what = "/".join(chosen) if len(chosen) <= 4 else "any signal"
        if self.of is Count.DAYS:
            noun = "day" if self.at_least == 1 else "different days"
            return f"{what} evidence on at least {self.at_least} {noun}"
        noun = "signals" if self.of is Count.SIGNALS else "agencies"
        return f"at least {self.at_least} different {noun} among {what}"


class RuleSpec(_Spec):
    """One rule: who it is about, what evidence makes it fire, and what it produces."""

    id: str = Field(pattern=r"^[a-z]+\.[a-z][a-z0-9_]*$")
    version: int = Field(ge=1)
    title: str = Field(min_length=3, max_length=120)
    description: str = Field(min_length=20)
    """Plain English: what fires the rule, and what it cannot see (its known false positives and negatives)."""
    population: Population
    produces: Kind
    evidence: tuple[Evidence, ...] = Field(min_length=1)
    min_age: int | None = Field(default=None, ge=0, le=120)
    """The person must also be at least this many years old on the date of the evidence
    (for a school notice: 4, school age)."""
    max_age: int | None = Field(default=None, ge=1, le=120)
    """The person must also be younger than this many years on the date of the evidence (for an infant: 1, under
    one year old). A person whose age is unknown is never young enough: no record says how old they are."""
    window_days: int | None = Field(default=None, ge=1, le=3660)
    """The requirements must all hold on days at most this far apart; none for "ever"."""
    require: tuple[Requirement, ...] = (Requirement(),)
    raise_within_days: int | None = Field(default=None, ge=1)
    """Flags only: raise the flag only if its latest evidence is this recent (older history is not new work)."""
    citation: str = Field(min_length=10)
    """The study or guidance the rule rests on (#16): a public record of why the rule is what it is."""
    owner: str = Field(min_length=3)
    """Who answers for the rule in the partnership (a role, not a person's name)."""
    review_by: dt.date
    """When the owner reviews it next; a rule past this date is reported (rules report, the DPO's page)."""
    legal_basis: str = Field(min_length=10)
    """The law under which partners share the records behind this rule."""
    purpose: str = Field(pattern=_NAME)
    """The purpose of processing, as named in the data-sharing agreements (e.g. safeguarding_children)."""

    @property
    def signals(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(e.signal for e in self.evidence))

    @property
    def windowed(self) -> bool:
        """Needs counting across records, not only one record."""
        return self.window_days is not None or any(r.at_least > 1 or r.of is not Count.DAYS for r in self.require)

    @property
    def feeds(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(SOURCES[e.source].feed for e in self.evidence))

    @model_validator(mode="after")
    def _check(self) -> Self:
        for index, item in enumerate(self.evidence):
            _check_evidence(index, item, self.population)
        known = set(self.signals)
        for index, requirement in enumerate(self.require):
            unknown = [s for s in requirement.signals if s not in known]
            if unknown:
                raise ValueError(
                    f"require[{index}]: signals {unknown} are not signals of this rule's evidence ({sorted(known)})"
                )
        if len(self.require) > 1 and self.window_days is None:
            raise ValueError("a rule with several requirements needs window_days (they must hold together)")
        _check_ages(self.population, self.min_age, self.max_age)
        if self.raise_within_days is not None and self.produces is not Kind.FLAG:
            raise ValueError("raise_within_days applies to flags only")
        return self

    def explain(self) -> str:
        """The rule in words, generated from its structure (the description says it for people)."""
        who = self.population.value + (f" aged {self.min_age}+" if self.min_age is not None else "")
        who += f" under {self.max_age}" if self.max_age is not None else ""
        lines = [f"{self.id} v{self.version}: {self.title} ({who}, {self.produces.value})"]
        for item in self.evidence:
            source = SOURCES[item.source]
            where = " and ".join(c.describe(source) for c in item.where) or "any record"
            lines.append(f"  - [{item.signal}] {source.title}, {RELATION_WORDS[item.relation]}: {where}")
        window = f" within {self.window_days} days" if self.window_days else ""
        needs = "; ".join(r.describe(self.signals) for r in self.require)
        lines.append(f"  fires with {needs}{window}")
        return "\n".join(lines)


def _check_ages(population: Population, min_age: int | None, max_age: int | None) -> None:
    child = population is Population.CHILD
    if min_age is not None and child and min_age >= 18:
        raise ValueError("min_age for a children's rule must be under 18")
    if min_age is not None and not child and min_age <= 18:
        raise ValueError("min_age for an adults' rule must be over 18 (adults are 18 or over already)")
    if max_age is not None and child and max_age > 18:
        raise ValueError("max_age for a children's rule must be 18 or under (children are under 18 already)")
    if max_age is not None and not child and max_age <= 18:
        raise ValueError("max_age for an adults' rule must be over 18")
    if max_age is not None and min_age is not None and max_age <= min_age:
        raise ValueError("max_age must be greater than min_age (no one could be both)")


def _check_evidence(index: int, item: Evidence, population: Population) -> None:
    where = f"evidence[{index}] ({item.source})"
    source = SOURCES.get(item.source)
    if source is None:
        raise ValueError(f"{where}: unknown source; the sources are: {', '.join(SOURCES)}")
    if item.relation is Relation.AT_HOUSEHOLD and not source.located:
        raise ValueError(f"{where}: relation at_household needs a source with a place (police_incidents)")
    if item.relation is not Relation.AT_HOUSEHOLD and not source.person:
        raise ValueError(f"{where}: {item.source} names no person; use relation: at_household")
    if item.relation is not Relation.SELF and population is not Population.CHILD:
        raise ValueError(f"{where}: relation {item.relation.value} links a record to a child; the population is adult")
    for condition in item.where:
        for column, kind, values in condition.columns():
            _check_column(where, source, column, kind, values)


def _check_column(where: str, source: Source, column: str, kind: ColumnKind, values: tuple[str, ...]) -> None:
    if any(word in column.lower() for word in FORBIDDEN_WORDS):
        raise ValueError(f"{where}: column {column!r}: no rule may use deprivation or area as a condition")
    known = source.columns.get(column)
    if known is None:
        raise ValueError(
            f"{where}: {column!r} is not a column a rule can test in {source.name}; "
            f"those are: {', '.join(source.columns) or 'none'}"
        )
    if known.kind is not kind:
        verbs = {ColumnKind.CODE: "in", ColumnKind.CODE_LIST: "contains_any", ColumnKind.BOOL: "is"}
        raise ValueError(
            f"{where}: column {column!r} is a {known.kind.value} column: test it with "
            f"{verbs.get(known.kind, 'at_least')}"
        )
    unknown = [v for v in values if v not in known.values]
    if unknown:
        raise ValueError(f"{where}: {unknown} not codes of {source.name}.{column} (allowed: {', '.join(known.values)})")


class RulePack(_Spec):
    """A versioned set of rules kept in one YAML file."""

    pack: str = Field(pattern=_NAME)
    version: int = Field(ge=1)
    title: str
    description: str
    rules: tuple[RuleSpec, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> Self:
        ids = [r.id for r in self.rules]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise ValueError(f"rule ids used twice: {twice}")
        return self

    def rule(self, rule_id: str) -> RuleSpec:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)
