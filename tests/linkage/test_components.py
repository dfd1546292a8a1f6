"""Clusters are the connected components of the links at or above the threshold, named by their
smallest record id, the same as Splink's clustering gives."""

from __future__ import annotations

import duckdb
from hypothesis import given, settings
from hypothesis import strategies as st
from splink import DuckDBAPI

from commonground.linkage.components import Honoured, create_clusters
from commonground.linkage.predict import cluster_labels, link
from commonground.linkage.training import TrainedModel


def _clusters(records: list[str], pairs: list[tuple[str, str, float]], threshold: float) -> dict[str, str]:
    con = duckdb.connect()
    con.execute("CREATE TABLE records (unique_id VARCHAR)")
    con.executemany("INSERT INTO records VALUES (?)", [(r,) for r in records])
    con.execute("CREATE TABLE pairs (unique_id_l VARCHAR, unique_id_r VARCHAR, match_weight DOUBLE)")
    if pairs:
        con.executemany("INSERT INTO pairs VALUES (?, ?, ?)", pairs)
    count, _ = create_clusters(con, records="records", pairs="pairs", threshold_match_weight=threshold, target="found")
    found = dict(con.execute("SELECT unique_id, cluster_id FROM found").fetchall())
    assert count == len(set(found.values()))
    assert con.execute("SELECT COUNT(*) FROM duckdb_tables() WHERE table_name LIKE 'found_%'").fetchall() == [(0,)]
    return found


def test_links_at_or_above_the_threshold_join_records_and_a_cluster_is_named_by_its_smallest_id() -> None:
    found = _clusters(
        ["police:9", "ed:4", "school:2", "ed:7", "csc:1"],
        [
            ("police:9", "ed:4", 15.0),  # above
            ("ed:4", "school:2", 14.5),  # exactly at the threshold: accepted
            ("ed:7", "csc:1", 14.49),  # below: two people
        ],
        14.5,
    )
    assert found == {
        "police:9": "ed:4",
        "ed:4": "ed:4",
        "school:2": "ed:4",
        "ed:7": "ed:7",
        "csc:1": "csc:1",
    }


def test_records_without_links_are_people_of_their_own() -> None:
    assert _clusters(["a:1", "a:2"], [], 0.0) == {"a:1": "a:1", "a:2": "a:2"}


def _reference(records: list[str], pairs: list[tuple[str, str, float]], threshold: float) -> dict[str, str]:
    """Union-find, the textbook way."""
    parent = {r: r for r in records}

    def root(r: str) -> str:
        while parent[r] != r:
            r = parent[r]
        return r

    for left, right, weight in pairs:
        if weight >= threshold:
            a, b = root(left), root(right)
            if a != b:
                parent[max(a, b)] = min(a, b)
    members: dict[str, list[str]] = {}
    for r in records:
        members.setdefault(root(r), []).append(r)
    return {r: min(group) for group in members.values() for r in group}


@settings(max_examples=60, deadline=None)
@given(
    st.integers(min_value=1, max_value=30).flatmap(
        lambda n: st.tuples(
            st.just([f"f:{i:02d}" for i in range(n)]),
            st.lists(
                st.tuples(st.integers(0, n - 1), st.integers(0, n - 1), st.floats(-5, 25, allow_nan=False, width=32)),
                max_size=60,
            ),
        )
    )
)
def test_the_same_clusters_as_union_find(case: tuple[list[str], list[tuple[int, int, float]]]) -> None:
    records, edges = case
    pairs = [(records[i], records[j], float(w)) for i, j, w in edges if i != j]
    assert _clusters(records, pairs, 10.0) == _reference(records, pairs, 10.0)


def test_the_same_clusters_as_splink_on_febrl(trained: TrainedModel, febrl_db: DuckDBAPI) -> None:
    result = link(trained, db_api=febrl_db, source_table="febrl", threshold_match_weight=3.0)
    con = febrl_db.duckdb_con
    create_clusters(
        con,
        records="febrl",
        pairs=result.predictions.physical_name,
        threshold_match_weight=result.threshold_match_weight,
        target="ours",
    )
    ours = dict(con.execute("SELECT unique_id, cluster_id FROM ours").fetchall())
    splink = cluster_labels(result.clusters)
    assert len(ours) == len(splink) > 1000
    assert len(set(ours.values())) < len(ours)  # some records were joined
    assert _partition(ours) == _partition(splink)


def _partition(labels: dict[str, str]) -> set[frozenset[str]]:
    groups: dict[str, set[str]] = {}
    for record, label in labels.items():
        groups.setdefault(label, set()).add(record)
    return {frozenset(g) for g in groups.values()}


def _constrained(
    records: list[str],
    pairs: list[tuple[str, str, float]],
    *,
    apart: list[list[str]] = [],  # noqa: B006 - read only
    together: list[list[str]] = [],  # noqa: B006 - read only
) -> tuple[set[frozenset[str]], Honoured]:
    con = duckdb.connect()
    con.execute("CREATE TABLE records (unique_id VARCHAR)")
    con.executemany("INSERT INTO records VALUES (?)", [(r,) for r in records])
    con.execute("CREATE TABLE pairs (unique_id_l VARCHAR, unique_id_r VARCHAR, match_weight DOUBLE)")
    con.executemany("INSERT INTO pairs VALUES (?, ?, ?)", pairs)
    _, honoured = create_clusters(
        con,
        records="records",
        pairs="pairs",
        threshold_match_weight=10.0,
        target="found",
        held_apart=apart,
        kept_together=together,
    )
    return _partition(dict(con.execute("SELECT unique_id, cluster_id FROM found").fetchall())), honoured


def test_a_group_held_apart_is_joined_to_nobody_else_even_through_a_third_record() -> None:
    """#15: a pair a person rejected never re-forms: cutting only the direct link would let a+b rejoin through c."""
    records = ["p:a", "p:b", "p:c", "q:d"]
    pairs = [("p:a", "p:b", 20.0), ("p:a", "p:c", 15.0), ("p:b", "p:c", 12.0), ("p:c", "q:d", 11.0)]
    plain, _ = _constrained(records, pairs)
    assert plain == {frozenset(records)}
    held, honoured = _constrained(records, pairs, apart=[["p:b"]])
    assert held == {frozenset({"p:b"}), frozenset({"p:a", "p:c", "q:d"})}
    assert honoured == Honoured(cut=2, added=0)
    two, _ = _constrained(records, pairs, apart=[["p:a", "p:b"]])  # a group keeps its own links
    assert two == {frozenset({"p:a", "p:b"}), frozenset({"p:c", "q:d"})}


def test_records_kept_together_stay_one_person_whatever_the_model_says() -> None:
    records = ["p:a", "p:b", "q:c"]
    pairs = [("p:a", "p:b", 3.0)]  # below the threshold: the model alone would make three people
    kept, honoured = _constrained(records, pairs, together=[["q:c", "p:a", "p:b"]])
    assert kept == {frozenset(records)} and honoured == Honoured(cut=0, added=2)
    unknown, _ = _constrained(records, pairs, apart=[["x:gone"]], together=[["x:gone", "y:gone"]])
    assert unknown == {frozenset({"p:a"}), frozenset({"p:b"}), frozenset({"q:c"})}  # ids not held are ignored
