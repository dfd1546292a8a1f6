"""Deadlines and recipients: school days for the Operation Encompass notice, RAG timescales per area."""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path

import pytest

from commonground.rules import RuleSet, default_rules
from commonground.rules.calendar import SchoolCalendar, bank_holidays
from commonground.rules.packs import parse_routing
from commonground.rules.routing import Holiday, SchoolDays

from .conftest import run_scenario
from .scenario import Scenario

CALENDAR = SchoolCalendar(SchoolDays())


@pytest.mark.parametrize(
    ("incident", "due"),
    [
        ("2024-03-01 19:30", "2024-03-04 08:30"),  # Friday evening -> Monday
        ("2024-03-02 11:00", "2024-03-04 08:30"),  # Saturday -> Monday
        ("2024-05-03 22:00", "2024-05-07 08:30"),  # Friday before the early May bank holiday -> Tuesday
        ("2024-05-06 10:00", "2024-05-07 08:30"),  # on the bank-holiday Monday -> Tuesday
        ("2024-03-28 20:00", "2024-04-02 08:30"),  # Thursday before Easter (Good Friday, Easter Monday) -> Tuesday
        ("2024-03-05 06:00", "2024-03-05 08:30"),  # a school day, before school starts -> that morning
        ("2024-03-05 08:30", "2024-03-06 08:30"),  # at the start of school -> the next school day
        ("2024-12-24 20:00", "2024-12-27 08:30"),  # Christmas Day and Boxing Day are bank holidays
    ],
)
def test_next_school_day(incident: str, due: str) -> None:
    assert CALENDAR.next_school_day_start(datetime.fromisoformat(incident)) == datetime.fromisoformat(due)


def test_school_holidays_are_configured_as_date_ranges() -> None:
    spec = SchoolDays(holidays=(Holiday(name="Christmas 2024", start=date(2024, 12, 21), end=date(2025, 1, 5)),))
    calendar = SchoolCalendar(spec)
    assert calendar.next_school_day_start(datetime(2024, 12, 24, 20)) == datetime(2025, 1, 6, 8, 30)
    assert not calendar.is_school_day(date(2025, 1, 3))
    assert calendar.is_school_day(date(2025, 1, 6))


def test_school_day_start_time_is_configurable() -> None:
    calendar = SchoolCalendar(SchoolDays(starts_at=time(8, 45)))
    assert calendar.next_school_day_start(datetime(2024, 3, 1, 19, 30)) == datetime(2024, 3, 4, 8, 45)


def test_bank_holidays_come_from_the_cached_gov_uk_list() -> None:
    days = bank_holidays("england-and-wales")
    assert date(2024, 5, 6) in days and date(2024, 12, 26) in days
    assert date(2024, 3, 17) not in days  # St Patrick's Day is a holiday in Northern Ireland only
    assert CALENDAR.known_until is not None and CALENDAR.known_until >= date(2026, 12, 28)


def test_calendar_table_matches_the_python_rule() -> None:
    table = CALENDAR.table(date(2024, 4, 26), date(2024, 5, 8)).to_pylist()
    by_day = {row["day"]: row for row in table}
    assert not by_day[date(2024, 5, 6)]["is_school_day"]
    assert by_day[date(2024, 5, 3)]["next_start"] == datetime(2024, 5, 7, 8, 30)
    assert by_day[date(2024, 5, 7)]["day_start"] == datetime(2024, 5, 7, 8, 30)


AS_OF = datetime(2025, 1, 11, 9, 0)  # a Saturday morning


def _notices(s: Scenario) -> dict[str, str]:
    """Children at home for a domestic-abuse incident on Friday 10 January 2025 at 20:00."""
    out = {}
    for tag, school in (("enc_school", "123456"), ("enc_home", None), ("enc_moved", "654321")):
        mum = s.person(f"{tag}_mum", born="1988-01-01")
        kid = s.person(f"{tag}_kid", born="2016-01-01")
        s.household(f"H_{tag}", uprn=f"U{tag}", members=[(mum, "2016-01-01", None), (kid, "2016-01-01", None)])
        s.police_incident(at="2025-01-10 20:00", uprn=f"U{tag}", persons={mum: "victim"})
        if school:
            s.school(urn=school)
            s.enrol(kid, urn=school, enrolled_on="2020-09-01")
        out[tag] = kid
    s.school(urn="111111")
    s.enrol(out["enc_moved"], urn="111111", enrolled_on="2019-09-01", left_on="2024-07-20")
    toddler = s.person("enc_toddler", born="2022-09-01")
    s.lives(toddler, household="H_enc_school", start="2022-09-01", address_key="UPRN Uenc_school")
    out["enc_toddler"] = toddler
    old = s.person("enc_old_kid", born="2016-01-01")
    s.household("H_enc_old", uprn="Uenc_old", members=[(old, "2016-01-01", None)])
    s.police_incident(at="2024-11-01 20:00", uprn="Uenc_old")  # ten weeks ago
    out["enc_old"] = old
    return out


