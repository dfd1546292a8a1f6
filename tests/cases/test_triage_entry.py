"""The street-triage entry as a pydantic model (cases) and the form read into it (web): a valid form makes an
entry; each wrong field is one error about that field, in the words the page shows beside it; a field the form
cannot read says so instead of the entry's own check of it. Nothing here touches a store."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from commonground.cases.triage import (
    S136,
    S136_DETENTION_NOT_USED,
    S136_USED_WITHOUT_DETENTION,
    Conveyance,
    TriageEntry,
    problems_of,
)
from commonground.web.pages.triage import TriageForm

NOW = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)

VALID = {
    "person_id": "",
    "given_name": "Dorrit",
    "family_name": "Vantongeren",
    "date_of_birth": "1979-12-01",
    "sex": "M",
    "postcode": "qx1 2bb",
    "incident_reference": "INC-0099",
    "contacted_date": "2026-10-02",
    "contacted_time": "23:15",
    "duration_minutes": "40",
    "setting": "control_room",
    "advice": "Advised the officers that a s136 was not needed.",
    "outcome": "crisis_team_referral",
    "s136": "avoided",
    "conveyance": "none",
    "crisis_team_referral": "yes",
}


def _errors(**changes: str) -> dict[str, str]:
    try:
        TriageForm.model_validate({**VALID, **changes}, context={"now": NOW})
    except ValidationError as error:
        return problems_of(error)
    return {}


def test_a_valid_form_makes_an_entry() -> None:
    entry = TriageForm.model_validate(VALID, context={"now": NOW})
    assert isinstance(entry, TriageEntry)
    assert entry.contacted_at == dt.datetime(2026, 10, 2, 22, 15, tzinfo=dt.UTC)  # 23:15 in British Summer Time
    assert (entry.date_of_birth, entry.duration_minutes, entry.crisis_team_referral) == (dt.date(1979, 12, 1), 40, True)
    assert (entry.s136, entry.conveyance, entry.person_id, entry.sex) == (S136.AVOIDED, Conveyance.NONE, None, "M")
    linked = TriageForm.model_validate(
        {**VALID, "person_id": "P-1", "given_name": "", "family_name": "", "date_of_birth": "", "sex": ""},
        context={"now": NOW},
    )
    assert (linked.person_id, linked.given_name, linked.date_of_birth, linked.sex) == ("P-1", None, None, "U")


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"given_name": ""}, "given_name", "Enter the person's given name, or start from their record"),
        ({"given_name": "  "}, "given_name", "Enter the person's given name, or start from their record"),
        ({"family_name": ""}, "family_name", "Enter the person's family name"),
        ({"date_of_birth": ""}, "date_of_birth", "Enter the person's date of birth, like 1990-04-27"),
        ({"date_of_birth": "27/04/1990"}, "date_of_birth", "Enter the date of birth like 1990-04-27"),
        ({"date_of_birth": " "}, "date_of_birth", "Enter the date of birth like 1990-04-27"),
        ({"date_of_birth": "2999-01-01"}, "date_of_birth", "The date of birth must be in the past"),
        ({"sex": "Q"}, "sex", "Select the person's sex as recorded, or not known"),
        (
            {"contacted_time": "25:99"},
            "contacted_at",
            "Enter the date (like 2026-11-28) and time (like 23:15) of the contact",
        ),
        (
            {"contacted_date": ""},
            "contacted_at",
            "Enter the date (like 2026-11-28) and time (like 23:15) of the contact",
        ),
        ({"contacted_date": "2026-11-02"}, "contacted_at", "The contact cannot be in the future"),
        ({"duration_minutes": "forty"}, "duration_minutes", "Enter the length of the contact in whole minutes"),
        ({"duration_minutes": "-5"}, "duration_minutes", "Enter the length of the contact in whole minutes"),
        ({"duration_minutes": "1441"}, "duration_minutes", "Enter the length of the contact in minutes, up to 1440"),
        ({"incident_reference": "I" * 65}, "incident_reference", "The incident reference is at most 64 characters"),
        ({"setting": "nowhere"}, "setting", "Select where the advice was given"),
        ({"advice": "   "}, "advice", "Describe the advice given"),
        ({"advice": "a\x00b"}, "advice", "The advice is at most 10,000 characters of text"),
        ({"outcome": ""}, "outcome", "Select the outcome"),
        ({"s136": "used"}, "s136", S136_USED_WITHOUT_DETENTION),
        ({"s136": "maybe"}, "s136", "Say whether a section 136 detention was avoided, used or not considered"),
        ({"conveyance": "car"}, "conveyance", "Select where the person was taken, or none"),
        ({"crisis_team_referral": ""}, "crisis_team_referral", "Say whether the crisis team was asked to help"),
    ],
)
def test_each_wrong_field_is_one_error_beside_it(changes: dict[str, str], field: str, message: str) -> None:
    assert _errors(**changes) == {field: message}


def test_every_wrong_field_is_reported_at_once_in_the_forms_order() -> None:
    found = _errors(advice="", s136="used", crisis_team_referral="", contacted_time="25:99", given_name="")
    assert list(found) == ["given_name", "contacted_at", "advice", "s136", "crisis_team_referral"]


def test_a_linked_person_needs_no_typed_identity_but_a_typed_date_must_still_read() -> None:
    linked = {"person_id": "P-1", "given_name": "", "family_name": "", "date_of_birth": ""}
    assert _errors(**linked) == {}
    assert _errors(**{**linked, "date_of_birth": "2999-01-01"}) == {}
    assert _errors(**{**linked, "date_of_birth": "soon"}) == {
        "date_of_birth": "Enter the date of birth like 1990-04-27"
    }


def test_the_entry_checks_itself_when_made_in_code() -> None:
    with pytest.raises(ValidationError) as refused:
        TriageEntry(
            contacted_at=NOW,
            setting="control_room",
            advice="",
            outcome="s136_detention",
            s136=S136.AVOIDED,
            conveyance=Conveyance.NONE,
            crisis_team_referral=False,
            person_id="P-1",
        )
    assert problems_of(refused.value) == {
        "advice": "Describe the advice given",
        "s136": S136_DETENTION_NOT_USED,
    }
