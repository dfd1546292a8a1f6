"""Table-driven literal cases: each case adds a few people to a shared scenario and says what must
(and must not) fire for them, with the exact evidence records."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from .conftest import Outcome
from .scenario import Scenario


@dataclass(frozen=True)
class Expect:
    person: str
    rule: str
    evidence: frozenset[tuple[str, str]] | None
    """The exact evidence records; None: the rule must not fire for this person."""
    first: str | None = None
    why: str = ""
    route_to: str | None = None
    due_by: str | None = None


def fires(
    person: str,
    rule: str,
    *records: tuple[str, str],
    first: str | None = None,
    route_to: str | None = None,
    due_by: str | None = None,
) -> Expect:
    return Expect(person, rule, frozenset(records), first, route_to=route_to, due_by=due_by)


def silent(person: str, rule: str, why: str) -> Expect:
    return Expect(person, rule, None, why=why)


Case = Callable[[Scenario], list[Expect]]


class Cases(dict[str, Case]):
    """A registry of cases: decorate a function with ``@cases.add``."""

    def add(self, fn: Case) -> Case:
        self[fn.__name__] = fn
        return fn


def check(outcome: Outcome, name: str, expectations: list[Expect]) -> None:
    for expect in expectations:
        if expect.evidence is None:
            assert expect.rule not in outcome.fired(expect.person), f"{name}: {expect.rule} fired: {expect.why}"
            continue
        assert expect.rule in outcome.fired(expect.person), f"{name}: {expect.rule} did not fire for {expect.person}"
        assert outcome.evidence_of(expect.person, expect.rule) == expect.evidence, name
        row = outcome.row(expect.person, expect.rule)
        if expect.first:
            assert row["first_evidence"] == datetime.fromisoformat(expect.first), name
        if expect.route_to:
            assert row["route_to"] == expect.route_to, name
        if expect.due_by:
            assert row["due_by"] == datetime.fromisoformat(expect.due_by), name
