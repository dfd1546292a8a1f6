"""The review band (#15): pairs between the band's floor and the threshold are written by the build for people to
decide, not linked; a decision comes back through the constraints and holds build after build (an accepted pair
linked, a rejected one never in one cluster, even through a third record); decided pairs are labels the build
scores the model against."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import numpy as np
import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from commonground.cli import app
from commonground.linkage import builds
from commonground.linkage.components import separate
from commonground.linkage.constraints import CONSTRAINTS_FILE, KeptTogether, LinkConstraints, PairApart
from commonground.linkage.pipeline import build_from_store
from commonground.linkage.review_band import labelled_pairs, write_review_candidates
from commonground.linkage.spec import LinkageModelSpec, default_spec
from commonground.linkage.threshold import DEFAULT_REVIEW_BAND_LOWER, probability_to_weight
from conftest import BuiltArea


def test_band_pairs_between_clusters_are_candidates_the_strongest_per_two_clusters() -> None:
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE pairs AS SELECT * FROM (VALUES ('a:1', 'a:2', 16.0, 0.99999, 3, 5.0), "
        "('a:1', 'b:1', 12.0, 0.9998, 2, 4.0), ('a:2', 'b:1', 11.0, 0.9995, 1, 2.0), "
        "('b:1', 'c:1', 8.0, 0.996, 1, 2.0), ('c:1', 'c:2', 13.0, 0.9999, 2, 4.0)) "
        "AS t(unique_id_l, unique_id_r, match_weight, match_probability, gamma_given_name, mw_given_name)"
    )
    con.execute(
        "CREATE TABLE clusters AS SELECT * FROM (VALUES ('a:1', 'a:1'), ('a:2', 'a:1'), ('b:1', 'b:1'), "
        "('c:1', 'c:1'), ('c:2', 'c:1')) AS t(unique_id, cluster_id)"
    )
    # c:1 and c:2 were kept together by people: in one cluster, so nothing to decide
    written = write_review_candidates(
        con, predictions="pairs", clusters="clusters", lower=10.0, upper=14.3, target="out"
    )
    assert written == 1
    assert con.execute("SELECT unique_id_l, unique_id_r, match_weight, gamma_given_name FROM out").fetchall() == [
        ("a:1", "b:1", 12.0, 2)
    ]


def test_a_pair_apart_is_never_in_one_cluster_even_through_a_third_record() -> None:
    # 0-1 is the rejected pair; 0-2 (strong) and 2-1 (weak) would join them through record 2
    left, right = np.array([0, 0, 2, 3]), np.array([1, 2, 1, 1])
    weights = np.array([15.0, 20.0, 14.5, 18.0])
    keep = separate(left, right, weights, nodes=4, pairs=[(1, 0)])
    assert keep.tolist() == [False, True, False, True]  # the direct link and the weakest that would join them
    assert separate(left, right, weights, nodes=4, pairs=[]).all()


def test_decisions_are_labelled_pairs() -> None:
    constraints = LinkConstraints(
        kept_together=(KeptTogether(review=1, records=("b:2",), with_=("a:1",)),),
        pairs_apart=(PairApart(review=2, records=("c:1", "a:1")),),
    )
    assert labelled_pairs(constraints) == [("a:1", "b:2", True, 1), ("a:1", "c:1", False, 2)]


def _people(data_dir: Path) -> dict[str, str]:
    build = builds.current_build(data_dir)
    assert build is not None
    with build.connect() as con:
        rows = con.execute("SELECT feed || ':' || record_id, person_id FROM person_records").fetchall()
    return {str(record): str(person) for record, person in rows}


def _candidates(data_dir: Path) -> list[tuple[str, str, float]]:
    build = builds.current_build(data_dir)
    assert build is not None
    with build.connect() as con:
        rows = con.execute("SELECT unique_id_l, unique_id_r, match_weight FROM review_candidates").fetchall()
    return [(str(a), str(b), float(w)) for a, b, w in rows]


def test_the_build_offers_the_band_and_honours_decisions_build_after_build(
    data_copy: Path, built_area: BuiltArea
) -> None:
    summary = build_from_store(data_dir=data_copy, model=built_area.model)
    info = json.loads((summary.path / "build.json").read_text())
    lower = probability_to_weight(DEFAULT_REVIEW_BAND_LOWER)
    assert info["review_band"]["lower_match_weight"] == lower
    candidates = _candidates(data_copy)
    assert len(candidates) == info["review_band"]["candidates"] >= 2
    people = _people(data_copy)
    for a, b, weight in candidates:
        assert lower <= weight < summary.threshold_match_weight
        assert people[a] != people[b]  # not linked: offered to people instead
    accepted, rejected = candidates[0], candidates[1]
    (data_copy / CONSTRAINTS_FILE).write_text(
        LinkConstraints(
            kept_together=(KeptTogether(review=1, records=(accepted[0],), with_=(accepted[1],)),),
            pairs_apart=(PairApart(review=2, records=(rejected[0], rejected[1])),),
        ).to_json(),
        encoding="utf-8",
    )
    for _ in range(2):
        summary = build_from_store(data_dir=data_copy, model=built_area.model)
        people = _people(data_copy)
        assert people[accepted[0]] == people[accepted[1]]
        assert people[rejected[0]] != people[rejected[1]]
        offered = {(a, b) for a, b, _ in _candidates(data_copy)}
        assert (accepted[0], accepted[1]) not in offered
        info = json.loads((summary.path / "build.json").read_text())
        assert info["link_reviews"]["pairs_apart"] == 1 and info["link_reviews"]["labelled_pairs"] == 2
        build = builds.current_build(data_copy)
        assert build is not None
        with build.connect() as con:
            labels = con.execute(
                "SELECT unique_id_l, unique_id_r, same_person, linked_by_model, match_weight FROM review_labels "
                "ORDER BY review"
            ).fetchall()
        # both were in the band: the model alone linked neither, and scored both
        assert [(bool(s), bool(m)) for _, _, s, m, _ in labels] == [(True, False), (False, False)]
        assert all(w is not None for *_, w in labels)
    report = CliRunner().invoke(app, ["--data-dir", str(data_copy), "link-report"])
    assert report.exit_code == 0, report.output
    assert "pairs of records offered" in report.output
    assert "decided pairs" in report.output and "agreed with the model" in report.output


def test_the_band_floor_is_below_the_threshold() -> None:
    data = default_spec().model_dump(mode="json")
    assert default_spec().review_band_lower_probability == DEFAULT_REVIEW_BAND_LOWER
    with pytest.raises(ValidationError, match="review_band_lower_probability must be below the threshold"):
        LinkageModelSpec.model_validate({**data, "review_band_lower_probability": 0.999999})
