"""A flag's RAG rating (#17): the route's usual rating, moved one step by the route's reasons (the latest record
within a week, another rule flagging the same person, nothing new for weeks), written with the reason in words, and
the deadline that follows from the rated timescale; on literal rows, and for a pack that names no reasons."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from commonground.rules import RuleSet, default_rules
from commonground.rules.packs import parse_routing
from commonground.rules.routing import Rag, Rating, rating_reason

from .conftest import Outcome, run_scenario
from .scenario import Scenario

AS_OF = datetime(2025, 1, 15, 10, 0)  # a Wednesday
CRISIS = "adult.repeat_mental_health_crisis"  # usually amber; up within 7 days, down after 14 quiet days
MISSING = "child.repeat_missing"  # usually amber
EXPLOITATION = "child.exploitation_risk"  # usually red


def crises(s: Scenario, pid: str, *days: str) -> str:
    """An adult with a mental-health crisis (a street triage) on each day."""
    person = s.person(pid, born="1990-05-05")
    for day in days:
        s.triage(person, at=f"{day} 23:00")
    return person


def area() -> Scenario:
    s = Scenario()
    crises(s, "rt_recent", "2025-01-02", "2025-01-06", "2025-01-12")  # latest 3 days before the run
    crises(s, "rt_usual", "2024-12-20", "2024-12-28", "2025-01-05")  # latest 10 days before: neither
    crises(s, "rt_quiet", "2024-12-15", "2024-12-20", "2024-12-26")  # latest 20 days before: quiet
    teen = s.person("rt_teen", born="2008-09-01", sex="M")  # missing three times and held for drug supply
    for day in ("2024-11-20", "2024-12-10", "2025-01-05"):
        s.missing(teen, at=f"{day} 21:00")
    s.custody(teen, at="2025-01-04 16:00", offence_group="drugs_supply")
    both = s.person("rt_both", born="2008-09-01", sex="M")  # the same, three weeks ago
    for day in ("2024-12-01", "2024-12-10", "2024-12-24"):
        s.missing(both, at=f"{day} 21:00")
    s.custody(both, at="2024-12-20 16:00", offence_group="drugs_supply")
    return s


@pytest.fixture(scope="module")
def rated(tmp_path_factory: pytest.TempPathFactory) -> Outcome:
    return run_scenario(area(), tmp_path_factory.mktemp("rating") / "build", as_of=AS_OF)


def hours(n: int) -> datetime:
    return AS_OF + timedelta(hours=n)


def rating_of(outcome: Outcome, person: str, rule: str) -> tuple[Any, Any, Any, Any]:
    row = outcome.row(person, rule)
    return row["rag_usual"], row["rag"], row["rag_reason"], row["due_by"]


def test_a_recent_record_raises_the_rating_one_step(rated: Outcome) -> None:
    assert rating_of(rated, "rt_recent", CRISIS) == (
        "amber",
        "red",
        "Red: usually amber; raised one step because the latest record behind it is from 3 days ago.",
        hours(2),
    )


def test_a_flag_with_no_reason_keeps_its_usual_rating(rated: Outcome) -> None:
    assert rating_of(rated, "rt_usual", CRISIS) == (
        "amber",
        "amber",
        "Amber: the usual rating for this flag.",
        hours(6),
    )


def test_weeks_with_nothing_new_lower_the_rating_one_step(rated: Outcome) -> None:
    assert rating_of(rated, "rt_quiet", CRISIS) == (
        "amber",
        "green",
        "Green: usually amber; lowered one step because the latest record behind it is 20 days old.",
        hours(24),
    )


def test_another_rule_flagging_the_person_raises_it_and_red_stays_red(rated: Outcome) -> None:
    assert rating_of(rated, "rt_teen", MISSING) == (
        "amber",
        "red",
        "Red: usually amber; raised one step because another rule flags the same person.",
        hours(2),
    )
    assert rating_of(rated, "rt_teen", EXPLOITATION) == (
        "red",
        "red",
        "Red: the usual rating for this flag, and already the highest; another rule flags the same person.",
        hours(2),
    )


def test_reasons_up_and_down_cancel_out_and_say_so(rated: Outcome) -> None:
    assert rating_of(rated, "rt_both", MISSING) == (
        "amber",
        "amber",
        "Amber: the usual rating for this flag; another rule flags the same person (one step up), but the latest "
        "record behind it is 22 days old (one step down).",
        hours(6),
    )


def test_the_rating_is_the_same_on_every_run_of_the_same_rows(rated: Outcome, tmp_path: Path) -> None:
    again = run_scenario(area(), tmp_path / "build", as_of=AS_OF)
    assert again.flags == rated.flags


def test_a_route_that_names_no_reasons_gives_every_flag_its_usual_rating(tmp_path: Path) -> None:
    default = default_rules()
    routing = default.routing.model_copy(
        update={
            "rag_hours": {Rag.RED: 1, Rag.AMBER: 4, Rag.GREEN: 12},
            "routes": tuple(r.model_copy(update={"rating": Rating()}) for r in default.routing.routes),
        }
    )
    outcome = run_scenario(area(), tmp_path / "build", as_of=AS_OF, rules=RuleSet(packs=default.packs, routing=routing))
    for person in ("rt_recent", "rt_usual", "rt_quiet"):
        assert rating_of(outcome, person, CRISIS) == (
            "amber",
            "amber",
            "Amber: the usual rating for this flag.",
            AS_OF + timedelta(hours=4),
        )


def test_the_default_pack_names_reasons_for_every_rated_route() -> None:
    for route in default_rules().routing.routes:
        if route.deadline.rag is not None:
            assert route.rating.recent_days == 7, route.rule
            assert route.rating.other_flags, route.rule


def test_each_route_says_which_ratings_it_can_give() -> None:
    routes = {r.rule: r for r in default_rules().routing.routes}
    assert routes["adult.revolving_door"].ratings() == {Rag.AMBER, Rag.GREEN}  # green, up one step at most
    assert routes["child.repeat_missing"].ratings() == set(Rag)
    assert routes["child.infant_injury"].ratings() == {Rag.RED, Rag.AMBER}  # never lowered
    assert routes["notice.school_domestic_abuse"].ratings() == set()


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"recent_days": 14, "quiet_days": 7}, "quiet_days must be more than recent_days"),
        ({"quiet_days": 0}, "greater than or equal to 1"),
    ],
)
def test_rating_reasons_are_checked(spec: dict[str, int], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Rating.model_validate(spec)


def test_a_school_notice_has_no_rating_reasons() -> None:
    notice = """
