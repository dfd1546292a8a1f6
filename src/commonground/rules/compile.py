"""A rule spec compiled to one SQL query over the staged tables (see :mod:`staging`).

The query returns the rule's evidence: one row per (person, evidence item, record) that made the
rule fire, with the moment it counts from (``evidence_at``). Steps:

1. *Items*: each evidence item selects the records of its source that meet its conditions and
   connects them to the person the rule is about: their own record (``self``), an adult's record
   while the two lived in one household (``household_adult``; the evidence counts from the first
   moment the adult was 18+, the child under 18, both in the household and the record current), or
   a record at the child's home while they lived there (``at_household``). The person must be in
   the rule's population (a child: born and under 18; an adult: 18 or over) at that moment. A person whose
   age is unknown (no date of birth on any record) is an adult, unless a record says they were a child
   (:mod:`staging`, ``rules_people``), and never old enough for a ``min_age``.
2. *Requirements* (only for rules that count): records are grouped by day, and a window of
   ``window_days`` ending on each day with evidence checks every requirement at once (days with
   evidence, different signals, different agencies), with window functions only (``SUM``/``MAX``
   over a ``RANGE`` frame) so DuckDB and Spark run the same statement. The evidence kept is every
   record on a day inside some window that met the requirements.
3. Flags with ``raise_within_days`` keep a person only if their latest evidence is that recent.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlglot import exp

from commonground.rules.sources import SOURCES
from commonground.rules.spec import (
    AllOf,
    AnyOf,
    AtLeast,
    Condition,
    ContainsAny,
    Count,
    Evidence,
    InCodes,
    IsValue,
    Population,
    Relation,
    Requirement,
    RuleSpec,
)
from commonground.rules.sql import Params, render

EVIDENCE_COLUMNS = (
    "person_id",
    "rule_id",
    "rule_version",
    "kind",
    "item",
    "signal",
    "feed",
    "record_id",
    "via_person_id",
    "evidence_at",
)


def condition_sql(condition: Condition, p: Params, alias: str = "s") -> str:
    """A condition as SQL text; identifiers are checked column names, values are placeholders."""
    if isinstance(condition, InCodes):
        return f"{alias}.{condition.column} IN ({p.many(condition.in_)})"
    if isinstance(condition, ContainsAny):
        tests = [f"ARRAY_CONTAINS({alias}.{condition.column}, {p(v)})" for v in condition.contains_any]
        return "(" + " OR ".join(tests) + ")"
    if isinstance(condition, IsValue):
        return f"{alias}.{condition.column} = {p(condition.is_)}"
    if isinstance(condition, AtLeast):
        return f"{alias}.{condition.column} >= {p(condition.at_least)}"
    if isinstance(condition, AnyOf):
        return "(" + " OR ".join(condition_sql(c, p, alias) for c in condition.any_of) + ")"
    if isinstance(condition, AllOf):
        return "(" + " AND ".join(condition_sql(c, p, alias) for c in condition.all_of) + ")"
    raise TypeError(f"unknown condition {condition!r}")  # pragma: no cover


def _where(item: Evidence, p: Params) -> str:
    return " AND ".join(condition_sql(c, p) for c in item.where) or "TRUE"


NEVER = datetime(9999, 12, 31)
"""When a person whose age is unknown becomes old enough for a rule's ``min_age``: never (#15)."""
EARLIEST = datetime(1900, 1, 1)
"""Until when a person whose age is unknown is young enough for a rule's ``max_age``: never in practice."""


def _eligible_from(rule: RuleSpec, alias: str, p: Params) -> str:
    """The first moment the person is in the rule's population (and old enough for ``min_age``; never, when their
    age is unknown: no record says how old they are)."""
    if rule.min_age is not None:
        return f"COALESCE(CAST({alias}.date_of_birth + {p.years(rule.min_age)} AS TIMESTAMP), {p(NEVER)})"
    return f"{alias}.born_at" if rule.population is Population.CHILD else f"{alias}.adult_at"