def test_school_notice_is_routed_to_the_childs_school_before_the_next_school_day(tmp_path: Path) -> None:
    s = Scenario()
    kids = _notices(s)
    outcome = run_scenario(s, tmp_path / "build", as_of=AS_OF)
    notice = outcome.row(kids["enc_school"], "notice.school_domestic_abuse")
    assert notice["route_to"] == "school:123456/designated_safeguarding_lead"
    assert notice["organisation_type"] == "school" and notice["organisation_id"] == "123456"
    assert notice["due_by"] == datetime(2025, 1, 13, 8, 30)
    assert notice["rag"] is None
    home = outcome.row(kids["enc_home"], "notice.school_domestic_abuse")
    assert home["route_to"] == "local_authority/elective_home_education_officer"
    assert home["due_by"] == datetime(2025, 1, 13, 8, 30)
    moved = outcome.row(kids["enc_moved"], "notice.school_domestic_abuse")
    assert moved["route_to"] == "school:654321/designated_safeguarding_lead"  # the school on the date of the incident
    assert "notice.school_domestic_abuse" not in outcome.fired(kids["enc_old"])
    assert outcome.fired(kids["enc_toddler"]) == {"ace.domestic_abuse"}  # under school age: no notice
    assert "ace.domestic_abuse" in outcome.fired(kids["enc_old"])


AREA = """
area: Test area
version: 3
rag_hours: {red: 1, amber: 4, green: 12}
school_days:
  starts_at: "08:45"
  holidays:
    - {name: Spring half term 2025, start: 2025-02-17, end: 2025-02-21}
routes:
  - rule: notice.school_domestic_abuse
    to: {organisation_type: school, role: designated_safeguarding_lead}
    resolve: child_school
    otherwise: {organisation_type: local_authority, role: elective_home_education_officer}
    deadline: {before_next_school_day: true}
  - {rule: child.exploitation_risk, to: {organisation_type: local_authority, role: mash}, deadline: {rag: red}}
  - {rule: child.repeat_missing, to: {organisation_type: local_authority, role: mash}, deadline: {rag: amber}}
  - rule: adult.repeat_mental_health_crisis
    to: {organisation_type: mental_health_trust, role: crisis_team}
    deadline: {rag: amber}
  - rule: adult.self_harm_multi_agency
    to: {organisation_type: mental_health_trust, role: liaison_psychiatry}
    deadline: {rag: green}
  - rule: adult.revolving_door
    to: {organisation_type: vulnerability_hub, role: hub_practitioner}
    deadline: {rag: green}
  - rule: adult.repeat_domestic_abuse_victim
    to: {organisation_type: vulnerability_hub, role: hub_practitioner}
    deadline: {rag: amber}
  - {rule: child.co_occurring_adversity, to: {organisation_type: local_authority, role: mash}, deadline: {rag: amber}}
  - {rule: child.household_adult_in_crisis, to: {organisation_type: local_authority, role: mash}, deadline: {rag: red}}
  - rule: child.household_adult_revolving_door
    to: {organisation_type: local_authority, role: mash}
    deadline: {rag: green}
  - {rule: child.infant_injury, to: {organisation_type: local_authority, role: mash}, deadline: {rag: red}}
  - {rule: child.self_harm, to: {organisation_type: local_authority, role: mash}, deadline: {rag: amber}}
"""


def test_an_area_sets_its_own_timescales_and_holidays(tmp_path: Path) -> None:
    rules = RuleSet(packs=default_rules().packs, routing=parse_routing(AREA))
    s = Scenario()
    kid = s.person("area_kid", born="2010-01-01")
    s.household("H_area", uprn="Uarea", members=[(kid, "2010-01-01", None)])
    s.missing(kid, at="2025-02-10 22:00")
    s.custody(kid, at="2025-02-13 15:00")
    s.police_incident(at="2025-02-14 19:00", uprn="Uarea")  # the Friday before half term
    outcome = run_scenario(s, tmp_path / "build", as_of=datetime(2025, 2, 15, 9, 0), rules=rules)
    assert outcome.row(kid, "child.exploitation_risk")["due_by"] == datetime(2025, 2, 15, 10, 0)  # red: 1 hour
    assert outcome.row(kid, "notice.school_domestic_abuse")["due_by"] == datetime(2025, 2, 24, 8, 45)
