"""The routing pack: which flag goes to which partner, and by when.

Deadlines are of two kinds:

- a MASH-style RAG rating: red, amber or green, the flag's priority, each with a number of hours from the moment
  the flag is raised (the rules run) in which to act on it. Areas set their own timescales (one area: red 2, amber
  6, green 24). The route names the usual rating of its flags and, in ``rating``, the reasons that move one flag
  one step up or down from it (:class:`Rating`); the rating, the reason in words and the rated deadline are
  written with the flag.
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
    """A flag's priority rating, most urgent first."""

    RED = "red"
    AMBER = "amber"
    GREEN = "green"

    @property
    def level(self) -> int:
        """0 for red, 1 for amber, 2 for green: one step up is one less."""
        return list(Rag).index(self)


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
    MARAC = "marac"
    """The multi-agency risk assessment conference for high-risk domestic abuse, through its coordinator."""


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


class Rating(_Spec):
    """Why one flag's rating moves one step from its route's usual rating, each reason a fact of that flag alone:

    - ``recent_days``: up one step when the latest record behind the flag is at most this many days before the
      run (something happened this week: act sooner);
    - ``other_flags``: up one step when another rule flags the same person in the same run (more than one
      concern about one person at once);
    - ``quiet_days``: down one step when the latest record behind the flag is more than this many days before the
      run (nothing new for weeks: the flag still stands, but less urgently than a fresh one).

    Reasons up and down together cancel out (the rating stays, and its words say why); a rating never goes beyond
    red or green."""

    recent_days: int | None = Field(default=None, ge=0)
    other_flags: bool = False
    quiet_days: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.recent_days is not None and self.quiet_days is not None and self.quiet_days <= self.recent_days:
            raise ValueError("rating: quiet_days must be more than recent_days")
        return self


class Route(_Spec):
    rule: str = Field(pattern=r"^[a-z]+\.[a-z][a-z0-9_]*$")
    to: Recipient
    resolve: Literal["child_school"] | None = None
    """Find the organisation in the build: the child's school on the date of the latest evidence."""
    otherwise: Recipient | None = None
    """Where the flag goes when ``resolve`` finds nobody (a child educated at home: the local authority)."""
    deadline: Deadline
    rating: Rating = Rating()
    """The reasons that move a flag's rating one step from the route's usual rating (``deadline.rag``)."""

    def ratings(self) -> frozenset[Rag]:
        """Every rating the route can give a flag: its usual one, and one step either way its reasons allow (none
        for a route whose deadline is not rated). A route rated green with no reason down is never red."""
        usual = self.deadline.rag
        if usual is None:
            return frozenset()
        levels = {usual.level}
        if self.rating.recent_days is not None or self.rating.other_flags:
            levels.add(max(usual.level - 1, 0))
        if self.rating.quiet_days is not None:
            levels.add(min(usual.level + 1, len(Rag) - 1))
        return frozenset(r for r in Rag if r.level in levels)

    @model_validator(mode="after")
    def _resolution(self) -> Self:
        if self.rating != Rating() and self.deadline.rag is None:
            raise ValueError("`rating` applies only to a route with a RAG deadline (`deadline: {rag: ...}`)")
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


def rating_reason(*, usual: Rag, rated: Rag, days_ago: int | None, recent: bool, others: int, quiet: bool) -> str:
    """The rating of one flag and why, in a practitioner's words: "Red: usually amber; raised one step because the
    latest record behind it is from 2 days ago." ``recent``, ``others`` (how many other rules flag the person, when
    the route counts them) and ``quiet`` are the reasons that held; ``rated`` is what they made of ``usual``."""
    ups = []
    if recent:
        ups.append(f"the latest record behind it is from {_days_ago(days_ago)}")
    if others:
        ups.append(
            "another rule flags the same person" if others == 1 else f"{others} other rules flag the same person"
        )
    downs = [f"the latest record behind it is {days_ago} days old"] if quiet and days_ago is not None else []
    name = rated.value.capitalize()
    up, down = " and ".join(ups), " and ".join(downs)
    if up and down:
        return f"{name}: the usual rating for this flag; {up} (one step up), but {down} (one step down)."
    if up:
        if rated is usual:
            return f"{name}: the usual rating for this flag, and already the highest; {up}."
        return f"{name}: usually {usual.value}; raised one step because {up}."
    if down:
        if rated is usual:
            return f"{name}: the usual rating for this flag, and already the lowest; {down}."
        return f"{name}: usually {usual.value}; lowered one step because {down}."
    return f"{name}: the usual rating for this flag."


def _days_ago(days: int | None) -> str:
    if days is None or days <= 0:
        return "today"
    return "yesterday" if days == 1 else f"{days} days ago"
