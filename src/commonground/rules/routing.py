"""The routing pack: which flag goes to which partner, and by when.

Deadlines are of two kinds:

- a MASH-style RAG rating: red, amber or green, each a number of hours from the moment the flag is
  raised (the rules run). Areas set their own timescales (one area: red 2, amber 6, green 24).
- ``before_next_school_day``: the Operation Encompass notice to a child's school, due before the
  start of the next school day after the incident (weekends, England's bank holidays and the
  area's school holidays are not school days).

A route may *resolve* the recipient from the build: ``child_school`` sends the flag to the
designated safeguarding lead of the school the child was on the roll of on the date of the
evidence, and to ``otherwise`` (the local authority) for a child with no school (educated at home).
"""

from __future__ import annotations

from datetime import date, time
from enum import StrEnum
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

_NAME = r"^[a-z][a-z0-9_]*$"


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Rag(StrEnum):
    RED = "red"
    AMBER = "amber"
    GREEN = "green"


class OrganisationType(StrEnum):
    """The kinds of partner a flag can be routed to."""

    POLICE = "police"
    ACUTE_TRUST = "acute_trust"
    MENTAL_HEALTH_TRUST = "mental_health_trust"
    DRUG_ALCOHOL_SERVICE = "drug_alcohol_service"
    LOCAL_AUTHORITY = "local_authority"
    SCHOOL = "school"
    PRISONS_PROBATION = "prisons_probation"
    VULNERABILITY_HUB = "vulnerability_hub"


class Recipient(_Spec):
    organisation_type: OrganisationType
    role: str = Field(pattern=_NAME)
    """The role in that organisation that receives the flag (designated_safeguarding_lead, crisis_team)."""


class Deadline(_Spec):
    rag: Rag | None = None
    before_next_school_day: bool = False

    @model_validator(mode="after")
    def _one_kind(self) -> Self:
        if (self.rag is None) == (not self.before_next_school_day):
            raise ValueError("a deadline is either `rag: red|amber|green` or `before_next_school_day: true`")
        return self

    def describe(self, hours: dict[Rag, float], starts_at: time) -> str:
        if self.rag is not None:
            return f"{self.rag.value}: within {hours[self.rag]:g} hours of the flag being raised"
        return f"before {starts_at:%H:%M} on the next school day after the latest evidence"


class Route(_Spec):
    rule: str = Field(pattern=r"^[a-z]+\.[a-z][a-z0-9_]*$")
    to: Recipient
    resolve: Literal["child_school"] | None = None
    """Find the organisation in the build: the child's school on the date of the latest evidence."""
    otherwise: Recipient | None = None
    """Where the flag goes when ``resolve`` finds nobody (a child educated at home: the local authority)."""
    deadline: Deadline

    @model_validator(mode="after")
    def _resolution(self) -> Self:
        if self.resolve == "child_school":
            if self.to.organisation_type is not OrganisationType.SCHOOL:
                raise ValueError("resolve: child_school routes to an organisation_type of school")
            if self.otherwise is None:
                raise ValueError("resolve: child_school needs `otherwise` for a child on no school roll")
        elif self.otherwise is not None:
            raise ValueError("`otherwise` applies only with `resolve`")
        return self


class Holiday(_Spec):
    name: str
    start: date
    end: date

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.end < self.start:
            raise ValueError(f"school holiday {self.name!r} ends before it starts")
        return self


class SchoolDays(_Spec):
    starts_at: time = time(8, 30)
    """The school day begins; the Operation Encompass notice is due before it."""
    bank_holidays: Literal["england-and-wales"] = "england-and-wales"
    """GOV.UK division whose bank holidays are not school days (the cached list in govuk-bank-holidays)."""
    holidays: tuple[Holiday, ...] = ()
    """The area's school holidays, as inclusive date ranges."""


class RoutingPack(_Spec):
    """One area's routing: timescales, school days and a route for every flag."""

    area: str
    version: int = Field(ge=1)
    rag_hours: dict[Rag, float]
    school_days: SchoolDays = SchoolDays()
    routes: tuple[Route, ...]

    @model_validator(mode="after")
    def _complete(self) -> Self:
        missing = [r.value for r in Rag if r not in self.rag_hours]
        if missing:
            raise ValueError(f"rag_hours needs a number of hours for each of red, amber, green (missing {missing})")
        if any(h <= 0 for h in self.rag_hours.values()):
            raise ValueError("rag_hours must be positive")
        rules = [r.rule for r in self.routes]
        twice = sorted({r for r in rules if rules.count(r) > 1})
        if twice:
            raise ValueError(f"rules routed twice: {twice}")
        return self

    def route(self, rule_id: str) -> Route | None:
        for route in self.routes:
            if route.rule == rule_id:
                return route
        return None
