"""The threshold as a match probability, with the prior that fits the number of records linked."""

from __future__ import annotations

import hashlib
import json
import math

import duckdb
import pytest
from linkage_support import illustrative_model, load_table
from splink import DuckDBAPI

from commonground.linkage.predict import score
from commonground.linkage.spec import LinkageModelSpec, default_spec
from commonground.linkage.threshold import (
    prior_for,
    probability_to_weight,
    threshold_weight,
    weight_to_probability,
)
from commonground.linkage.training import TrainedModel, spec_digest

BASE = {"feed": "t", "sex": None, "postcode": None, "nhs_number": None, "uprn": None}


def _model(*, trained_on: int, prior: float = 1e-4) -> TrainedModel:
    model = illustrative_model(default_spec())
    parameters = model.parameters.model_copy(update={"probability_two_random_records_match": prior})
    training = model.training.model_copy(update={"record_count": trained_on})
    return model.model_copy(update={"parameters": parameters, "training": training})


@pytest.mark.parametrize(
    ("probability", "weight"), [(0.5, 0.0), (0.9, math.log2(9)), (0.99995, math.log2(0.99995 / 0.00005))]
)
def test_probability_and_weight_are_one_scale(probability: float, weight: float) -> None:
    assert probability_to_weight(probability) == pytest.approx(weight)
    assert weight_to_probability(weight) == pytest.approx(probability)


def test_the_prior_falls_as_the_area_grows() -> None:
    model = _model(trained_on=10_001, prior=1e-4)  # one other record of the same person per record
    assert prior_for(model, 10_001) == 1e-4
    assert prior_for(model, 100_001) == pytest.approx(1e-5)
    assert prior_for(model, 1_001) == pytest.approx(1e-3)
    assert prior_for(model, 3) == 0.5  # never above MAX_PRIOR
    assert prior_for(_model(trained_on=0), 500) == 1e-4  # an untrained size: the trained prior


def test_the_default_threshold_is_a_probability() -> None:
    spec = default_spec()
    assert spec.threshold_match_probability is not None
    assert spec.default_threshold_match_weight == pytest.approx(probability_to_weight(spec.threshold_match_probability))
    model = _model(trained_on=1000)
    assert threshold_weight(model) == spec.default_threshold_match_weight
    assert threshold_weight(model, threshold_match_probability=0.5) == 0.0
    assert threshold_weight(model, threshold_match_weight=3.0) == 3.0


def test_a_spec_with_a_weight_threshold_still_loads() -> None:
    data = default_spec().model_dump(mode="json") | {
        "threshold_match_probability": None,
        "threshold_match_weight": 14.5,
    }
    assert LinkageModelSpec.from_data(data).default_threshold_match_weight == 14.5


def _scored(model: TrainedModel, *, crowd: int) -> tuple[float, float]:
    """The match weight and probability of one pair, linked among ``crowd`` other records."""
    pair = [
        BASE
        | {"unique_id": f"p{i}", "given_name_key": "ROBERT", "family_name_key": "BROWN"}
        | {"date_of_birth": "1980-03-04", "address": "42 Albert Road"}
        for i in range(2)
    ]
    # The others have no name or address, so the term frequencies of the pair's values are the same
    # in both areas: only the prior differs.
    others = [
        BASE
        | {"unique_id": f"o{i}", "given_name_key": None, "family_name_key": None, "address": None}
        | {"date_of_birth": f"19{i % 100:02d}-01-01"}
        for i in range(crowd)
    ]
    con = duckdb.connect()
    load_table(con, "records", pair + others)
    scored = score(
        model,
        db_api=DuckDBAPI(con),
        source_table="records",
        threshold_match_weight=-50.0,
        keep_pairs_below_threshold=False,
    )
    rows = scored.predictions.query_sql(
        "SELECT match_weight, match_probability FROM {this} WHERE unique_id_l = 'p0' AND unique_id_r = 'p1'"
    ).as_record_list()
    con.close()
    return float(rows[0]["match_weight"]), float(rows[0]["match_probability"])


def test_the_same_pair_is_less_likely_in_a_bigger_area() -> None:
    """Trained on 100 records; the same pair linked among 100 and among 1,000 records: the prior
    (and so the weight) is log2(999/99) lower in the bigger area, and a threshold probability set
    between the two probabilities links the pair only in the smaller one."""
    model = _model(trained_on=100, prior=0.02)
    small_weight, small_probability = _scored(model, crowd=98)
    big_weight, big_probability = _scored(model, crowd=998)
    assert small_weight - big_weight == pytest.approx(math.log2(999 / 99), abs=0.05)
    assert big_probability < small_probability
    between = (small_probability + big_probability) / 2
    assert small_weight >= threshold_weight(model, threshold_match_probability=between) > big_weight


def test_a_model_saved_before_probability_thresholds_keeps_its_digest() -> None:
    """Spec version 2 had no threshold_match_probability: its saved models still load."""
    data = default_spec().model_dump(mode="json") | {
        "threshold_match_probability": None,
        "threshold_match_weight": 14.5,
    }
    saved = {k: v for k, v in data.items() if k != "threshold_match_probability"}
    expected = hashlib.sha256(json.dumps(saved, indent=2, ensure_ascii=False).encode("utf-8")).hexdigest()
    assert spec_digest(LinkageModelSpec.from_data(data)) == expected
