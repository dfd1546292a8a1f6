"""Routing flags in the engine: recipient, rating and deadline for each flag, from the routing pack.

The routing pack becomes small tables (``rules_routes``, and ``rules_rag_levels``: each rating with its deadline
for this run) and the school calendar another (``rules_school_calendar``, one row per day), so the join runs where
the flags are, on DuckDB or Spark alike, and no value is written into SQL text. The engine decides each flag's
rating (its route's usual rating, moved one step by the route's reasons); the reason in words is then written
from what the engine found, in Python, the same for both engines (:func:`commonground.rules.routing.rating_reason`).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pyarrow as pa

from commonground.engine import Engine
from commonground.rules.calendar import SchoolCalendar
from commonground.rules.routing import Rag, RoutingPack, rating_reason
from commonground.rules.sql import Params, render


def routes_table(routing: RoutingPack, *, as_of: datetime) -> pa.Table:
    """One row per route: its recipient, its usual rating (as a level: 0 red, 1 amber, 2 green) and the reasons
    that move it, as dates of this run (``recent_since``: the latest evidence on or after it is recent;
    ``quiet_before``: before it, quiet)."""
    rows = []
    today = as_of.date()
    for route in routing.routes:
        otherwise = route.otherwise
        rating = route.rating
        rows.append(
            {
                "rule_id": route.rule,
                "organisation_type": route.to.organisation_type.value,
                "role": route.to.role,
                "resolve_school": route.resolve == "child_school",
                "otherwise_type": otherwise.organisation_type.value if otherwise else None,
                "otherwise_role": otherwise.role if otherwise else None,
                "rag_level": route.deadline.rag.level if route.deadline.rag else None,
                "recent_since": _days_before(today, rating.recent_days),
                "count_other_flags": rating.other_flags,
                "quiet_before": _days_before(today, rating.quiet_days),
                "school_notice": route.deadline.before_next_school_day,
            }
        )
    schema = pa.schema(
        [
            ("rule_id", pa.string()),
            ("organisation_type", pa.string()),
            ("role", pa.string()),
            ("resolve_school", pa.bool_()),
            ("otherwise_type", pa.string()),
            ("otherwise_role", pa.string()),
            ("rag_level", pa.int32()),
            ("recent_since", pa.date32()),
            ("count_other_flags", pa.bool_()),
            ("quiet_before", pa.date32()),
            ("school_notice", pa.bool_()),
        ]
    )
    return pa.Table.from_pylist(rows, schema=schema)


def _days_before(day: date, days: int | None) -> date | None:
    return day - timedelta(days=days) if days is not None else None


def rag_levels_table(routing: RoutingPack, *, as_of: datetime) -> pa.Table:
    """Each rating by level, with the deadline it gives a flag raised at ``as_of`` (the area's timescale)."""
    return pa.table(
        {
            "level": pa.array([r.level for r in Rag], pa.int32()),
            "rag": pa.array([r.value for r in Rag], pa.string()),
            "due_by": pa.array([as_of + timedelta(hours=routing.rag_hours[r]) for r in Rag], pa.timestamp("us")),
        }
    )


def route_flags(db: Engine, *, routing: RoutingPack, as_of: datetime, lookback_days: int | None = None) -> None:
    """Make ``rules_flag_routes``: every flag with its recipient, its usual rating (``rag_usual``), its rating
    (``rag``) and why in words (``rag_reason``), and ``due_by`` (the rated timescale from ``as_of``, or the school
    notice's next school day).

    ``lookback_days``: the school-notice flags are known to have their latest evidence within this
    many days before ``as_of`` (their ``raise_within_days``), so the calendar needs no query first.
    """
    db.register("rules_routes", routes_table(routing, as_of=as_of))
    db.register("rules_rag_levels", rag_levels_table(routing, as_of=as_of))
    if lookback_days is not None:
        first, last = as_of - timedelta(days=lookback_days), as_of
    else:
        span = db.execute(
            render(
                "SELECT MIN(f.latest_evidence) AS first, MAX(f.latest_evidence) AS last FROM rules_flags AS f "
                "JOIN rules_routes AS r ON r.rule_id = f.rule_id WHERE r.school_notice"
            )
        ).to_pylist()[0]
        first = span["first"] or as_of
        last = max(span["last"] or as_of, as_of)
    calendar = SchoolCalendar(routing.school_days)
    db.register(
        "rules_school_calendar", calendar.table(first.date() - timedelta(days=1), last.date() + timedelta(days=1))
    )
    db.stage(
        "rules_flag_school",
        render("""
            SELECT person_id, rule_id, school_urn FROM (
                SELECT f.person_id, f.rule_id, s.school_urn,
                       ROW_NUMBER() OVER (PARTITION BY f.person_id, f.rule_id
                                          ORDER BY s.enrolled_on DESC NULLS LAST, s.school_urn) AS rn
                FROM rules_flags AS f
                JOIN rules_routes AS r ON r.rule_id = f.rule_id AND r.resolve_school
                JOIN rules_school_roll AS s ON s.person_id = f.person_id
                     AND (s.enrolled_on IS NULL OR s.enrolled_on <= CAST(f.latest_evidence AS DATE))
                     AND (s.left_on IS NULL OR s.left_on >= CAST(f.latest_evidence AS DATE))
            ) AS ranked WHERE rn = 1
        """),
    )
    db.stage(
        "rules_flag_others",
        render("SELECT person_id, COUNT(DISTINCT rule_id) - 1 AS others FROM rules_flags GROUP BY person_id"),
    )
    p = Params()
    db.materialise(
        "rules_flag_rated",
        render(
            f"""
            SELECT routed.person_id, routed.rule_id, routed.rule_version, routed.first_evidence,
                   routed.latest_evidence, routed.evidence_count, routed.organisation_type, routed.organisation_id,
                   routed.role,
                   routed.organisation_type || COALESCE(':' || routed.organisation_id, '') || '/' || routed.role
                       AS route_to,
                   usual.rag AS rag_usual, rated.rag AS rag,
                   routed.recent, routed.others, routed.quiet,
                   CASE WHEN routed.school_notice THEN routed.school_due_by ELSE rated.due_by END AS due_by,
                   {p(as_of)} AS raised_at
            FROM (
                SELECT f.person_id, f.rule_id, f.rule_version, f.first_evidence, f.latest_evidence, f.evidence_count,
                       CASE WHEN r.resolve_school AND sc.school_urn IS NULL THEN r.otherwise_type
                            ELSE r.organisation_type END AS organisation_type,
                       CASE WHEN r.resolve_school THEN sc.school_urn END AS organisation_id,
                       CASE WHEN r.resolve_school AND sc.school_urn IS NULL THEN r.otherwise_role
                            ELSE r.role END AS role,
                       r.rag_level, r.school_notice,
                       COALESCE(CAST(f.latest_evidence AS DATE) >= r.recent_since, FALSE) AS recent,
                       CASE WHEN r.count_other_flags THEN COALESCE(o.others, 0) ELSE 0 END AS others,
                       COALESCE(CAST(f.latest_evidence AS DATE) < r.quiet_before, FALSE) AS quiet,
                       CASE WHEN c.is_school_day AND f.latest_evidence < c.day_start THEN c.day_start
                            ELSE c.next_start END AS school_due_by
                FROM rules_flags AS f
                JOIN rules_routes AS r ON r.rule_id = f.rule_id
                LEFT JOIN rules_flag_school AS sc ON sc.person_id = f.person_id AND sc.rule_id = f.rule_id
                LEFT JOIN rules_school_calendar AS c ON c.day = CAST(f.latest_evidence AS DATE)
                LEFT JOIN rules_flag_others AS o ON o.person_id = f.person_id
            ) AS routed
            LEFT JOIN rules_rag_levels AS usual ON usual.level = routed.rag_level
            LEFT JOIN rules_rag_levels AS rated ON routed.rag_level IS NOT NULL AND rated.level = LEAST(2, GREATEST(0,
                routed.rag_level
                - CASE WHEN routed.recent OR routed.others > 0 THEN 1 ELSE 0 END
                + CASE WHEN routed.quiet THEN 1 ELSE 0 END))
            """,
            p,
        ),
    )
    db.register("rules_flag_routes", with_reasons(db.fetch("rules_flag_rated"), as_of=as_of))


def with_reasons(rated: pa.Table, *, as_of: datetime) -> pa.Table:
    """The engine's rated flags with the reason for each rating in words (``rag_reason``) in place of the facts
    behind it (``recent``, ``others``, ``quiet``): the words are written here, once, whichever engine ran."""
    reasons: list[str | None] = []
    for row in rated.select(["rag_usual", "rag", "latest_evidence", "recent", "others", "quiet"]).to_pylist():
        if row["rag"] is None:
            reasons.append(None)
            continue
        latest = row["latest_evidence"]
        reasons.append(
            rating_reason(
                usual=Rag(row["rag_usual"]),
                rated=Rag(row["rag"]),
                days_ago=(as_of.date() - latest.date()).days if latest is not None else None,
                recent=bool(row["recent"]),
                others=int(row["others"] or 0),
                quiet=bool(row["quiet"]),
            )
        )
    kept = rated.drop_columns(["recent", "others", "quiet", "due_by", "raised_at"])
    return (
        kept.append_column("rag_reason", pa.array(reasons, pa.string()))
        .append_column("due_by", rated["due_by"])
        .append_column("raised_at", rated["raised_at"])
    )