def _young_enough(rule: RuleSpec, moment: str, alias: str, p: Params) -> str:
    """The person is still younger than the rule's ``max_age`` at ``moment`` (never, when their age is unknown)."""
    if rule.max_age is None:
        return "TRUE"
    return f"{moment} < COALESCE(CAST({alias}.date_of_birth + {p.years(rule.max_age)} AS TIMESTAMP), {p(EARLIEST)})"


def _item_sql(rule: RuleSpec, index: int, item: Evidence, p: Params) -> str:
    source = SOURCES[item.source]
    tag = f"{p(index)} AS item, {p(item.signal)} AS signal, {p(source.agency)} AS agency"
    table = f"src_{source.name}"
    where = _where(item, p)
    if item.relation is Relation.SELF:
        at = f"GREATEST(s.ev_start, {_eligible_from(rule, 'p', p)})"
        fits = "x.evidence_at < x.adult_at" if rule.population is Population.CHILD else "TRUE"
        return f"""
            SELECT x.subject_id, x.via_person_id, x.feed, x.record_id, x.evidence_at, {tag} FROM (
                SELECT s.person_id AS subject_id, s.via_person_id, s.feed, s.record_id, s.ev_end,
                       {at} AS evidence_at, p.adult_at, p.date_of_birth
                FROM {table} AS s JOIN rules_people AS p ON p.person_id = s.person_id
                WHERE {where}
            ) AS x
            WHERE x.evidence_at <= x.ev_end AND {fits} AND {_young_enough(rule, "x.evidence_at", "x", p)}
        """
    if item.relation is Relation.HOUSEHOLD_ADULT:
        return f"""
            SELECT x.subject_id, x.via_person_id, x.feed, x.record_id, x.evidence_at, {tag} FROM (
                SELECT hc.person_id AS subject_id, s.via_person_id, s.feed, s.record_id, s.ev_end,
                       GREATEST(s.ev_start, ha.start_at, hc.start_at, ha.adult_at, {_eligible_from(rule, "hc", p)})
                           AS evidence_at,
                       ha.end_excl AS adult_end, hc.end_excl AS child_end, hc.adult_at AS child_adult_at,
                       hc.date_of_birth
                FROM {table} AS s
                JOIN rules_households AS ha ON ha.person_id = s.person_id
                JOIN rules_households AS hc ON hc.household_id = ha.household_id AND hc.person_id <> ha.person_id
                WHERE {where}
            ) AS x
            WHERE x.evidence_at <= x.ev_end AND x.evidence_at < x.adult_end AND x.evidence_at < x.child_end
              AND x.evidence_at < x.child_adult_at AND {_young_enough(rule, "x.evidence_at", "x", p)}
        """
    return f"""
        SELECT hc.person_id AS subject_id, CAST(NULL AS VARCHAR) AS via_person_id, s.feed, s.record_id,
               s.ev_start AS evidence_at, {tag}
        FROM {table} AS s
        JOIN rules_households AS hc ON hc.address_key = s.address_key
        WHERE {where} AND s.ev_start >= hc.start_at AND s.ev_start < hc.end_excl
          AND s.ev_start >= {_eligible_from(rule, "hc", p)} AND s.ev_start < hc.adult_at
          AND {_young_enough(rule, "s.ev_start", "hc", p)}
    """


