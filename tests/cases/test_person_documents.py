"""What the API shows from a person's document: only the items of the feeds the resolver opened, as literal cases."""

from __future__ import annotations

from typing import Any

import pytest

from commonground.cases.person_documents import shown_to


def _evidence(feed: str, record_id: str) -> dict[str, Any]:
    return {"feed": feed, "record_id": record_id, "what": "w", "evidence_at": None, "via_person_id": None}


DOC: dict[str, Any] = {
    "identity": {"person_id": "P1", "given_name": "Ada"},
    "feeds": ["childrens_social_care", "ed_attendances", "police_incident_persons"],
    "records": [
        {"feed": "childrens_social_care", "record_id": "C1"},
        {"feed": "ed_attendances", "record_id": "E1"},
        {"feed": "police_incident_persons", "record_id": "I1"},
    ],
    "events": [
        {"feed": "police_incident_persons", "record_id": "I1"},
        {"feed": "ed_attendances", "record_id": "E1"},
        {"feed": "childrens_social_care", "record_id": "C1"},
    ],
    "indicators": [
        {
            "rule_id": "ace.domestic_abuse",
            "evidence": [_evidence("police_incidents", "INC1"), _evidence("police_incident_persons", "I1")],
        }
    ],
    "flags": [{"rule_id": "flag.x", "evidence": [_evidence("childrens_social_care", "C1")]}],
    "household": [{"household_id": "H1", "members": ["P2"]}],
}


@pytest.mark.parametrize(
    ("feeds", "shown", "withheld", "records", "indicator_evidence", "flag_evidence"),
    [
        (
            frozenset({"childrens_social_care", "ed_attendances", "police_incident_persons", "police_incidents"}),
            ["childrens_social_care", "ed_attendances", "police_incident_persons"],
            0,
            ["C1", "E1", "I1"],
            ["INC1", "I1"],
            ["C1"],
        ),
        (
            frozenset({"police_incident_persons", "police_incidents"}),  # Operation Encompass: police feeds only
            ["police_incident_persons"],
            2,
            ["I1"],
            ["INC1", "I1"],
            [],
        ),
        (frozenset({"ed_attendances"}), ["ed_attendances"], 2, ["E1"], [], []),
        (frozenset({"mental_health_contacts"}), [], 3, [], [], []),  # opens a feed the person has no record in
        (frozenset(), [], 3, [], [], []),
    ],
)
def test_only_the_opened_feeds_are_shown(
    feeds: frozenset[str],
    shown: list[str],
    withheld: int,
    records: list[str],
    indicator_evidence: list[str],
    flag_evidence: list[str],
) -> None:
    body = shown_to(DOC, feeds=feeds, purpose="safeguarding_children", break_glass=False)
    assert body["feeds_shown"] == shown and body["feeds_withheld"] == withheld
    assert [r["record_id"] for r in body["records"]] == records
    assert sorted(e["record_id"] for e in body["events"]) == sorted(records)
    assert [e["record_id"] for e in body["indicators"][0]["evidence"]] == indicator_evidence
    assert [e["record_id"] for e in body["flags"][0]["evidence"]] == flag_evidence
    # the rules and the household are listed whatever the feeds; only the evidence behind a rule is filtered
    assert [r["rule_id"] for r in body["indicators"] + body["flags"]] == ["ace.domestic_abuse", "flag.x"]
    assert body["household"] == DOC["household"] and body["identity"] == DOC["identity"]
    assert (body["purpose"], body["break_glass"]) == ("safeguarding_children", False)


def test_the_document_itself_is_never_changed() -> None:
    before = repr(DOC)
    shown_to(DOC, feeds=frozenset({"ed_attendances"}), purpose="safeguarding_children", break_glass=True)
    assert repr(DOC) == before
