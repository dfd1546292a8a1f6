"""How well the flags find what the synthetic truth planted (#17, #20).

Flags are raised only while their evidence is recent (``raise_within_days``); here every rule runs with that limit
lifted, so a flag counts every person it would have raised at some moment up to the as-of date. Each flag that the
truth can judge is compared, per truth person, with:

- *the harm* (``truth/exposures.csv``, with ``truth/households.csv`` and ``truth/people.csv``): see ``HARMS``;
- *what some partner recorded*: the same rules on a truth-linked copy of the build (every record given its true
  person, the truth's households), so the difference is what linkage loses or adds.

Both with linkage and in the single-agency view of :mod:`commonground.rules.quality`. A *near miss* is a truth
person with all but one part of a pattern; the report gives the share of them flagged.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb

from commonground.rules.packs import RuleSet, default_rules
from commonground.rules.quality import Measure, _pct, _single_agency_build, by_truth_person, truth_files
from commonground.rules.run import run_rules
from commonground.rules.spec import Kind
from commonground.rules.sql import Params, render

HARMS: dict[str, str] = {
    "child.co_occurring_adversity": """
        SELECT DISTINCT a.person_id FROM ce AS a
        JOIN ce AS b ON b.person_id = a.person_id AND b.kind = 'household_mental_illness'
        JOIN ce AS c ON c.person_id = a.person_id AND c.kind = 'household_substance_misuse'
        WHERE a.kind = 'domestic_abuse' AND DATE_DIFF('day', LEAST(a.e, b.e, c.e), GREATEST(a.s, b.s, c.s)) <= 365
          AND LEAST(a.e, b.e, c.e) >= (SELECT d0 FROM win)
    """,
    "child.household_adult_revolving_door": """
        SELECT DISTINCT t.child FROM together AS t JOIN ex ON ex.person_id = t.adult AND ex.kind = 'revolving_door'
    """,
    "child.household_adult_in_crisis": "SELECT DISTINCT child FROM crises WHERE n >= 3",
    "adult.repeat_domestic_abuse_victim": """
        SELECT DISTINCT person_id FROM ex WHERE kind = 'domestic_abuse_victim' AND e >= (SELECT d0 FROM win)
    """,
    "child.infant_injury": """
        SELECT DISTINCT ex.person_id FROM ex JOIN people AS p ON p.person_id = ex.person_id
        WHERE ex.kind IN ('physical_abuse', 'physical_neglect') AND ex.s < p.dob + INTERVAL 2 YEAR
          AND p.dob + INTERVAL 1 YEAR >= (SELECT d0 FROM win)
    """,
    "adult.revolving_door": "SELECT DISTINCT person_id FROM ex WHERE kind = 'revolving_door'",
    "child.exploitation_risk": """
        SELECT DISTINCT ex.person_id FROM ex JOIN people AS p ON p.person_id = ex.person_id
        WHERE ex.kind IN ('criminal_exploitation', 'sexual_exploitation') AND ex.e >= (SELECT d0 FROM win)
          AND p.dob + INTERVAL 18 YEAR > (SELECT d0 FROM win)
    """,
}
"""Per flag, the truth persons who had the harm it is about (SQL over the truth views made in :func:`_harms`)."""

NEAR_MISSES: dict[str, str] = {
    "child.co_occurring_adversity": """
        SELECT DISTINCT a.person_id FROM ce AS a JOIN ce AS b ON b.person_id = a.person_id AND b.kind <> a.kind
        WHERE DATE_DIFF('day', LEAST(a.e, b.e), GREATEST(a.s, b.s)) <= 365 AND LEAST(a.e, b.e) >= (SELECT d0 FROM win)
    """,
    "child.household_adult_in_crisis": "SELECT DISTINCT child FROM crises WHERE n = 2",
}
"""Per flag, truth persons with all but one part of its pattern (those with the whole pattern are left out)."""

HARM_WORDS: dict[str, str] = {
    "child.co_occurring_adversity": "domestic abuse, household mental illness and substance misuse within 365 days",
    "child.household_adult_revolving_door": "lived, under 18, with an adult of a revolving-door life",
    "child.household_adult_in_crisis": "lived with an adult in crisis on 3 days within 30 days",
    "adult.repeat_domestic_abuse_victim": "a victim of domestic abuse",
    "child.infant_injury": "physically abused or neglected before the age of two (what the flag means)",
    "adult.revolving_door": "a revolving-door life",
    "child.exploitation_risk": "criminally or sexually exploited as a child within the window",
}


@dataclass(frozen=True)
class FlagQualityRow:
    rule: str
    harmed: int | None
    """Truth persons with the harm; None for a flag the truth cannot judge (only the recorded view is measured)."""
    linked: Measure | None
    single_agency: Measure | None
    recorded: int
    """Truth persons the rule flags on the truth-linked build (what some partner recorded)."""
    linked_vs_recorded: Measure
    near_misses: int | None = None
    near_misses_flagged: int | None = None

    @property
    def near_miss_rate(self) -> float | None:
        if self.near_misses is None or self.near_misses_flagged is None or self.near_misses == 0:
            return None
        return self.near_misses_flagged / self.near_misses


@dataclass(frozen=True)
class ExposureRow:
    """One ACE indicator against what partners recorded: the same rule on the truth-linked build (every record
    given its true person, the truth's households) says which children some partner's records show exposed."""

    rule: str
    recorded: int
    linked: Measure
    """The build's indicator (linkage and inferred households) against the recorded ones."""
    single_agency: Measure
    """One agency's records alone (no linkage across partners) against the recorded ones."""


@dataclass(frozen=True)
class FlagQualityReport:
    as_of: datetime
    rows: tuple[FlagQualityRow, ...]
    exposures: tuple[ExposureRow, ...] = ()

    def row(self, rule: str) -> FlagQualityRow:
        for row in self.rows:
            if row.rule == rule:
                return row
        raise KeyError(rule)

    def to_markdown(self) -> str:
        lines = [
            f"Flags against the synthetic truth (any moment up to {self.as_of:%Y-%m-%d}); counts are truth persons.",
            "",
            "| rule | harmed | with linkage: found | sensitivity | PPV | near misses flagged | one agency alone: found "
            "| recorded by partners | linked finds | PPV |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in self.rows:
            if r.harmed is None or r.linked is None or r.single_agency is None:
                lines.append(
                    f"| {r.rule} | no truth | - | - | - | - | - | {r.recorded:,} | "
                    f"{r.linked_vs_recorded.true_positives:,} ({_pct(r.linked_vs_recorded.sensitivity)}) | "
                    f"{_pct(r.linked_vs_recorded.ppv)} |"
                )
                continue
            near = "-"
            if r.near_misses is not None:
                near = f"{r.near_misses_flagged or 0} of {r.near_misses} ({_pct(r.near_miss_rate)})"
            lines.append(
                f"| {r.rule} | {r.harmed:,} | {r.linked.true_positives:,} of {r.linked.indicated:,} | "
                f"{_pct(r.linked.sensitivity)} | {_pct(r.linked.ppv)} | {near} | "
                f"{r.single_agency.true_positives:,} of {r.single_agency.indicated:,} | {r.recorded:,} | "
                f"{r.linked_vs_recorded.true_positives:,} ({_pct(r.linked_vs_recorded.sensitivity)}) | "
                f"{_pct(r.linked_vs_recorded.ppv)} |"
            )
        lines += ["", "Harms: " + "; ".join(f"{rule}: {words}" for rule, words in HARM_WORDS.items())]
        if self.exposures:
            lines += [
                "",
                "Children's exposures (ACE indicators) against what partners recorded: the same rules on a copy of "
                "the build where every record belongs to its true person and households are the truth's. An "
                "exposure no partner recorded cannot be found and is not counted here.",
                "",
                "| ACE | recorded by partners | with linkage: found | sensitivity | PPV "
                "| one agency alone: found | sensitivity | PPV |",
                "|---|---:|---:|---:|---:|---:|---:|---:|",
            ]
            for e in self.exposures:
                lines.append(
                    f"| {e.rule} | {e.recorded:,} | {e.linked.true_positives:,} of {e.linked.indicated:,} | "
                    f"{_pct(e.linked.sensitivity)} | {_pct(e.linked.ppv)} | "
                    f"{e.single_agency.true_positives:,} of {e.single_agency.indicated:,} | "
                    f"{_pct(e.single_agency.sensitivity)} | {_pct(e.single_agency.ppv)} |"
                )
        return "\n".join(lines)


def flag_quality_report(
    build_dir: Path, truth_dir: Path, *, as_of: datetime, rules: RuleSet | None = None
) -> FlagQualityReport:
    """Sensitivity, PPV and near-miss rate of each flag the truth can judge, with linkage, alone, and against
    the same rules on a truth-linked copy of the build. Rewrites ``build_dir/rules.duckdb`` (run as of ``as_of``
    with no ``raise_within_days``): run the rules again afterwards for the live flags."""
    _, records = truth_files(truth_dir)
    folder = records.parent
    ever = _without_raise_limit(rules or default_rules())
    linked, linked_aces = _flagged(build_dir, records, as_of=as_of, rules=ever)
    with _single_agency_build(build_dir) as single_dir:
        single, single_aces = _flagged(single_dir, records, as_of=as_of, rules=ever)
    with _truth_linked_build(build_dir, folder) as truth_dir_built:
        recorded, recorded_aces = _flagged(truth_dir_built, records, as_of=as_of, rules=ever)
    exposures = tuple(
        ExposureRow(
            rule=spec.id,
            recorded=len(recorded_aces.get(spec.id, set())),
            linked=_measure(linked_aces.get(spec.id, set()), recorded_aces.get(spec.id, set())),
            single_agency=_measure(single_aces.get(spec.id, set()), recorded_aces.get(spec.id, set())),
        )
        for spec in ever.rules
        if spec.produces is Kind.INDICATOR and spec.id.startswith("ace.")
    )
    harms, near = _harms(folder, as_of)
    rows = []
    for rule, harmed in harms.items():
        found, alone, seen = linked.get(rule, set()), single.get(rule, set()), recorded.get(rule, set())
        misses = near.get(rule)
        rows.append(
            FlagQualityRow(
                rule=rule,
                harmed=len(harmed),
                linked=_measure(found, harmed),
                single_agency=_measure(alone, harmed),
                recorded=len(seen),
                linked_vs_recorded=_measure(found, seen),
                near_misses=None if misses is None else len(misses),
                near_misses_flagged=None if misses is None else len(misses & found),
            )
        )
    for spec in ever.rules:
        if spec.produces is Kind.FLAG and spec.id not in harms:
            seen = recorded.get(spec.id, set())
            rows.append(
                FlagQualityRow(
                    rule=spec.id,
                    harmed=None,
                    linked=None,
                    single_agency=None,
                    recorded=len(seen),
                    linked_vs_recorded=_measure(linked.get(spec.id, set()), seen),
                )
            )
    return FlagQualityReport(as_of=as_of, rows=tuple(rows), exposures=exposures)


def _measure(flagged: set[str], truth: set[str]) -> Measure:
    return Measure(indicated=len(flagged), true_positives=len(flagged & truth), exposed=len(truth))


def _without_raise_limit(rules: RuleSet) -> RuleSet:
    packs = tuple(
        pack.model_copy(update={"rules": tuple(r.model_copy(update={"raise_within_days": None}) for r in pack.rules)})
        for pack in rules.packs
    )
    return RuleSet(packs=packs, routing=rules.routing)


def _flagged(
    build_dir: Path, records: Path, *, as_of: datetime, rules: RuleSet
) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """Truth persons with each flag, and with each ACE indicator (build persons mapped to the truth person owning
    most of their records)."""
    run_rules(build_dir=build_dir, as_of=as_of, rules=rules)
    flags = by_truth_person(build_dir, records, table="flags")
    return flags, by_truth_person(build_dir, records, table="indicators", rule_like="ace.%")


@contextmanager
def _truth_linked_build(build_dir: Path, truth: Path) -> Iterator[Path]:
    """A copy of the build in which every record belongs to its true person and households are the truth's."""
    folder = Path(tempfile.mkdtemp(prefix="commonground-truth-linked-"))
    try:
        shutil.copyfile(build_dir / "build.duckdb", folder / "build.duckdb")
        with duckdb.connect(str(folder / "build.duckdb")) as con:
            for statement in _truth_linked_statements(truth):
                con.execute(statement)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _truth_linked_statements(truth: Path) -> list[str]:
    p = Params()
    records, people, households = (p(str(truth / name)) for name in ("records.csv", "people.csv", "households.csv"))
    templates = [
        f"""CREATE OR REPLACE TABLE person_records AS
            SELECT pr.feed, pr.record_id, t.person_id, 1.0 AS match_probability FROM person_records AS pr
            JOIN read_csv({records}, all_varchar = true, header = true) AS t
              ON t.feed = pr.feed AND t.record_id = CAST(pr.record_id AS VARCHAR)""",
        f"""CREATE OR REPLACE TABLE persons AS
            SELECT person_id, CAST(NULLIF(date_of_birth, '') AS DATE) AS date_of_birth, sex
            FROM read_csv({people}, all_varchar = true, header = true)""",
        f"""CREATE OR REPLACE TABLE households AS
            SELECT household_id, person_id, CAST(start AS DATE) AS start_date,
                   CAST(NULLIF("end", '') AS DATE) AS end_date, 'UPRN ' || uprn AS address_key
            FROM read_csv({households}, all_varchar = true, header = true)""",
    ]
    return [render(t, p).sql("duckdb") for t in templates]


def _window_start(truth: Path) -> date:
    """The synthetic window's first day (``truth/manifest.json``): a harm must reach into it to be recorded."""
    manifest = json.loads((truth / "manifest.json").read_text(encoding="utf-8"))
    return date.fromisoformat(str(manifest["window"]["start"]))


def _harms(truth: Path, as_of: datetime) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """Per flag, the truth persons with its harm, and those with a near miss."""
    p = Params()
    day = p(as_of.date())
    first_day = p(_window_start(truth))
    exposures, people, households = (p(str(truth / name)) for name in ("exposures.csv", "people.csv", "households.csv"))
    views = [
        f"CREATE TEMP VIEW win AS SELECT {first_day} AS d0",
        f"""CREATE TEMP VIEW ex AS
            SELECT person_id, kind, CAST(start AS DATE) AS s, COALESCE(CAST(NULLIF("end", '') AS DATE), {day}) AS e
            FROM read_csv({exposures}, all_varchar = true, header = true) WHERE CAST(start AS DATE) <= {day}""",
        """CREATE TEMP VIEW ce AS SELECT * FROM ex
            WHERE kind IN ('domestic_abuse', 'household_mental_illness', 'household_substance_misuse')""",
        f"""CREATE TEMP VIEW people AS SELECT person_id, CAST(NULLIF(date_of_birth, '') AS DATE) AS dob
            FROM read_csv({people}, all_varchar = true, header = true)""",
        f"""CREATE TEMP VIEW homes AS
            SELECT household_id, person_id, CAST(start AS DATE) AS s,
                   COALESCE(CAST(NULLIF("end", '') AS DATE), {day}) AS e
            FROM read_csv({households}, all_varchar = true, header = true)""",
        """CREATE TEMP VIEW together AS
            SELECT c.person_id AS child, a.person_id AS adult,
                   GREATEST(c.s, a.s, pa.dob + INTERVAL 18 YEAR, (SELECT d0 FROM win)) AS f,
                   LEAST(c.e, a.e, pc.dob + INTERVAL 18 YEAR) AS t
            FROM homes AS c JOIN homes AS a ON a.household_id = c.household_id AND a.person_id <> c.person_id
            JOIN people AS pc ON pc.person_id = c.person_id JOIN people AS pa ON pa.person_id = a.person_id
            WHERE GREATEST(c.s, a.s, pa.dob + INTERVAL 18 YEAR, (SELECT d0 FROM win))
                < LEAST(c.e, a.e, pc.dob + INTERVAL 18 YEAR)""",
        """CREATE TEMP VIEW crisis_days AS
            SELECT DISTINCT t.child, t.adult, ex.s AS d FROM together AS t
            JOIN ex ON ex.person_id = t.adult AND ex.kind = 'mental_health_crisis' WHERE ex.s >= t.f AND ex.s < t.t""",
        """CREATE TEMP VIEW crises AS
            SELECT child, adult, d, COUNT(*) OVER (PARTITION BY child, adult ORDER BY d
                                                   RANGE BETWEEN INTERVAL 30 DAY PRECEDING AND CURRENT ROW) AS n
            FROM crisis_days""",
    ]
    harms: dict[str, set[str]] = {}
    near: dict[str, set[str]] = {}
    with duckdb.connect() as con:
        for view in views:
            con.execute(render(view, p).sql("duckdb"))
        for rule, sql in HARMS.items():
            harms[rule] = {str(r[0]) for r in con.execute(sql).fetchall()}
        for rule, sql in NEAR_MISSES.items():
            near[rule] = {str(r[0]) for r in con.execute(sql).fetchall()}
            near[rule] -= harms[rule]
    return harms, near
