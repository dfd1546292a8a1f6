"""How well the ACE indicators find the children the synthetic truth says were exposed.

For each ACE: sensitivity (exposed children the indicator finds) and positive predictive value
(indicated children who were exposed), twice:

- *with linkage*: the build as linkage made it (people across feeds, households);
- *without linkage* (the single-agency view): every record is its own person and no household is
  known, which is what one agency sees on its own.

Build persons are not truth persons: each build person is mapped to the truth person who owns the
majority of its records (``truth/records.csv``; ties go to the smaller id). Everything is counted
per truth person. Exposures that start after the run's as-of date are left out.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from commonground.contracts import FEEDS
from commonground.errors import UserError
from commonground.rules.packs import RuleSet, default_rules
from commonground.rules.run import OUTPUT_FILE, run_rules
from commonground.rules.sql import Params, render

ACE_PACK = "ace"


@dataclass(frozen=True)
class Measure:
    indicated: int
    """Truth persons with the indicator."""
    true_positives: int
    exposed: int

    @property
    def sensitivity(self) -> float | None:
        return self.true_positives / self.exposed if self.exposed else None

    @property
    def ppv(self) -> float | None:
        return self.true_positives / self.indicated if self.indicated else None


@dataclass(frozen=True)
class QualityRow:
    ace: str
    exposed: int
    linked: Measure
    single_agency: Measure


@dataclass(frozen=True)
class QualityReport:
    as_of: datetime
    rows: tuple[QualityRow, ...]
    unmatched_truth_aces: tuple[str, ...] = ()
    """ACE names in the truth that no rule is named after."""

    def row(self, ace: str) -> QualityRow:
        for row in self.rows:
            if row.ace == ace:
                return row
        raise KeyError(ace)

    def to_markdown(self) -> str:
        lines = [
            f"ACE indicators against the synthetic truth (as of {self.as_of:%Y-%m-%d}); counts are truth persons.",
            "",
            "| ACE | exposed | with linkage: found | sensitivity | PPV | one agency alone: found | sensitivity | PPV |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in self.rows:
            lines.append(
                f"| {r.ace} | {r.exposed:,} | {r.linked.true_positives:,} of {r.linked.indicated:,} | "
                f"{_pct(r.linked.sensitivity)} | {_pct(r.linked.ppv)} | "
                f"{r.single_agency.true_positives:,} of {r.single_agency.indicated:,} | "
                f"{_pct(r.single_agency.sensitivity)} | {_pct(r.single_agency.ppv)} |"
            )
        if self.unmatched_truth_aces:
            lines += ["", f"Truth ACEs with no rule: {', '.join(self.unmatched_truth_aces)}"]
        return "\n".join(lines)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f} %"


def truth_files(truth_dir: Path) -> tuple[Path, Path]:
    """``exposures.csv`` and ``records.csv`` in ``truth_dir`` or in ``truth_dir/truth``."""
    for folder in (truth_dir, truth_dir / "truth"):
        exposures, records = folder / "exposures.csv", folder / "records.csv"
        if exposures.exists() and records.exists():
            return exposures, records
    raise UserError(f"{truth_dir}: no truth/exposures.csv and truth/records.csv (write them with commonground synth)")


def sensitivity_report(
    build_dir: Path,
    truth_dir: Path,
    *,
    engine: str = "duckdb",
    as_of: datetime | None = None,
    rules: RuleSet | None = None,
) -> QualityReport:
    """Sensitivity and PPV of each ACE indicator, with linkage and in the single-agency view.

    Runs the rules on the build if they have not run (or if ``as_of`` is given), and always on a
    single-agency copy of the build made in a temporary folder.
    """
    exposures, records = truth_files(truth_dir)
    rule_set = rules or default_rules()
    if as_of is not None or not (build_dir / OUTPUT_FILE).exists():
        run_rules(build_dir=build_dir, engine=engine, as_of=as_of, rules=rule_set)
    moment = _run_as_of(build_dir)
    with _single_agency_build(build_dir) as single_dir:
        run_rules(build_dir=single_dir, engine=engine, as_of=moment, rules=rule_set)
        linked = _indicated(build_dir, records)
        single = _indicated(single_dir, records)
    aces = _ace_ids(rule_set)
    exposed = _exposed(exposures, moment)
    rows = []
    for ace in aces:
        truth = exposed.get(ace, set())
        rows.append(
            QualityRow(
                ace=ace,
                exposed=len(truth),
                linked=_measure(linked.get(ace, set()), truth),
                single_agency=_measure(single.get(ace, set()), truth),
            )
        )
    unmatched = tuple(sorted(set(exposed) - set(aces)))
    return QualityReport(as_of=moment, rows=tuple(rows), unmatched_truth_aces=unmatched)


def _ace_ids(rule_set: RuleSet) -> tuple[str, ...]:
    return tuple(r.id for p in rule_set.packs if p.pack == ACE_PACK for r in p.rules)


def _measure(indicated: set[str], exposed: set[str]) -> Measure:
    return Measure(indicated=len(indicated), true_positives=len(indicated & exposed), exposed=len(exposed))


def _run_as_of(build_dir: Path) -> datetime:
    with duckdb.connect(str(build_dir / OUTPUT_FILE), read_only=True) as con:
        row = con.execute("SELECT value FROM rules_run WHERE key = 'as_of'").fetchone()
    if row is None:
        raise UserError(f"{build_dir}: the rules output has no as-of date; run the rules again")
    return datetime.fromisoformat(str(row[0]))


def _ace_name(raw: str) -> str:
    name = raw.strip().lower()
    return name if name.startswith("ace.") else f"ace.{name}"


def _exposed(exposures: Path, as_of: datetime) -> dict[str, set[str]]:
    """Truth persons per ACE, from exposures that had started by ``as_of``."""
    p = Params()
    query = render(
        f"""
        SELECT ace, person_id FROM read_csv({p(str(exposures))}, all_varchar = true, header = true)
        WHERE ace IS NOT NULL AND TRIM(ace) <> ''
          AND (start IS NULL OR TRIM(start) = '' OR TRY_CAST(LEFT(start, 10) AS DATE) <= {p(as_of.date())})
        """,
        p,
    )
    out: dict[str, set[str]] = {}
    with duckdb.connect() as con:
        for ace, person in con.execute(query.sql("duckdb")).fetchall():
            out.setdefault(_ace_name(ace), set()).add(str(person))
    return out


def _indicated(build_dir: Path, records: Path) -> dict[str, set[str]]:
    """Truth persons with each ACE indicator: build persons mapped to their majority truth person."""
    return by_truth_person(build_dir, records, table="indicators", rule_like="ace.%")


def by_truth_person(build_dir: Path, records: Path, *, table: str, rule_like: str | None = None) -> dict[str, set[str]]:
    """Truth persons with each rule of the rules output's ``table`` (indicators or flags), each build person mapped
    to the truth person who owns most of their records (ties to the smaller id)."""
    if table not in {"indicators", "flags"}:
        raise ValueError(f"not a rules output table: {table!r}")
    p = Params()
    where = f"WHERE x.rule_id LIKE {p(rule_like)}" if rule_like is not None else ""
    query = render(
        f"""
        WITH truth AS (
            SELECT feed, record_id, person_id AS truth_id
            FROM read_csv({p(str(records))}, all_varchar = true, header = true)
        ),
        votes AS (
            SELECT CAST(pr.person_id AS VARCHAR) AS person_id, t.truth_id, COUNT(*) AS n
            FROM build.person_records AS pr JOIN truth AS t ON t.feed = pr.feed AND t.record_id = pr.record_id
            GROUP BY 1, 2
        ),
        owner AS (
            SELECT person_id, truth_id FROM (
                SELECT person_id, truth_id,
                       ROW_NUMBER() OVER (PARTITION BY person_id ORDER BY n DESC, truth_id) AS rn
                FROM votes
            ) AS ranked WHERE rn = 1
        )
        SELECT DISTINCT x.rule_id, o.truth_id
        FROM rules.{table} AS x JOIN owner AS o ON o.person_id = x.person_id
        {where}
        """,
        p,
    )
    out: dict[str, set[str]] = {}
    with duckdb.connect() as con:
        _attach(con, build_dir / "build.duckdb", "build")
        _attach(con, build_dir / OUTPUT_FILE, "rules")
        for rule_id, truth_id in con.execute(query.sql("duckdb")).fetchall():
            out.setdefault(str(rule_id), set()).add(str(truth_id))
    return out


def _attach(con: duckdb.DuckDBPyConnection, path: Path, alias: str) -> None:
    if alias not in ("build", "rules"):
        raise ValueError(alias)
    target = Params()
    con.execute(render(f"ATTACH {target(str(path))} AS {alias} (READ_ONLY)", target).sql("duckdb"))


@contextmanager
def _single_agency_build(build_dir: Path) -> Iterator[Path]:
    """A copy of the build as one agency alone would see it: each record its own person, no households."""
    if not (build_dir / "build.duckdb").exists():
        raise UserError(f"{build_dir}: the single-agency view needs a build.duckdb")
    folder = Path(tempfile.mkdtemp(prefix="commonground-single-agency-"))
    try:
        shutil.copyfile(build_dir / "build.duckdb", folder / "build.duckdb")
        with duckdb.connect(str(folder / "build.duckdb")) as con:
            _split_persons(con)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _split_persons(con: duckdb.DuckDBPyConnection) -> None:
    tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    identity = []
    for name, contract in FEEDS.items():
        if contract.person_level and f"feed_{name}" in tables:
            p = Params()
            identity.append(
                render(
                    f"SELECT {p(name)} || ':' || CAST(record_id AS VARCHAR) AS person_id, date_of_birth, sex "
                    f"FROM feed_{name}",
                    p,
                ).sql("duckdb")
            )
    people = " UNION ALL ".join(identity) or (
        "SELECT CAST(NULL AS VARCHAR) AS person_id, CAST(NULL AS DATE) AS date_of_birth, "
        "CAST(NULL AS VARCHAR) AS sex WHERE FALSE"
    )
    con.execute(
        "CREATE OR REPLACE TABLE person_records AS "
        "SELECT feed, record_id, feed || ':' || CAST(record_id AS VARCHAR) AS person_id, 1.0 AS match_probability "
        "FROM person_records"
    )
    con.execute(f"CREATE OR REPLACE TABLE persons AS SELECT person_id, date_of_birth, sex FROM ({people}) AS p")
    con.execute("CREATE OR REPLACE TABLE households AS SELECT * FROM households WHERE FALSE")
