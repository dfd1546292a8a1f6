"""Literal rows for every comparison: two records in, the expected level (its label) and the
sign of its weight out, through the real path: prepare SQL, Splink's compiled levels, explain.

The model here has illustrative parameters (every agreement level for, "different" against),
so the sign says the level was recognised and mapped to the right weight; the trained model's
weights are tested in test_training. Names compared exactly are rare in the table, so their
term-frequency adjustment cannot flip the sign.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import duckdb
import pytest
from linkage_support import illustrative_model, load_table
from splink import DuckDBAPI

from commonground.linkage.explain import PairExplanation, explain_prediction
from commonground.linkage.predict import linker_for
from commonground.linkage.prepare import prepare_records
from commonground.linkage.spec import default_spec
from commonground.linkage.training import TrainedModel

BASE: dict[str, Any] = {
    "feed": "test",
    "given_name_key": None,
    "family_name_key": None,
    "date_of_birth": None,
    "sex": None,
    "postcode": None,
    "address": None,
    "nhs_number": None,
    "uprn": None,
}

# (comparison, left values, right values, expected label, expected sign of the weight)
CASES: list[tuple[str, dict[str, Any], dict[str, Any], str, int]] = [
    ("given_name", {"given_name_key": "AUGUSTINE"}, {"given_name_key": "AUGUSTINE"}, "the same", +1),
    (
        "given_name",
        {"given_name_key": "BILL"},
        {"given_name_key": "WILLIAM"},
        "a known nickname or short form of the other",
        +1,
    ),
    (
        "given_name",
        {"given_name_key": "SAM"},
        {"given_name_key": "SAMANTHA"},
        "a known nickname or short form of the other",
        +1,
    ),
    (
        "given_name",
        {"given_name_key": "JOHN", "family_name_key": "SMITH"},
        {"given_name_key": "SMITH", "family_name_key": "JOHN"},
        "given and family names swapped",
        +1,
    ),
    (
        "given_name",
        {"given_name_key": "BROWN", "family_name_key": "BOBBY"},
        {"given_name_key": "ROBERT", "family_name_key": "BROWN"},
        "given and family names swapped, one a nickname or short form of the other's",
        +1,
    ),
    (
        "given_name",
        {"given_name_key": "GREEN", "family_name_key": "ROBERT"},
        {"given_name_key": "BOB", "family_name_key": "GREEN"},
        "given and family names swapped, one a nickname or short form of the other's",
        +1,
    ),
    (
        "given_name",
        {"given_name_key": "CATHERINE"},
        {"given_name_key": "CATHRINE"},
        "almost the same (a small spelling difference)",
        +1,
    ),
    (
        "given_name",
        {"given_name_key": "CROOK", "family_name_key": "CHANNING"},
        {"given_name_key": "BETHANY", "family_name_key": "CROOK"},
        "the same as the other record's family name (names in the wrong fields)",
        +1,
    ),
    ("given_name", {"given_name_key": "DWAYNE"}, {"given_name_key": "DUANE"}, "similar", +1),
    ("given_name", {"given_name_key": "M"}, {"given_name_key": "MICHAELA"}, "only the first letter the same", +1),
    ("given_name", {"given_name_key": "JOHN"}, {"given_name_key": "PETER"}, "different", -1),
    ("given_name", {"given_name_key": None}, {"given_name_key": "PETER"}, "not recorded on one side", 0),
    ("family_name", {"family_name_key": "PEMBERTON"}, {"family_name_key": "PEMBERTON"}, "the same", +1),
    (
        "family_name",
        {"family_name_key": "SMITH"},
        {"family_name_key": "SMITHSON"},
        "almost the same (a small spelling difference)",
        +1,
    ),
    ("family_name", {"family_name_key": "SMITH"}, {"family_name_key": "SMYTHE"}, "similar", +1),
    ("family_name", {"family_name_key": "SMITH"}, {"family_name_key": "OKAFOR"}, "different", -1),
    ("family_name", {"family_name_key": "SMITH"}, {"family_name_key": None}, "not recorded on one side", 0),
    ("date_of_birth", {"date_of_birth": "1980-03-04"}, {"date_of_birth": "1980-03-04"}, "the same", +1),
    ("date_of_birth", {"date_of_birth": "1980-03-04"}, {"date_of_birth": "1980-04-03"}, "day and month swapped", +1),
    (
        "date_of_birth",
        {"date_of_birth": "1989-03-04"},
        {"date_of_birth": "1990-03-04"},
        "the same day and month one year apart",
        +1,
    ),
    (
        "date_of_birth",
        {"date_of_birth": "1988-02-28"},
        {"date_of_birth": "1987-02-28"},
        "the same day and month one year apart",
        +1,
    ),
    ("date_of_birth", {"date_of_birth": "1980-03-31"}, {"date_of_birth": "1980-04-01"}, "one day apart", +1),
    ("date_of_birth", {"date_of_birth": "1979-12-31"}, {"date_of_birth": "1980-01-01"}, "one day apart", +1),
    ("date_of_birth", {"date_of_birth": "1980-03-04"}, {"date_of_birth": "1980-03-05"}, "one day apart", +1),
    (
        "date_of_birth",
        {"date_of_birth": "1980-03-04"},
        {"date_of_birth": "1980-03-07"},
        "one digit different or two adjacent digits swapped",
        +1,
    ),
    (
        "date_of_birth",
        {"date_of_birth": "1987-03-04"},
        {"date_of_birth": "1978-03-04"},
        "one digit different or two adjacent digits swapped",
        +1,
    ),
    ("date_of_birth", {"date_of_birth": "1980-03-04"}, {"date_of_birth": "1980-03-25"}, "within a month", +1),
    ("date_of_birth", {"date_of_birth": "1980-03-04"}, {"date_of_birth": "1983-03-14"}, "two digits different", +1),
    ("date_of_birth", {"date_of_birth": "1980-03-04"}, {"date_of_birth": "1980-09-20"}, "within a year", +1),
    ("date_of_birth", {"date_of_birth": "1980-03-04"}, {"date_of_birth": "1955-07-21"}, "different", -1),
    ("date_of_birth", {"date_of_birth": None}, {"date_of_birth": "1955-07-21"}, "not recorded on one side", 0),
    ("sex", {"sex": "F"}, {"sex": "F"}, "the same", +1),
    ("sex", {"sex": "F"}, {"sex": "M"}, "different", -1),
    ("sex", {"sex": "U"}, {"sex": "F"}, "not recorded or not known on one side", 0),
    (
        "address",
        {"address": "Flat 1", "uprn": "100023336956"},
        {"address": "1 Mill Lane", "uprn": "100023336956"},
        "the same property (UPRN)",
        +1,
    ),
    ("address", {"address": "31, Low St."}, {"address": "31 LOW ST"}, "the same first line", +1),
    ("address", {"address": "42 Albert Rd"}, {"address": "42 albert road"}, "the same first line", +1),
    ("address", {"address": "Flat 2, 10 Quarry Lane"}, {"address": "2/10 Quarry Ln"}, "the same first line", +1),
    (
        "address",
        {"address": "10 Mill Lane Flat 2"},
        {"address": "Apartment 2, 10 Mill Lane"},
        "the same first line",
        +1,
    ),
    ("address", {"address": "7 St. John's Cres"}, {"address": "7 SAINT JOHNS CRESCENT"}, "the same first line", +1),
    ("address", {"address": "12 High Street"}, {"address": "12 High Stret"}, "almost the same first line", +1),
    ("address", {"address": "12 High Street"}, {"address": "12 Highfield Road"}, "similar first line", +1),
    ("address", {"address": "12 High Street"}, {"address": "12 Oak Avenue"}, "same house number only", +1),
    ("address", {"address": "5 Oak Avenue"}, {"address": "98 Mill Lane"}, "different", -1),
    ("address", {"address": "No fixed abode"}, {"address": "98 Mill Lane"}, "not recorded on one side", 0),
    ("nhs_number", {"nhs_number": "9434765919"}, {"nhs_number": "9434765919"}, "the same", +1),
    ("nhs_number", {"nhs_number": "9434765919"}, {"nhs_number": "4010232137"}, "different", -1),
    ("nhs_number", {"nhs_number": None}, {"nhs_number": "4010232137"}, "not recorded on one side", 0),
]


@pytest.fixture(scope="module")
def model() -> TrainedModel:
    return illustrative_model(default_spec())


@pytest.fixture(scope="module")
def explained(model: TrainedModel) -> Iterator[dict[str, PairExplanation]]:
    """Every case scored at once: the records L<i> and R<i> are blocked together by number."""
    con = duckdb.connect()
    rows = []
    for i, (_, left, right, _, _) in enumerate(CASES):
        rows += [BASE | {"unique_id": f"L{i:02d}"} | left, BASE | {"unique_id": f"R{i:02d}"} | right]
    load_table(con, "cases", rows)
    prepared = prepare_records(db_api=DuckDBAPI(con), source_table="cases")
    linker = linker_for(model, prepared=prepared)
    for column in ("given_name_key", "family_name_key", "address"):
        linker.table_management.compute_tf_table(column)
    predictions = linker.inference.predict_within(
        prepared,
        blocking_rules_to_generate_predictions=["substr(l.unique_id, 2) = substr(r.unique_id, 2)"],
        warning_mode="never",
    )
    yield {row["unique_id_l"][1:]: explain_prediction(model, row) for row in predictions.as_record_list()}
    con.close()


def test_every_level_of_the_model_has_a_literal_case() -> None:
    covered = {(comp, label) for comp, _, _, label, _ in CASES}
    expected = {(c.name, lv.label) for c in default_spec().comparisons for lv in c.levels}
    assert expected - covered == set()


@pytest.mark.parametrize(("index", "case"), list(enumerate(CASES)), ids=[f"{c[0]}: {c[3]}" for c in CASES])
def test_literal_pair(
    explained: dict[str, PairExplanation],
    model: TrainedModel,
    index: int,
    case: tuple[str, dict[str, Any], dict[str, Any], str, int],
) -> None:
    comparison, _, _, label, sign = case
    explanation = explained[f"{index:02d}"]
    part = next(c for c in explanation.comparisons if c.comparison == comparison)
    assert part.level == label
    assert (part.match_weight > 0) - (part.match_weight < 0) == sign
    title = model.spec.comparison(comparison).title
    assert f"{title}: {label} (" in explanation.as_text()