area: A
version: 1
rag_hours: {red: 1, amber: 4, green: 12}
routes:
  - rule: notice.school_domestic_abuse
    to: {organisation_type: school, role: designated_safeguarding_lead}
    resolve: child_school
    otherwise: {organisation_type: local_authority, role: elective_home_education_officer}
    deadline: {before_next_school_day: true}
    rating: {recent_days: 7}
"""
    with pytest.raises(Exception, match="applies only to a route with a RAG deadline"):
        parse_routing(notice)


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        (
            {"usual": Rag.GREEN, "rated": Rag.AMBER, "days_ago": 0, "recent": True, "others": 2, "quiet": False},
            "Amber: usually green; raised one step because the latest record behind it is from today and 2 other "
            "rules flag the same person.",
        ),
        (
            {"usual": Rag.AMBER, "rated": Rag.RED, "days_ago": 1, "recent": True, "others": 0, "quiet": False},
            "Red: usually amber; raised one step because the latest record behind it is from yesterday.",
        ),
        (
            {"usual": Rag.GREEN, "rated": Rag.GREEN, "days_ago": 40, "recent": False, "others": 0, "quiet": True},
            "Green: the usual rating for this flag, and already the lowest; the latest record behind it is 40 days "
            "old.",
        ),
    ],
)
def test_the_reason_in_words(kwargs: dict[str, Any], words: str) -> None:
    assert rating_reason(**kwargs) == words
