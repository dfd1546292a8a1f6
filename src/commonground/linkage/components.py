"""Clusters from accepted links: the connected components of the pairs at or above a threshold.

A build's people are the connected components of the graph whose nodes are the records and whose
edges are the scored pairs at or above the threshold (what Splink's
``cluster_pairwise_predictions_at_threshold`` computes). Splink computes them in SQL, one round of
label propagation per statement, writing a table each round; here the edges leave DuckDB once as
two integer arrays and scipy's ``connected_components`` labels every record in one pass in C. At
1,000,000 people (13.6 million links) that is seconds against Splink's minutes, and it is the same
for both engines: on Spark the scored pairs come back to the build's DuckDB session anyway.

A cluster is named by its smallest ``unique_id``, so the same links give the same clusters
whichever engine scored them and in whatever order the pairs arrive.

People's word comes before the model's (:mod:`.constraints`): every accepted link with one end in a group held apart
and the other outside it is cut before the components are taken (so no path joins the group to anyone else), then
a link is added between each group kept together and the records it was kept with. Two records decided "not the
same person" (a pair from the review band) lose the link between them; if other links still join them, that one
cluster is made again strongest link first, skipping every link that would join the two (:func:`separate`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components


@dataclass(frozen=True)
class Honoured:
    """What people's word changed in a build: links cut and links added."""

    cut: int = 0
    added: int = 0
    pairs_separated: int = 0
    """Links dropped to keep pairs decided "not the same person" apart."""


