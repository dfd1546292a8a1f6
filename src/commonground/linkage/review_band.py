"""The review band: pairs the model is nearly sure of, written by the build for people to decide (issue #15).

A pair whose match probability is at least the band's floor (the spec's ``review_band_lower_probability``) and
below the threshold is not linked: a wrong link shows one person's history beside another's, and the threshold
is set where the model alone is almost never wrong. But many true pairs the threshold misses lie in the band
(docs/linkage.md), and a person who can see both records can tell. So the build writes them as review
candidates (``review_candidates`` in ``build.duckdb``): both records' ids, the pair's weight and probability and
each comparison's level and weight (never the compared values), and ``commonground hub sync`` offers them on
the hub's ``/link-reviews`` page (:mod:`commonground.cases.link_reviews`). A decision comes back through the
link constraints (:mod:`.constraints`): accepted, the two are kept together in the next build; rejected, they
are never in one cluster.

Only pairs whose records the build left in different clusters are written (a pair already joined through other
links has nothing to decide), and of several band pairs between the same two clusters only the strongest: one
decision joins or separates the two people.

The decided pairs are labels: ``review_labels`` holds each with the model's own verdict, so that
``commonground link-report`` can say how often the model agreed with people (:mod:`.labels`).
"""

from __future__ import annotations

import duckdb

from commonground.linkage.constraints import LinkConstraints

CANDIDATES = "review_candidates"
LABELS = "review_labels"
KEPT_PREFIXES = ("gamma_", "mw_", "bf_")
"""The columns of a scored pair kept with a candidate: each comparison's level and weight (no compared value)."""


