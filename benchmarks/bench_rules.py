"""Time the rule packs on a large synthetic build, with peak memory.

    uv run python benchmarks/bench_rules.py --persons 1000000            # DuckDB
    uv run python benchmarks/bench_rules.py --persons 100000 --engine spark

The build is *synthesised directly* with numpy, at roughly the proportions of an English area
(21 % children; households of 1-5; per person over five years about 0.06 police incidents,
0.3 emergency attendances, 0.1 mental-health contacts, 0.02 custody records, 0.03 children's
social-care referrals...), with heavy-tailed repeat contact so windows and counts have work to
do. It does not run synth, ingest or linkage: it measures the rules stage alone, on tables shaped
as docs/builds.md says. The rules run in a fresh process so its peak RSS is the rules' own.
Figures go to stdout and to ``benchmarks/out/rules-<persons>-<engine>.json``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from commonground.contracts import FEEDS, ColumnType

AS_OF = datetime(2025, 1, 15, 10, 0)
YEARS = 5
OUT = Path(__file__).parent / "out"
EPOCH = date(1970, 1, 1)

_TYPES = {
    ColumnType.DATE: pa.date32(),
    ColumnType.DATETIME: pa.timestamp("us"),
    ColumnType.BOOL: pa.bool_(),
    ColumnType.INTEGER: pa.int64(),
    ColumnType.CODE_LIST: pa.list_(pa.string()),
}


def _days(d: date) -> int:
    return (d - EPOCH).days


class Area:
    """Persons and households of a synthetic area, as numpy arrays."""

    def __init__(self, n: int, rng: np.random.Generator) -> None:
        self.rng = rng
        today = _days(AS_OF.date())
        sizes = rng.choice([1, 2, 3, 4, 5], p=[0.30, 0.35, 0.15, 0.13, 0.07], size=n)
        household_of = np.repeat(np.arange(len(sizes)), sizes)[:n]
        position = np.concatenate([np.arange(s) for s in sizes])[:n]
        size = sizes[household_of]
        family = (size >= 3) | ((size == 2) & (rng.random(n) < 0.3))
        is_child = family & (position >= np.where(rng.random(n) < 0.25, 1, 2)) & (position >= 1)
        age_days = np.where(
            is_child,
            rng.integers(0, 18 * 365, n),
            np.where(family, rng.integers(24 * 365, 56 * 365, n), rng.integers(18 * 365, 90 * 365, n)),
        )
        self.n = n
        self.dob = today - age_days
        self.sex = rng.choice(np.array(["F", "M"]), size=n)
        self.child = is_child
        self.household = household_of
        self.household_count = int(household_of.max()) + 1
        start = np.maximum(self.dob, today - rng.integers(0, 15 * 365, n))
        self.start = start
        # 4 % of adults in families left in the last five years and live elsewhere now
        leaves = family & ~is_child & (rng.random(n) < 0.04)
        end = np.where(leaves, today - rng.integers(1, YEARS * 365, n), -1)
        self.end = np.where(end > start, end, -1)
        weights = rng.pareto(1.5, n) + 1.0  # a few people account for much of the contact
        self.weights = weights / weights.sum()

    def pick(self, count: int, *, children: bool | None = None) -> np.ndarray:
        pool = np.arange(self.n)
        weights = self.weights
        if children is not None:
            mask = self.child if children else ~self.child
            pool, weights = pool[mask], weights[mask] / weights[mask].sum()
        return self.rng.choice(pool, size=count, p=weights)

    def moments(self, count: int) -> np.ndarray:
        seconds = self.rng.integers(0, YEARS * 365 * 86400, count)
        return np.datetime64(AS_OF, "s") - seconds.astype("timedelta64[s]")

    def days(self, count: int) -> np.ndarray:
        return np.datetime64(AS_OF.date(), "D") - self.rng.integers(0, YEARS * 365, count).astype("timedelta64[D]")


def _feed(
    name: str, values: dict[str, Any], persons: np.ndarray | None, area: Area, prefix: str
) -> tuple[pa.Table, list[Any]]:
    contract = FEEDS[name]
    count = len(next(iter(values.values())))
    record_ids = np.char.add(prefix, np.arange(count).astype(str))
    columns: dict[str, pa.Array] = {}
    for column in contract.columns:
        kind = _TYPES.get(column.type, pa.string())
        if column.name == "record_id":
            columns["record_id"] = pa.array(record_ids)
        elif column.name in values:
            columns[column.name] = pa.array(values[column.name], type=kind)
        elif persons is not None and column.name == "date_of_birth":
            columns[column.name] = pa.array(area.dob[persons].astype("datetime64[D]"), type=pa.date32())
        elif persons is not None and column.name == "sex":
            columns[column.name] = pa.array(area.sex[persons])
        elif persons is not None and column.name in ("given_name", "family_name"):
            columns[column.name] = pa.array(np.full(count, "Synthetic"))
        else:
            columns[column.name] = pa.nulls(count, type=kind)
    link = (
        [pa.array(np.full(count, name)), pa.array(record_ids), pa.array(persons.astype(str))]
        if persons is not None
        else []
    )
    return pa.table(columns), link


def _lists(rng: np.random.Generator, count: int, combos: list[list[str]], p: list[float]) -> list[list[str]]:
    chosen = rng.choice(len(combos), size=count, p=p)
    return [combos[i] for i in chosen]


def build(n: int, folder: Path, *, seed: int = 7) -> dict[str, int]:
    rng = np.random.default_rng(seed)
    area = Area(n, rng)
    feeds: dict[str, tuple[pa.Table, list[Any]]] = {}
    # police incidents at households, with the adults and sometimes a child named
    incidents = int(0.06 * n)
    at_person = area.pick(incidents, children=False)
    domestic = rng.random(incidents) < 0.3
    ids = np.char.add("INC", np.arange(incidents).astype(str))
    feeds["police_incidents"] = _feed(
        "police_incidents",
        {
            "incident_id": ids,
            "occurred_at": area.moments(incidents),
            "uprn": np.char.add("U", area.household[at_person].astype(str)),
            "category": np.where(
                domestic, "domestic", rng.choice(["violence", "mental_health", "theft", "drugs", "other"], incidents)
            ),
            "qualifiers": _lists(
                rng,
                incidents,
                [
                    [],
                    ["domestic_abuse"],
                    ["mental_health"],
                    ["drugs"],
                    ["self_harm"],
                    ["domestic_abuse", "child_present"],
                ],
                [0.45, 0.2, 0.15, 0.1, 0.05, 0.05],
            ),
        },
        None,
        area,
        "PI",
    )
    named = np.concatenate([np.arange(incidents), np.arange(incidents)[rng.random(incidents) < 0.5]])
    who = np.concatenate([at_person, area.pick(len(named) - incidents)])
    feeds["police_incident_persons"] = _feed(
        "police_incident_persons",
        {
            "incident_id": ids[named],
            "role": rng.choice(
                ["victim", "suspect", "subject", "witness", "child_present"], len(named), p=[0.35, 0.3, 0.2, 0.1, 0.05]
            ),
        },
        who,
        area,
        "PIP",
    )
    simple: dict[str, tuple[float, bool | None, Callable[[int], dict[str, Any]]]] = {
        "custody_records": (
            0.02,
            False,
            lambda c: {
                "arrested_at": area.moments(c),
                "offence_group": rng.choice(
                    ["violence", "theft", "drugs_possession", "drugs_supply", "public_order", "other"], c
                ),
                "vulnerabilities": _lists(
                    rng,
                    c,
                    [[], ["substance"], ["mental_health"], ["self_harm"], ["mental_health", "substance"]],
                    [0.6, 0.15, 0.12, 0.05, 0.08],
                ),
            },
        ),
        "missing_episodes": (
            0.004,
            True,
            lambda c: {"reported_at": area.moments(c), "risk_level": rng.choice(["low", "medium", "high"], c)},
        ),
        "street_triage": (
            0.006,
            False,
            lambda c: {
                "contacted_at": area.moments(c),
                "setting": rng.choice(["control_room", "vehicle", "phone"], c),
                "outcome": rng.choice(
                    ["no_further_action", "crisis_team_referral", "s136_detention", "ed_conveyance"], c
                ),
            },
        ),
        "ed_attendances": (
            0.3,
            None,
            lambda c: {
                "arrived_at": area.moments(c),
                "injury_intent": rng.choice(["none", "accident", "assault", "self_harm"], c, p=[0.7, 0.23, 0.05, 0.02]),
                "alcohol_involved": rng.random(c) < 0.1,
                "drugs_involved": rng.random(c) < 0.03,
                "assault_location_type": rng.choice(["home", "street", "licensed_premises"], c),
            },
        ),
        "mental_health_contacts": (
            0.1,
            None,
            lambda c: {
                "contact_date": area.days(c),
                "service": rng.choice(
                    ["community", "crisis", "inpatient", "camhs", "liaison"], c, p=[0.8, 0.08, 0.04, 0.05, 0.03]
                ),
                "mha_section": rng.choice(
                    np.array([None, "2", "3", "136"], dtype=object), c, p=[0.96, 0.015, 0.01, 0.015]
                ),
            },
        ),
        "substance_treatment": (
            0.008,
            False,
            lambda c: {
                "start_date": area.days(c),
                "substance": rng.choice(["alcohol", "opiates", "crack", "cannabis"], c),
            },
        ),
        "childrens_social_care": (
            0.03,
            True,
            lambda c: {
                "referral_date": area.days(c),
                "assessment_factors": _lists(
                    rng,
                    c,
                    [["21"], ["16a"], ["3b"], ["1b", "2b"], ["4b"], ["17a", "16a"], ["18a"], ["19a"], ["10a"]],
                    [0.4, 0.15, 0.15, 0.08, 0.08, 0.05, 0.04, 0.02, 0.03],
                ),
                "cp_plan_category": rng.choice(
                    np.array([None, "neglect", "emotional", "physical", "sexual", "multiple"], dtype=object),
                    c,
                    p=[0.9, 0.04, 0.03, 0.015, 0.005, 0.01],
                ),
            },
        ),
        "custodial_sentences": (0.002, False, lambda c: {"received_at": area.days(c)}),
    }
    for name, (rate, children, values) in simple.items():
        count = int(rate * n)
        feeds[name] = _feed(name, values(count), area.pick(count, children=children), area, name[:3].upper())
    pupils = np.flatnonzero(area.child & (area.dob < _days(AS_OF.date()) - 4 * 365))
    feeds["school_roll"] = _feed("school_roll", {"school_urn": (100000 + pupils % 400).astype(str)}, pupils, area, "SR")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "build.duckdb"
    path.unlink(missing_ok=True)
    counts: dict[str, int] = {}
    with duckdb.connect(str(path)) as con:
        links = []
        for name, (table, link) in feeds.items():
            con.register("t", table)
            con.execute(f"CREATE TABLE feed_{name} AS SELECT * FROM t")
            con.unregister("t")
            counts[f"feed_{name}"] = table.num_rows
            if link:
                links.append(pa.table({"feed": link[0], "record_id": link[1], "person_id": link[2]}))
        records = pa.concat_tables(links)
        con.register("t", records)
        con.execute("CREATE TABLE person_records AS SELECT feed, record_id, person_id, 1.0 AS match_probability FROM t")
        con.unregister("t")
        persons = pa.table(
            {
                "person_id": pa.array(np.arange(n).astype(str)),
                "date_of_birth": pa.array(area.dob.astype("datetime64[D]"), type=pa.date32()),
                "sex": pa.array(area.sex),
            }
        )
        con.register("t", persons)
        con.execute("CREATE TABLE persons AS SELECT * FROM t")
        con.unregister("t")
        moved = np.flatnonzero(area.end >= 0)
        person = np.concatenate([np.arange(n), moved])
        household = np.concatenate([area.household, area.household_count + np.arange(len(moved))])
        start = np.concatenate([area.start, area.end[moved] + 1])
        end = np.concatenate([np.where(area.end >= 0, area.end, 0), np.zeros(len(moved), dtype=int)])
        has_end = np.concatenate([area.end >= 0, np.zeros(len(moved), dtype=bool)])
        households = pa.table(
            {
                "household_id": pa.array(household.astype(str)),
                "person_id": pa.array(person.astype(str)),
                "start_date": pa.array(start.astype("datetime64[D]"), type=pa.date32()),
                "end_date": pa.array(end.astype("datetime64[D]"), type=pa.date32(), mask=~has_end),
                "address_key": pa.array(np.char.add("UPRN U", household.astype(str))),  # linkage's key
            }
        )
        con.register("t", households)
        con.execute("CREATE TABLE households AS SELECT * FROM t")
        con.unregister("t")
        counts.update(person_records=records.num_rows, persons=n, households=households.num_rows)
    (folder / "build.json").write_text(json.dumps({"build_id": f"bench-{n}", "row_counts": counts}), encoding="utf-8")
    return counts


def run_only(build_dir: Path, engine: str) -> None:
    """In a fresh process: run the rules once and print the figures as JSON."""
    from commonground.rules import run_rules

    started = time.perf_counter()
    result = run_rules(build_dir=build_dir, engine=engine, as_of=AS_OF)
    seconds = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "seconds": round(seconds, 1),
                "peak_rss_mib": round(peak_kib / 1024),
                "indicators": result.indicators,
                "flags": result.flags,
                "evidence": result.evidence,
                "persons_by_rule": dict(result.persons_by_rule),
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--engine", default="duckdb", choices=["duckdb", "spark"])
    parser.add_argument("--build-dir", type=Path, default=None)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--run-only", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run_only:
        run_only(args.run_only, args.engine)
        return
    folder = args.build_dir or OUT / f"build-{args.persons}"
    started = time.perf_counter()
    counts = build(args.persons, folder, seed=args.seed)
    generated = time.perf_counter() - started
    feed_rows = sum(v for k, v in counts.items() if k.startswith("feed_"))
    print(
        f"synthesised a build of {args.persons:,} persons in {generated:.1f} s: {feed_rows:,} feed rows, "
        f"{counts['households']:,} household rows"
    )
    child = subprocess.run(
        [sys.executable, __file__, "--run-only", str(folder), "--engine", args.engine],
        check=True,
        capture_output=True,
        text=True,
    )
    figures = json.loads(child.stdout.strip().splitlines()[-1])
    figures.update(
        persons=args.persons,
        engine=args.engine,
        generate_seconds=round(generated, 1),
        rows=counts,
        measured_at=datetime.now().isoformat(timespec="seconds"),
    )
    OUT.mkdir(exist_ok=True)
    (OUT / f"rules-{args.persons}-{args.engine}.json").write_text(json.dumps(figures, indent=2), encoding="utf-8")
    print(
        f"run_rules ({args.engine}): {figures['seconds']} s, peak RSS {figures['peak_rss_mib']:,} MiB; "
        f"{figures['indicators']:,} indicators, {figures['flags']:,} flags, {figures['evidence']:,} evidence rows"
    )
    for rule_id, persons in sorted(figures["persons_by_rule"].items()):
        print(f"  {rule_id:40} {persons:>9,}")


if __name__ == "__main__":
    main()