def _counted(rule: RuleSpec, evidence: str, p: Params) -> str:
    """Keep the evidence inside windows that meet every requirement."""
    signals = rule.signals
    agencies_of: dict[str, list[str]] = {}
    for item in rule.evidence:
        agencies_of.setdefault(item.signal, [])
        agency = SOURCES[item.source].agency
        if agency not in agencies_of[item.signal]:
            agencies_of[item.signal].append(agency)
    day_columns: list[str] = []
    tests: list[str] = []
    if rule.window_days is None:
        back, ahead = "UNBOUNDED PRECEDING", "UNBOUNDED FOLLOWING"
    else:
        back, ahead = f"{p(rule.window_days)} PRECEDING", f"{p(rule.window_days)} FOLLOWING"
    frame = f"OVER (PARTITION BY subject_id ORDER BY day_no RANGE BETWEEN {back} AND CURRENT ROW)"
    for r, requirement in enumerate(rule.require):
        chosen = requirement.signals or signals
        tests.append(_requirement_test(r, requirement, chosen, agencies_of, day_columns, frame, p))
    counted_signals = tuple(dict.fromkeys(s for r in rule.require for s in (r.signals or signals)))
    return f"""
        WITH ev AS (
            SELECT *, DATE_DIFF('day', {p(datetime(1970, 1, 1).date())}, CAST(evidence_at AS DATE)) AS day_no
            FROM ({evidence}) AS e
        ),
        days AS (
            SELECT subject_id, day_no, {", ".join(day_columns)} FROM ev GROUP BY subject_id, day_no
        ),
        tested AS (
            SELECT subject_id, day_no, CASE WHEN {" AND ".join(tests)} THEN 1 ELSE 0 END AS qualifies FROM days
        ),
        marked AS (
            SELECT subject_id, day_no,
                   MAX(qualifies) OVER (PARTITION BY subject_id ORDER BY day_no
                                        RANGE BETWEEN CURRENT ROW AND {ahead}) AS in_window
            FROM tested
        )
        SELECT ev.subject_id, ev.via_person_id, ev.feed, ev.record_id, ev.evidence_at, ev.item, ev.signal
        FROM ev JOIN marked ON marked.subject_id = ev.subject_id AND marked.day_no = ev.day_no
        WHERE marked.in_window = 1 AND ev.signal IN ({p.many(counted_signals)})
    """


def _requirement_test(
    r: int,
    requirement: Requirement,
    chosen: tuple[str, ...],
    agencies_of: dict[str, list[str]],
    day_columns: list[str],
    frame: str,
    p: Params,
) -> str:
    if requirement.of is Count.DAYS:
        day_columns.append(f"MAX(CASE WHEN signal IN ({p.many(chosen)}) THEN 1 ELSE 0 END) AS r{r}_hit")
        return f"SUM(r{r}_hit) {frame} >= {p(requirement.at_least)}"
    if requirement.of is Count.SIGNALS:
        members = [(f"r{r}_s{k}", f"signal = {p(s)}") for k, s in enumerate(chosen)]
    else:
        agencies = tuple(dict.fromkeys(a for s in chosen for a in agencies_of[s]))
        members = [(f"r{r}_a{k}", f"agency = {p(a)} AND signal IN ({p.many(chosen)})") for k, a in enumerate(agencies)]
    for name, test in members:
        day_columns.append(f"MAX(CASE WHEN {test} THEN 1 ELSE 0 END) AS {name}")
    total = " + ".join(f"MAX({name}) {frame}" for name, _ in members)
    return f"({total}) >= {p(requirement.at_least)}"


def rule_query(rule: RuleSpec, *, as_of: datetime, available: frozenset[str]) -> exp.Expr | None:
    """The rule's evidence query, or None when the build has none of its sources."""
    p = Params()
    items = [_item_sql(rule, index, item, p) for index, item in enumerate(rule.evidence) if item.source in available]
    if not items:
        return None
    union = " UNION ALL ".join(f"({sql})" for sql in items)
    evidence = f"""
        SELECT subject_id, item, signal, agency, feed, record_id, via_person_id, MIN(evidence_at) AS evidence_at
        FROM ({union}) AS u
        GROUP BY subject_id, item, signal, agency, feed, record_id, via_person_id
    """
    if rule.windowed:
        evidence = _counted(rule, evidence, p)
    if rule.raise_within_days is not None:
        cutoff = as_of - timedelta(days=rule.raise_within_days)
        evidence = f"""
            SELECT * FROM (
                SELECT k.*, MAX(k.evidence_at) OVER (PARTITION BY k.subject_id) AS latest_at FROM ({evidence}) AS k
            ) AS w WHERE w.latest_at >= {p(cutoff)}
        """
    final = f"""
        SELECT z.subject_id AS person_id, {p(rule.id)} AS rule_id, {p(rule.version)} AS rule_version,
               {p(rule.produces.value)} AS kind, CAST(z.item AS INTEGER) AS item, z.signal, z.feed, z.record_id,
               z.via_person_id, z.evidence_at
        FROM ({evidence}) AS z
    """
    return render(final, p)
