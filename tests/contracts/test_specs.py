"""The contracts themselves: well formed, documented, and the doc is not stale."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from commonground.contracts import FEEDS, Column, ColumnType, FeedContract, feed_for_filename
from commonground.contracts.doc import render_markdown
from commonground.contracts.feeds import IDENTITY

ROOT = Path(__file__).resolve().parents[2]

MINIMUM_COLUMNS = {
    "police_incidents": {"record_id", "incident_id", "occurred_at", "postcode", "address", "category", "qualifiers"},
    "police_incident_persons": {"record_id", "incident_id", "role"},
    "custody_records": {"record_id", "arrested_at", "offence_group", "vulnerabilities"},
    "missing_episodes": {"record_id", "reported_at", "returned_at", "risk_level"},
    "street_triage": {"record_id", "contacted_at", "setting", "outcome"},
    "ed_attendances": {
        "record_id",
        "arrived_at",
        "injury_intent",
        "alcohol_involved",
        "drugs_involved",
        "assault_at",
        "assault_location_type",
        "assault_location",
        "weapon",
    },
    "mental_health_contacts": {"record_id", "contact_date", "service", "mha_section"},
    "substance_treatment": {"record_id", "start_date", "end_date", "substance", "lives_with_children"},
    "childrens_social_care": {
        "record_id",
        "referral_date",
        "closure_date",
        "assessment_factors",
        "cp_plan_category",
        "looked_after",
    },
    "custodial_sentences": {"record_id", "received_at", "released_at"},
    "school_roll": {"record_id", "school_urn"},
    "schools": {"record_id", "school_urn", "name", "dsl_name", "dsl_email"},
}


def test_docs_contracts_md_is_generated_from_the_specs() -> None:
    on_disk = (ROOT / "docs" / "contracts.md").read_text(encoding="utf-8")
    assert on_disk == render_markdown(), (
        "docs/contracts.md is stale: run `commonground contracts --markdown > docs/contracts.md`"
    )


@pytest.mark.parametrize("feed", sorted(MINIMUM_COLUMNS))
def test_every_feed_has_the_minimum_columns_as_required(feed: str) -> None:
    contract = FEEDS[feed]
    assert MINIMUM_COLUMNS[feed] <= set(contract.required_columns)


def test_person_level_feeds_carry_the_identity_block() -> None:
    identity = {c.name for c in IDENTITY}
    for contract in FEEDS.values():
        names = set(contract.column_names)
        assert (identity <= names) is contract.person_level, contract.name
    assert {c.name for c in IDENTITY if not c.required} == {"nhs_number", "uprn"}


def test_feed_for_filename() -> None:
    assert feed_for_filename("police_incidents.csv") is FEEDS["police_incidents"]
    assert feed_for_filename(Path("x/ed_attendances.PARQUET")) is FEEDS["ed_attendances"]
    assert feed_for_filename("police_incidents.xlsx") is None
    assert feed_for_filename("police.csv") is None


def test_bad_specs_are_refused_when_built() -> None:
    with pytest.raises(ValidationError, match="needs its list of values"):
        Column(name="c", type=ColumnType.CODE, description="d")
    with pytest.raises(ValidationError, match="only code columns"):
        Column(name="c", type=ColumnType.TEXT, description="d", values=("a",))
    with pytest.raises(ValidationError, match="optional column must be nullable"):
        Column(name="c", type=ColumnType.TEXT, description="d", required=False)
    with pytest.raises(ValidationError, match="unknown_allowed is for a column that expects a value"):
        Column(name="c", type=ColumnType.DATE, description="d", nullable=True, unknown_allowed=True)
    record_id = Column(name="record_id", type=ColumnType.ID, description="d")
    with pytest.raises(ValidationError, match="columns named twice"):
        FeedContract(
            name="f", title="t", source="s", description="d", person_level=False, columns=(record_id, record_id)
        )
    with pytest.raises(ValidationError, match="every feed has a record_id"):
        FeedContract(
            name="f",
            title="t",
            source="s",
            description="d",
            person_level=False,
            columns=(Column(name="x", type=ColumnType.ID, description="d"),),
        )


def test_a_date_of_birth_is_needed_or_expected_feed_by_feed() -> None:
    """#15: where people may not or could not say, a blank date of birth keeps the row (with a warning); where the
    partner always holds it (a school roll, a referral, a prison), it is needed. Each choice is said, with why."""
    from commonground.contracts.doc import render_markdown
    from commonground.contracts.feeds import DATE_OF_BIRTH_CHOICES

    expected = {"police_incident_persons", "custody_records", "missing_episodes", "street_triage", "ed_attendances"}
    person_feeds = {name for name, feed in FEEDS.items() if feed.person_level}
    assert set(DATE_OF_BIRTH_CHOICES) == person_feeds
    for name in person_feeds:
        column = FEEDS[name].column("date_of_birth")
        assert column.unknown_allowed is (name in expected), name
        assert column.blank_keeps_row is (name in expected) and not column.nullable, name
    text = render_markdown()
    for name, why in DATE_OF_BIRTH_CHOICES.items():
        kind = "expected" if name in expected else "needed"
        assert f"| `{name}` | {kind} | {why[0].upper()}{why[1:]}. |" in text


def test_contracts_round_trip_to_json() -> None:
    for contract in FEEDS.values():
        assert FeedContract.model_validate_json(contract.model_dump_json()) == contract