def _run(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    con.execute(sql).fetchall()


def write_review_candidates(
    con: duckdb.DuckDBPyConnection,
    *,
    predictions: str,
    clusters: str,
    lower: float,
    upper: float,
    target: str,
) -> int:
    """``CREATE TABLE target``: the band's pairs (``lower <= match_weight < upper``) whose records are in
    different clusters of ``clusters`` (``cluster_id``, ``unique_id``), the strongest pair per two clusters,
    with both records' ``unique_id``, ``match_weight``, ``match_probability`` and the comparison columns.
    Returns how many were written. ``predictions``, ``clusters`` and ``target`` are the caller's identifiers."""
    columns = [r[0] for r in con.execute(f"DESCRIBE {predictions}").fetchall()]
    kept = "".join(f', p."{c}"' for c in columns if c.startswith(KEPT_PREFIXES))
    _run(
        con,
        f"CREATE TABLE {target} AS SELECT p.unique_id_l, p.unique_id_r, p.match_weight, p.match_probability{kept} "
        f"FROM {predictions} AS p JOIN {clusters} AS cl ON cl.unique_id = p.unique_id_l "
        f"JOIN {clusters} AS cr ON cr.unique_id = p.unique_id_r "
        f"WHERE p.match_weight >= {float(lower)!r} AND p.match_weight < {float(upper)!r} "
        "AND cl.cluster_id <> cr.cluster_id "
        "QUALIFY ROW_NUMBER() OVER (PARTITION BY LEAST(cl.cluster_id, cr.cluster_id), "
        "GREATEST(cl.cluster_id, cr.cluster_id) ORDER BY p.match_weight DESC, p.unique_id_l, p.unique_id_r) = 1 "
        "ORDER BY p.match_weight DESC, p.unique_id_l, p.unique_id_r",
    )
    return int(con.execute(f"SELECT COUNT(*) FROM {target}").fetchall()[0][0])


def labelled_pairs(constraints: LinkConstraints) -> list[tuple[str, str, bool, int]]:
    """People's decisions as pairs of records: ``(unique_id_l, unique_id_r, same_person, review)`` with
    ``unique_id_l < unique_id_r``. "The same person": every record of the group with every record it was kept
    with. "Not the same person": a band pair itself. (A practitioner's group held apart is labelled by the
    build from the links the model made to it, :func:`write_review_labels`.)"""
    out: dict[tuple[str, str], tuple[bool, int]] = {}
    for group in constraints.kept_together:
        for a in group.records:
            for b in group.with_:
                if a != b:
                    out[(min(a, b), max(a, b))] = (True, group.review)
    for pair in constraints.pairs_apart:
        a, b = pair.records
        if a != b:
            out[(min(a, b), max(a, b))] = (False, pair.review)
    return [(a, b, same, review) for (a, b), (same, review) in sorted(out.items())]


def write_review_labels(
    con: duckdb.DuckDBPyConnection,
    *,
    constraints: LinkConstraints,
    predictions: str,
    threshold: float,
    target: str,
) -> int:
    """``CREATE TABLE target (unique_id_l, unique_id_r, review, same_person, match_weight, linked_by_model)``:
    every decided pair, with the model's weight for it (NULL when the model scored it below the band or did
    not propose it) and whether the model alone would have linked it (weight at or above ``threshold``). A group
    decided "not the same person" is labelled through the links the model made between it and the records
    outside it. Returns the number of labelled pairs."""
    import pyarrow as pa

    rows = labelled_pairs(constraints)
    con.register(
        "_cg_labels",
        pa.table(
            {
                "unique_id_l": pa.array([r[0] for r in rows], pa.string()),
                "unique_id_r": pa.array([r[1] for r in rows], pa.string()),
                "same_person": pa.array([r[2] for r in rows], pa.bool_()),
                "review": pa.array([r[3] for r in rows], pa.int64()),
            }
        ),
    )
    groups = [(g.review, r) for g in constraints.held_apart if g.decided == "not_same_person" for r in g.records]
    con.register(
        "_cg_rejected",
        pa.table(
            {
                "review": pa.array([g for g, _ in groups], pa.int64()),
                "unique_id": pa.array([r for _, r in groups], pa.string()),
            }
        ),
    )
    try:
        # The model's links from a rejected group to a record outside it: each a pair people said was wrong.
        _run(
            con,
            "CREATE TEMP TABLE _cg_group_labels AS SELECT LEAST(e.inside, e.outside) AS unique_id_l, "
            "GREATEST(e.inside, e.outside) AS unique_id_r, FALSE AS same_person, MIN(e.review) AS review FROM ("
            f"SELECT g.review, p.unique_id_l AS inside, p.unique_id_r AS outside, p.match_weight FROM {predictions} "
            "AS p JOIN _cg_rejected AS g ON g.unique_id = p.unique_id_l UNION ALL "
            f"SELECT g.review, p.unique_id_r, p.unique_id_l, p.match_weight FROM {predictions} "
            "AS p JOIN _cg_rejected AS g ON g.unique_id = p.unique_id_r) AS e "
            f"WHERE e.match_weight >= {float(threshold)!r} AND NOT EXISTS (SELECT 1 FROM _cg_rejected AS o "
            "WHERE o.review = e.review AND o.unique_id = e.outside) GROUP BY ALL",
        )
        _run(
            con,
            f"CREATE TABLE {target} AS WITH labels AS (SELECT * FROM _cg_labels UNION ALL "
            "SELECT g.unique_id_l, g.unique_id_r, g.same_person, g.review FROM _cg_group_labels AS g "
            "WHERE NOT EXISTS (SELECT 1 FROM _cg_labels AS l WHERE l.unique_id_l = g.unique_id_l "
            "AND l.unique_id_r = g.unique_id_r)) "
            "SELECT l.unique_id_l, l.unique_id_r, l.review, l.same_person, "
            "COALESCE(s.match_weight, t.match_weight) AS match_weight, "
            f"COALESCE(COALESCE(s.match_weight, t.match_weight) >= {float(threshold)!r}, FALSE) AS linked_by_model "
            f"FROM labels AS l LEFT JOIN {predictions} AS s "
            "ON s.unique_id_l = l.unique_id_l AND s.unique_id_r = l.unique_id_r "
            f"LEFT JOIN {predictions} AS t ON t.unique_id_l = l.unique_id_r AND t.unique_id_r = l.unique_id_l "
            "ORDER BY l.unique_id_l, l.unique_id_r",
        )
    finally:
        con.unregister("_cg_labels")
        con.unregister("_cg_rejected")
        _run(con, "DROP TABLE IF EXISTS _cg_group_labels")
    return int(con.execute(f"SELECT COUNT(*) FROM {target}").fetchall()[0][0])
