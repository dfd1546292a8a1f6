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
"""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components


def _run(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    con.execute(sql).fetchall()


def component_labels(left: np.ndarray, right: np.ndarray, *, nodes: int) -> tuple[int, np.ndarray]:
    """The number of connected components of the graph on ``0 .. nodes - 1`` whose edge ``i`` joins
    ``left[i]`` and ``right[i]``, and each node's component label."""
    graph = coo_matrix((np.ones(len(left), dtype=np.int8), (left, right)), shape=(nodes, nodes)).tocsr()
    count, labels = connected_components(graph, directed=False)
    return int(count), labels


def create_clusters(
    con: duckdb.DuckDBPyConnection, *, records: str, pairs: str, threshold_match_weight: float, target: str
) -> int:
    """``CREATE TEMP TABLE target (cluster_id, unique_id)``: one row for every record of ``records``
    (which has ``unique_id``), in the cluster its links at or above the threshold in ``pairs``
    (``unique_id_l``, ``unique_id_r``, ``match_weight``) put it; a record with no such link is a
    cluster of its own. Returns the number of clusters. The three names are the caller's own
    identifiers."""
    _run(
        con,
        f"CREATE TEMP TABLE {target}_nodes AS "
        f"SELECT unique_id, (ROW_NUMBER() OVER () - 1)::INTEGER AS node FROM {records}",
    )
    try:
        nodes = int(con.execute(f"SELECT COUNT(*) FROM {target}_nodes").fetchall()[0][0])
        edges = con.execute(
            f"SELECT l.node AS l, r.node AS r FROM {pairs} AS p "
            f"JOIN {target}_nodes AS l ON l.unique_id = p.unique_id_l "
            f"JOIN {target}_nodes AS r ON r.unique_id = p.unique_id_r "
            f"WHERE p.match_weight >= {float(threshold_match_weight)!r}"
        ).fetchnumpy()
        count, labels = component_labels(edges["l"], edges["r"], nodes=nodes)
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
    return count
