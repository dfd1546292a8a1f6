"""What the API shows from a person's document, as literal cases (#16): records and events of the feeds opened for
the person; an indicator or flag only with the evidence the reader may open, and not named at all when none is
open; evidence through another person only where that person's record may be opened; household members named only
where a record of theirs may be opened, otherwise "another adult" or "another child"."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from commonground.cases.inferences import FURTHER_INFORMATION, LIVING_TOGETHER, Openings
from commonground.cases.person_documents import others_in, shown_to

TODAY = dt.date(2026, 12, 7)
POLICE = frozenset({"police_incident_persons", "police_incidents"})


def _evidence(feed: str, record_id: str, via: str | None = None) -> dict[str, Any]:
    return {"feed": feed, "record_id": record_id, "what": "w", "evidence_at": None, "via_person_id": via}


def _member(person_id: str, born: str | None, feeds: list[str]) -> dict[str, Any]:
    return {"person_id": person_id, "date_of_birth": born, "start_date": "2024-03-01", "end_date": None, "feeds": feeds}


DOC: dict[str, Any] = {
    "identity": {"person_id": "P1", "given_name": "Ada"},
    "feeds": ["childrens_social_care", "ed_attendances", "police_incident_persons"],
    "records": [
        {"feed": "childrens_social_care", "record_id": "C1"},
        {"feed": "ed_attendances", "record_id": "E1"},
        {"feed": "police_incident_persons", "record_id": "I1"},
    ],
    "events": [
        {"feed": "police_incident_persons", "record_id": "I1", "data": {"role": "victim", "summary": "An account."}},
        {"feed": "ed_attendances", "record_id": "E1", "data": {"injury_intent": "assault"}},
        {"feed": "childrens_social_care", "record_id": "C1", "data": {"cp_plan_category": "physical"}},
    ],
    "indicators": [
        {
            "rule_id": "ace.domestic_abuse",
            "evidence": [_evidence("police_incidents", "INC1"), _evidence("police_incident_persons", "I1")],
        },
        {  # a parent's drug treatment: health data about another person
            "rule_id": "ace.household_substance_misuse",
            "evidence": [_evidence("substance_treatment", "S9", via="P2")],
        },
        {"rule_id": "ace.physical_abuse", "evidence": [_evidence("childrens_social_care", "C1")]},
    ],
    "flags": [
        {
            "rule_id": "flag.x",
            "evidence": [_evidence("childrens_social_care", "C1"), _evidence("ed_attendances", "E1")],
        }
    ],
    "household": [
        {
            "household_id": "H1",
            "start_date": "2024-03-01",
            "end_date": None,
            "members": [
                _member("P2", "1990-05-01", ["substance_treatment"]),
                _member("P3", "2015-09-09", ["school_roll"]),
            ],
        }
    ],
}


def _shown(openings: Openings) -> dict[str, Any]:
    return shown_to(DOC, openings=openings, purpose="safeguarding_children", today=TODAY)


def _rules(body: dict[str, Any]) -> list[str]:
    return [r["rule_id"] for r in body["indicators"] + body["flags"]]


def test_everything_open_shows_everything_and_names_the_household() -> None:
    every = frozenset({*DOC["feeds"], "police_incidents", "substance_treatment", "school_roll"})
    body = _shown(Openings("P1", every, others={"P2": every, "P3": every}))
    assert _rules(body) == ["ace.domestic_abuse", "ace.household_substance_misuse", "ace.physical_abuse", "flag.x"]
    assert (body["partial"], body["withheld"], body["further_information"]) == ([], 0, None)
    [period] = body["household"]
    assert [(m["person_id"], m["described_as"], m["year_of_birth"]) for m in period["members"]] == [
        ("P2", "adult", 1990),
        ("P3", "child", 2015),
    ]
    assert body["household_note"] == LIVING_TOGETHER


def test_a_police_reader_sees_no_inference_from_health_or_care_and_no_named_household() -> None:
    """The issue's case: a police user whose agreement opens only police feeds was told a parent has a drug
    problem, and the child's social-care findings."""
    body = _shown(Openings("P1", POLICE, others={"P2": POLICE, "P3": POLICE}))
    assert body["feeds_shown"] == ["police_incident_persons"] and body["feeds_withheld"] == 2
    assert [r["record_id"] for r in body["records"]] == ["I1"]
    assert _rules(body) == ["ace.domestic_abuse"]
    assert [e["record_id"] for e in body["indicators"][0]["evidence"]] == ["INC1", "I1"]
    assert body["withheld"] == 3 and body["further_information"] == FURTHER_INFORMATION
    words = repr(body)
    for never in ("substance", "S9", "physical", "childrens_social_care", "P2", "P3", "1990", "2015"):
        assert never not in words, never
    [period] = body["household"]
    assert period["members"] == [
        {
            "person_id": None,
            "described_as": "another adult",
            "year_of_birth": None,
            "start_date": None,
            "end_date": None,
        },
        {
            "person_id": None,
            "described_as": "another child",
            "year_of_birth": None,
            "start_date": None,
            "end_date": None,
        },
    ]


def test_evidence_through_another_person_needs_their_record_opened_too() -> None:
    """A reader who may open drug treatment for the child, but not for the parent, is not told of the parent's."""
    feeds = frozenset({"substance_treatment", "childrens_social_care"})
    body = _shown(Openings("P1", feeds, others={"P2": frozenset(), "P3": frozenset()}))
    assert "ace.household_substance_misuse" not in _rules(body)
    opened = _shown(Openings("P1", feeds, others={"P2": feeds}))
    assert "ace.household_substance_misuse" in _rules(opened)
    assert opened["household"][0]["members"][0]["person_id"] == "P2"  # a record of theirs is open: named
    assert opened["household"][0]["members"][1]["person_id"] is None


def test_partly_open_evidence_is_shown_as_partial() -> None:
    body = _shown(Openings("P1", frozenset({"ed_attendances"})))
    assert _rules(body) == ["flag.x"]
    assert [e["record_id"] for e in body["flags"][0]["evidence"]] == ["E1"]
    assert body["partial"] == ["flag.x"] and body["withheld"] == 3


@pytest.mark.parametrize("feeds", [frozenset({"mental_health_contacts"}), frozenset()])
def test_nothing_open_names_nothing(feeds: frozenset[str]) -> None:
    body = _shown(Openings("P1", feeds))
    assert body["records"] == [] and body["events"] == [] and _rules(body) == []
    assert body["withheld"] == 4 and body["feeds_withheld"] == 3


def test_breaking_glass_opens_everything() -> None:
    body = _shown(Openings("P1", frozenset(DOC["feeds"]), everything=True))
    assert body["break_glass"] is True and body["withheld"] == 0 and len(_rules(body)) == 4
    assert [m["person_id"] for m in body["household"][0]["members"]] == ["P2", "P3"]


def test_others_are_the_household_and_the_people_evidence_came_through() -> None:
    assert others_in(DOC) == {"P2", "P3"}


def test_the_document_itself_is_never_changed() -> None:
    before = repr(DOC)
    _shown(Openings("P1", frozenset({"ed_attendances"})))
    assert repr(DOC) == before


def test_fields_an_agreement_restricts_are_left_out_of_the_details() -> None:
    opened = frozenset({"police_incident_persons"})
    body = _shown(Openings("P1", opened, fields={"police_incident_persons": frozenset({"role"})}))
    assert [e["data"] for e in body["events"]] == [{"role": "victim"}]
    assert DOC["events"][0]["data"]["summary"] == "An account."  # the document keeps it
