"""Does Operation Encompass reach every child (#20)? Measured on a synthetic area against its truth.

The truth: for every police-recorded domestic-abuse incident, the children (4 to 17 on the day) of its victim and
suspect (``truth/people.csv``: ``mother_id``, ``father_id``). The rule ``notice.school_domestic_abuse`` reaches such
a (child, incident) when it has evidence of that incident for the child. Printed for the rule without its
parent-elsewhere item (home or named only, as before #20) and with it, with the 14-day raise window lifted so that
the whole history counts; and, for the parent-elsewhere evidence, how often the adult it names is the child's true
mother or father, and whether the others ever lived with the child in truth (linkage's households joined them).

    .venv/bin/python benchmarks/bench_notice_reach.py --people 10000 --seed 11
"""

from __future__ import annotations

import argparse
import csv
import tempfile
from collections import Counter, defaultdict
from datetime import date, datetime
from pathlib import Path

import duckdb

from commonground.ingest import ingest_directory
from commonground.linkage.pipeline import build_from_store
from commonground.rules import default_rules, run_rules
from commonground.rules.packs import RuleSet
from commonground.synth import generate

NOTICE = "notice.school_domestic_abuse"
AS_OF = datetime(2027, 1, 1)


def notice_rules(*, with_parent: bool) -> RuleSet:
    """The default rules with the notice rule's raise window lifted (and, without the parent item, as before #20)."""
    base = default_rules(notices="notices_every_child.yaml" if with_parent else "notices.yaml")
    packs = []
    for pack in base.packs:
        rules = []
        for rule in pack.rules:
            if rule.id == NOTICE:
                rule = rule.model_copy(update={"raise_within_days": None})
            rules.append(rule)
        packs.append(pack.model_copy(update={"rules": tuple(rules)}))
    return RuleSet(packs=tuple(packs), routing=base.routing)


def _truth(area: Path, name: str) -> list[dict[str, str]]:
    with (area / "truth" / f"{name}.csv").open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="notice-reach-"))
    area, data_dir = root / "area", root / "data"
    generate(people=args.people, seed=args.seed, out=area, on_progress=None)
    ingest_directory(source=area, data_dir=data_dir, on_progress=None)
    build = build_from_store(data_dir=data_dir, on_progress=None).path

    people = {r["person_id"]: r for r in _truth(area, "people")}
    truth_of_record = {(r["feed"], r["record_id"]): r["person_id"] for r in _truth(area, "records")}
    stays: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    for r in _truth(area, "households"):
        stays[r["person_id"]].append((r["household_id"], r["start"], r["end"] or "9999-12-31"))
    children_of: dict[str, set[str]] = defaultdict(set)
    for pid, r in people.items():
        for parent in (r["mother_id"], r["father_id"]):
            if parent:
                children_of[parent].add(pid)

    con = duckdb.connect(str(build / "build.duckdb"), read_only=True)
    votes: dict[str, Counter[str]] = defaultdict(Counter)
    for person, feed, record in con.execute("SELECT person_id, feed, record_id FROM person_records").fetchall():
        if (t := truth_of_record.get((feed, str(record)))) is not None:
            votes[str(person)][t] += 1
    incidents = con.execute(
        "SELECT i.record_id, CAST(i.occurred_at AS DATE), p.record_id, p.role FROM feed_police_incidents i "
        "JOIN feed_police_incident_persons p ON p.incident_id = i.incident_id WHERE i.category = 'domestic'"
    ).fetchall()
    con.close()
    truth_of = {p: c.most_common(1)[0][0] for p, c in votes.items()}
    row_of = {str(person_record): str(row) for row, _day, person_record, _role in incidents}

    pairs: set[tuple[str, str]] = set()
    for row, day, person_record, role in incidents:
        adult = truth_of_record.get(("police_incident_persons", str(person_record)))
        if role not in ("victim", "suspect") or adult is None:
            continue
        for child in children_of.get(adult, ()):
            born = people[child]["date_of_birth"]
            if born and 4 <= (day - date.fromisoformat(born)).days / 365.25 < 18:
                pairs.add((child, str(row)))

    print(f"{args.people:,} people, seed {args.seed}: {len(pairs)} (child, incident) pairs in truth")
    for with_parent in (False, True):
        run_rules(build_dir=build, as_of=AS_OF, rules=notice_rules(with_parent=with_parent))
        with duckdb.connect(str(build / "rules.duckdb"), read_only=True) as rc:
            evidence = rc.execute(
                "SELECT person_id, feed, record_id, signal, via_person_id FROM evidence WHERE rule_id = ?", [NOTICE]
            ).fetchall()
        reached: set[tuple[str, str]] = set()
        kinds: Counter[str] = Counter()
        for person, feed, record, signal, via in evidence:
            subject = truth_of.get(str(person))
            row = str(record) if feed == "police_incidents" else row_of.get(str(record))
            if subject and row:
                reached.add((subject, row))
            if signal == "parent_elsewhere":
                named = truth_of.get(str(via))
                if not subject or not named:
                    kinds["not mapped to the truth"] += 1
                elif subject in children_of.get(named, ()):
                    kinds["a true parent"] += 1
                elif any(h == k and max(s, t) < min(e, f) for h, s, e in stays[subject] for k, t, f in stays[named]):
                    kinds["lived with the subject in truth, not a parent"] += 1
                else:
                    kinds["never lived with the subject in truth"] += 1
        got = len(pairs & reached)
        label = "with the parent-elsewhere item" if with_parent else "home or named only (before #20)"
        print(f"  {label}: reached {got}/{len(pairs)} = {got / max(len(pairs), 1):.1%}")
        if with_parent:
            total = sum(kinds.values())
            print(f"  parent-elsewhere evidence: {total} rows; " + "; ".join(f"{k} {v}" for k, v in kinds.items()))


if __name__ == "__main__":
    main()