def _run(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    con.execute(sql).fetchall()


def component_labels(left: np.ndarray, right: np.ndarray, *, nodes: int) -> tuple[int, np.ndarray]:
    """The number of connected components of the graph on ``0 .. nodes - 1`` whose edge ``i`` joins
    ``left[i]`` and ``right[i]``, and each node's component label."""
    graph = coo_matrix((np.ones(len(left), dtype=np.int8), (left, right)), shape=(nodes, nodes)).tocsr()
    count, labels = connected_components(graph, directed=False)
    return int(count), labels


def honour(
    left: np.ndarray,
    right: np.ndarray,
    *,
    nodes: int,
    apart: Sequence[np.ndarray] = (),
    together: Sequence[np.ndarray] = (),
) -> tuple[np.ndarray, np.ndarray, Honoured]:
    """The edges with every edge that leaves a group of ``apart`` (node arrays) removed, then a star of edges
    added over each group of ``together``."""
    keep = np.ones(len(left), dtype=bool)
    if apart:
        held = np.zeros(nodes, dtype=bool)
        for group in apart:
            held[group] = True
        touching = np.flatnonzero(held[left] | held[right])  # the few edges that can leave a group
        for group in apart:
            inside = np.zeros(nodes, dtype=bool)
            inside[group] = True
            leaves = inside[left[touching]] != inside[right[touching]]
            keep[touching[leaves]] = False
    stars = [(np.full(len(g) - 1, g[0]), g[1:]) for g in together if len(g) > 1]
    added_l = np.concatenate([s[0] for s in stars]) if stars else np.empty(0, dtype=left.dtype)
    added_r = np.concatenate([s[1] for s in stars]) if stars else np.empty(0, dtype=right.dtype)
    return (
        np.concatenate([left[keep], added_l.astype(left.dtype)]),
        np.concatenate([right[keep], added_r.astype(right.dtype)]),
        Honoured(cut=int((~keep).sum()), added=len(added_l)),
    )


def separate(
    left: np.ndarray,
    right: np.ndarray,
    weights: np.ndarray,
    *,
    nodes: int,
    pairs: Sequence[tuple[int, int]],
) -> np.ndarray:
    """Which edges to keep (a boolean mask) so that no pair of ``pairs`` ends in one component. The direct edges
    between a pair go; a component that still holds both of a pair is made again greedily, strongest edge first,
    skipping an edge that would join two parts holding the two records of a pair. Other components are
    untouched, so the cost is that of the few components concerned. (Groups people kept together are added after
    this, :func:`honour`, and win.)"""
    keep = np.ones(len(left), dtype=bool)
    if not pairs:
        return keep
    forbidden = {(min(a, b), max(a, b)) for a, b in pairs if a != b}
    lo, hi = np.minimum(left, right), np.maximum(left, right)
    for a, b in forbidden:
        keep &= ~((lo == a) & (hi == b))
    _, labels = component_labels(left[keep], right[keep], nodes=nodes)
    joined = {int(labels[a]) for a, b in forbidden if labels[a] == labels[b]}
    if not joined:
        return keep
    in_joined = np.isin(labels[left], list(joined)) & keep
    order = np.flatnonzero(in_joined)
    order = order[np.argsort(-weights[order].astype(float), kind="stable")]
    parent: dict[int, int] = {}

    def root(x: int) -> int:
        while parent.get(x, x) != x:
            parent[x] = parent.get(parent[x], parent[x])
            x = parent[x]
        return x

    enemies: dict[int, set[int]] = {}
    for a, b in forbidden:
        enemies.setdefault(a, set()).add(b)
        enemies.setdefault(b, set()).add(a)
    members: dict[int, set[int]] = {}
    for edge in order:
        x, y = root(int(left[edge])), root(int(right[edge]))
        if x == y:
            continue
        mx, my = members.get(x, {x}), members.get(y, {y})
        if any(enemies[m] & my for m in mx if m in enemies):
            keep[edge] = False
            continue
        parent[y] = x
        members[x] = mx | my
        members.pop(y, None)
    return keep


def create_clusters(
    con: duckdb.DuckDBPyConnection,
    *,
    records: str,
    pairs: str,
    threshold_match_weight: float,
    target: str,
    held_apart: Sequence[Sequence[str]] = (),
    kept_together: Sequence[Sequence[str]] = (),
    pairs_apart: Sequence[tuple[str, str]] = (),
) -> tuple[int, Honoured]:
    """``CREATE TEMP TABLE target (cluster_id, unique_id)``: one row for every record of ``records``
    (which has ``unique_id``), in the cluster its links at or above the threshold in ``pairs``
    (``unique_id_l``, ``unique_id_r``, ``match_weight``) put it; a record with no such link is a
    cluster of its own. ``held_apart`` and ``kept_together`` are groups of ``unique_id`` that people's
    word holds apart from everyone else or keeps together (:func:`honour`; ids the input does not hold are
    ignored); ``pairs_apart``, two records each that are never in one cluster (:func:`separate`). Returns the
    number of clusters and what people's word changed. The three names are the
    caller's own identifiers."""
    _run(
        con,
        f"CREATE TEMP TABLE {target}_nodes AS "
        f"SELECT unique_id, (ROW_NUMBER() OVER () - 1)::INTEGER AS node FROM {records}",
    )
    try:
        nodes = int(con.execute(f"SELECT COUNT(*) FROM {target}_nodes").fetchall()[0][0])
        edges = con.execute(
            f"SELECT l.node AS l, r.node AS r, p.match_weight AS w FROM {pairs} AS p "
            f"JOIN {target}_nodes AS l ON l.unique_id = p.unique_id_l "
            f"JOIN {target}_nodes AS r ON r.unique_id = p.unique_id_r "
            f"WHERE p.match_weight >= {float(threshold_match_weight)!r}"
        ).fetchnumpy()
        node_of = _nodes_of(con, f"{target}_nodes", {u for g in (*held_apart, *kept_together, *pairs_apart) for u in g})
        apart_nodes = [(node_of[a], node_of[b]) for a, b in pairs_apart if a in node_of and b in node_of]
        mask = separate(edges["l"], edges["r"], edges["w"], nodes=nodes, pairs=apart_nodes)
        left, right, honoured = honour(
            edges["l"][mask],
            edges["r"][mask],
            nodes=nodes,
            apart=[_group(g, node_of) for g in held_apart if _group(g, node_of).size],
            together=[_group(g, node_of) for g in kept_together if _group(g, node_of).size],
        )
        honoured = Honoured(cut=honoured.cut, added=honoured.added, pairs_separated=int((~mask).sum()))
        count, labels = component_labels(left, right, nodes=nodes)
        con.register(
            f"{target}_labels",
            pa.table({"node": pa.array(np.arange(nodes, dtype=np.int32)), "label": pa.array(labels.astype(np.int32))}),
        )
        _run(
            con,
            f"CREATE TEMP TABLE {target} AS "
            "SELECT MIN(n.unique_id) OVER (PARTITION BY g.label) AS cluster_id, n.unique_id "
            f"FROM {target}_nodes AS n JOIN {target}_labels AS g ON g.node = n.node",
        )
        con.unregister(f"{target}_labels")
    finally:
        _run(con, f"DROP TABLE IF EXISTS {target}_nodes")
    return count, honoured


def _nodes_of(con: duckdb.DuckDBPyConnection, table: str, ids: set[str]) -> dict[str, int]:
    if not ids:
        return {}
    con.register("_cg_wanted", pa.table({"unique_id": pa.array(sorted(ids), pa.string())}))
    try:
        rows = con.execute(f"SELECT n.unique_id, n.node FROM {table} n JOIN _cg_wanted w USING (unique_id)").fetchall()
    finally:
        con.unregister("_cg_wanted")
    return {str(u): int(n) for u, n in rows}


def _group(ids: Sequence[str], node_of: dict[str, int]) -> np.ndarray:
    return np.array(sorted({node_of[u] for u in ids if u in node_of}), dtype=np.int64)
