"""``run_stats``: every published table of a build, protected together and written to a folder.

The tables (docs/stats.md lists them) are counted from the build and its rules output, put into
one system of figures and equations, protected (:func:`~commonground.stats.suppression.protect`)
and written as CSV with a JSON sidecar each, plus ``manifest.json``. No file holds a person id, a
record id, a name, a date of birth or a postcode: only groups (small area codes, bands, rules) and
counts.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb

from commonground import __version__
from commonground.errors import UserError
from commonground.stats import queries as q
from commonground.stats.disclosure import DisclosurePolicy, SmallNumbers, load_policy, strictest
from commonground.stats.suppression import CellKey, Line, Protected, cell, protect, unique_lines
from commonground.stats.tables import ALL, Counted, TableSpec, count_table, write_table

RULES_FILE = "rules.duckdb"
AGE_BAND_LABELS = tuple(q.band_label(lo, hi) for lo, hi in q.AGE_BANDS)
SEXES = ("F", "M", "U")
TOTALS_NOTE = (
    "Every figure, totals included, is counted exactly and then passed through the small-number rule on its "
    "own: totals are the true totals rounded (or hidden), not sums of the rounded figures, so a row may not add "
    "up to its total by a few. Hidden figures ('{symbol}') are hidden in every file that shows them, and further "
    "figures are hidden where needed so that no hidden figure can be worked out from the others, in this file "
    "or together with any other file of the same run (docs/stats.md)."
)


@dataclass(frozen=True)
class StatsResult:
    out_dir: Path
    build_id: str
    as_of: datetime
    files: tuple[Path, ...]
    tables: int
    figures: int
    hidden: int
    seconds: float


def _specs() -> list[TableSpec]:
    people = ("population",)
    aces = ("population", "childrens_social_care", "police_incident_persons", "mental_health_contacts")
    overlap = (
        "police_incident_persons",
        "mental_health_contacts",
        "street_triage",
        "substance_treatment",
        "ed_attendances",
    )
    specs = [
        TableSpec(
            "people_by_area_and_age_band",
            "People by small area and age band",
            "Everyone in the linked records by small area and age band at the as-of date.",
            "people",
            "st_people",
            "area",
            "age_band",
            people,
        ),
        TableSpec(
            "people_by_deprivation_and_age_band",
            "People by deprivation decile and age band",
            "Everyone by the deprivation decile of their usual postcode (1 most deprived) and age band.",
            "people",
            "st_people",
            "decile",
            "age_band",
            people,
        ),
        TableSpec(
            "people_by_sex_and_age_band",
            "People by sex and age band",
            "Everyone by sex (F, M, U not recorded) and age band.",
            "people",
            "st_people",
            "sex",
            "age_band",
            people,
        ),
    ]
    # By deprivation decile only: by small area nearly every ACE figure is small, and the few left would
    # have to be hidden too, since a decile's figures are the sums of its areas'.
    for dim, words in (("decile", "deprivation decile"),):
        specs.append(
            TableSpec(
                f"children_aces_by_{'deprivation' if dim == 'decile' else dim}",
                f"Children by number of ACE indicators and {words}",
                "Children (under 18 at the as-of date) by how many of the ten ACE indicators they have "
                "(0, 1, 2-3, 4+, as the Welsh and English ACE studies report it). Percent: share of the "
                "children of the row; 100 minus the share with 0 is the prevalence of any ACE. Indicators are "
                "proxies from partners' records, never a diagnosis.",
                "children",
                "st_children",
                dim,
                "aces",
                aces,
                percent_of="row",
            )
        )
    specs += [
        TableSpec(
            "ace_prevalence_by_deprivation",
            "Children with each ACE indicator, by deprivation decile",
            "Children with each ACE indicator by the deprivation decile of their usual postcode; percent of the "
            "children of that decile (the deprivation gradient). Deprivation is reported, never a rule's condition.",
            "rule",
            "st_fired_ace",
            "rule_id",
            "decile",
            aces,
            rows_are_populations=True,
            percent_of="children",
        ),
        TableSpec(
            "indicators_and_flags_by_area",
            "People with each indicator or flag, by small area",
            "People with each indicator or flag of the latest rules run, by small area.",
            "rule",
            "st_fired_people",
            "rule_id",
            "area",
            ("population",),
            rows_are_populations=True,
        ),
        TableSpec(
            "indicators_and_flags_by_month",
            "People with each indicator or flag, by month of its first evidence",
            "People with each indicator or flag, by the month of the first record behind it.",
            "rule",
            "st_fired_people",
            "rule_id",
            "month",
            ("population",),
            rows_are_populations=True,
        ),
    ]
    for dim, words in (("area", "small area"), ("age_band", "age band"), ("sex", "sex")):
        specs.append(
            TableSpec(
                f"police_overlap_by_{dim}",
                f"People known to police who are known to other services, by {words}",
                "People named on a police incident as victim, suspect or subject, by which of mental-health "
                "(including street triage), drug and alcohol, and emergency-department services also hold a "
                "record of them (police_only: none). Percent: share of the row's people known to police.",
                "police_known",
                "st_police",
                dim,
                "overlap",
                overlap,
                percent_of="row",
            )
        )
    specs.append(
        TableSpec(
            "police_overlap_by_role",
            "People known to police who are known to other services, by police role",
            "As police_overlap_by_area, for each role on a police incident; a person named in two roles is in "
            "both rows, so the rows do not add up.",
            "police",
            "st_police_roles",
            "role",
            "overlap",
            overlap,
            rows_are_populations=True,
            percent_of=None,
        )
    )
    return specs


def run_stats(
    *, build_dir: Path, out_dir: Path, policy: DisclosurePolicy | None = None, overwrite: bool = True
) -> StatsResult:
    """Write every table of ``build_dir`` (with its rules output) into ``out_dir``.

    The folder is written under a temporary name beside ``out_dir`` and renamed into place, so a reader sees
    the previous complete output or the new one. A non-empty ``out_dir`` that is not an earlier output (no
    ``manifest.json``) is never touched."""
    started = time.perf_counter()
    policy = policy or load_policy()
    _check_out_dir(out_dir, overwrite=overwrite)
    database, rules_db = build_dir / "build.duckdb", build_dir / RULES_FILE
    if not database.exists():
        raise UserError(f"{build_dir}: not a build (no build.duckdb)")
    if not rules_db.exists():
        raise UserError("no rules have run on the current build: run `commonground flag` first")
    with duckdb.connect() as con:
        con.execute("ATTACH ? AS build (READ_ONLY)", [str(database)])
        con.execute("ATTACH ? AS rules (READ_ONLY)", [str(rules_db)])
        row = con.execute("SELECT value FROM rules.rules_run WHERE key = 'as_of'").fetchone()
        if row is None:
            raise UserError(f"{build_dir}: the rules output has no as-of date; run the rules again")
        as_of = datetime.fromisoformat(str(row[0]))
        counted, groups = _count(con, policy, as_of.date())
    protected, distinct = _protect_together(counted, groups, policy)
    meta = {
        "build_id": build_dir.name,
        "as_of": as_of.date().isoformat(),
        "generated_by": f"commonground {__version__}",
    }
    files, figures, hidden = _write(counted, protected, groups, out_dir, meta=meta, policy=policy, distinct=distinct)
    return StatsResult(
        out_dir=out_dir,
        build_id=build_dir.name,
        as_of=as_of,
        files=files,
        tables=len(counted),
        figures=figures,
        hidden=hidden,
        seconds=time.perf_counter() - started,
    )


def _check_out_dir(out_dir: Path, *, overwrite: bool) -> None:
    if out_dir.exists() and any(out_dir.iterdir()):
        if not overwrite:
            raise UserError(f"{out_dir} is not empty")
        if not (out_dir / "manifest.json").exists():
            raise UserError(f"{out_dir} is not empty and holds no earlier stats output (manifest.json): not touched")


def _protect_together(
    counted: list[Counted], groups: dict[str, dict[str, str]], policy: DisclosurePolicy
) -> tuple[Protected, int]:
    """Every figure of every table in one system: a figure shown in two files is one cell, and the equations
    between files (a decile is its areas, children are the child age bands) are lines too. A cell takes the
    strictest rule of the tables that show it."""
    counts: dict[CellKey, int] = {}
    cell_rules: dict[CellKey, list[SmallNumbers]] = defaultdict(list)
    lines: list[Line] = []
    for c in counted:
        for key, value in c.counts.items():
            if counts.setdefault(key, value) != value:
                raise AssertionError(f"{c.spec.name}: the figure {key} differs from another table's")
        for r, _, key in c.layout():
            cell_rules[key].append(c.rule_of_row(None if r == ALL else r))
        lines += c.lines
    lines += _linking_lines(counts, groups)
    by_cell = {key: strictest(rules) for key, rules in cell_rules.items()}
    return protect(counts, unique_lines(lines), policy.rule(policy.default), rules_by_cell=by_cell), len(counts)


def _write(
    counted: list[Counted],
    protected: Protected,
    groups: dict[str, dict[str, str]],
    out_dir: Path,
    *,
    meta: dict[str, str],
    policy: DisclosurePolicy,
    distinct: int,
) -> tuple[tuple[Path, ...], int, int]:
    tmp = out_dir.with_name(f".{out_dir.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    names: list[str] = []
    hidden = figures = 0
    for c in counted:
        note = TOTALS_NOTE.format(symbol=c.rule.symbol)
        labels = groups["rule_titles"] if c.spec.rows == "rule_id" else None
        csv_path, json_path = write_table(c, protected, tmp, metadata={**meta, "totals": note}, labels=labels)
        names += [csv_path.name, json_path.name]
        layout = c.layout()
        figures += len(layout)
        hidden += sum(1 for _, _, k in layout if protected.values[k] is None)
    manifest = {
        **meta,
        "tables": [c.spec.name for c in counted],
        "policy": json.loads(policy.model_dump_json()),
        "figures": figures,
        "figures_hidden": hidden,
        "distinct_figures": distinct,
        "totals": TOTALS_NOTE.format(symbol="*"),
    }
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    if out_dir.exists():
        shutil.rmtree(out_dir)
    tmp.rename(out_dir)
    return tuple(out_dir / name for name in [*names, "manifest.json"]), figures, hidden


def _count(
    con: duckdb.DuckDBPyConnection, policy: DisclosurePolicy, as_of: date
) -> tuple[list[Counted], dict[str, dict[str, str]]]:
    rules = con.execute("SELECT rule_id, pack, kind, title, feeds FROM rules.rules ORDER BY rule_id").fetchall()
    rule_ids = [str(r[0]) for r in rules]
    ace_rules = tuple(str(r[0]) for r in rules if r[1] == "ace" and r[2] == "indicator")
    rule_feeds = {str(r[0]): tuple(f for f in str(r[4] or "").split(",") if f) for r in rules}
    q.build_people(con, as_of)
    q.build_fired(con, ace_rules)
    q.build_police(con)
    # Among each rule's population at the as-of date (children for the ACE rules), as the fairness report
    # counts: every table of a rule then counts the same people, so no two differ by a group.
    con.execute(
        """
        CREATE TEMP TABLE st_fired_people AS
        SELECT f.rule_id, f.month, p.* FROM st_fired AS f JOIN st_people AS p USING (person_id)
        JOIN rules.rules AS r ON r.rule_id = f.rule_id
        WHERE p.child = (r.population = 'child')
        """
    )
    con.execute(
        "CREATE TEMP TABLE st_fired_ace AS SELECT * FROM st_fired_people WHERE list_contains(?, rule_id)",
        [list(ace_rules)],
    )
    con.execute(  # the role names are st_police's columns (identifiers); the labels are bound
        "CREATE TEMP TABLE st_police_roles AS "
        + " UNION ALL ".join(f"SELECT ? AS role, overlap FROM st_police WHERE {r}" for r in q.POLICE_ROLES),
        list(q.POLICE_ROLES),
    )
    tables = q.tables_of(con, "build")
    areas_rows = (
        con.execute(
            "SELECT DISTINCT area_code, CAST(deprivation_decile AS VARCHAR) FROM build.postcode_areas"
        ).fetchall()
        if "postcode_areas" in tables
        else []
    )
    area_decile = {str(a): q.UNKNOWN if d is None else str(d) for a, d in areas_rows if a is not None}
    areas = [*sorted(area_decile), q.UNKNOWN]
    deciles = [*sorted(set(area_decile.values()) - {q.UNKNOWN}, key=lambda d: (len(d), d)), q.UNKNOWN]
    months = [str(r[0]) for r in con.execute("SELECT DISTINCT month FROM st_fired ORDER BY month").fetchall()]
    groups: dict[str, list[str]] = {
        "area": areas,
        "decile": deciles,
        "sex": list(SEXES),
        "age_band": list(AGE_BAND_LABELS),
        "aces": list(q.ACE_BANDS),
        "overlap": list(q.OVERLAP),
        "month": months,
        "role": list(q.POLICE_ROLES),
    }
    counted: list[Counted] = []
    for spec in _specs():
        rows = (
            list(ace_rules)
            if spec.relation == "st_fired_ace"
            else rule_ids
            if spec.rows == "rule_id"
            else groups[spec.rows]
        )
        row_rules = (
            {r: policy.rule_for(("population", *rule_feeds[r])) for r in rows} if spec.rows == "rule_id" else None
        )
        counted.append(
            count_table(
                con,
                spec,
                rows=rows,
                cols=groups[spec.cols],
                rule=policy.rule_for(spec.sources),
                row_rules=row_rules,
            )
        )
    extra = {"area_decile": area_decile, "rule_titles": {str(r[0]): str(r[3]) for r in rules}}
    return counted, extra


def _linking_lines(counts: dict[CellKey, int], groups: dict[str, dict[str, str]]) -> list[Line]:
    """Equations that tie tables to each other beyond shared figures.

    - A decile's figure is the sum of its areas' (an area lies in one decile), for any population and
      any other group the two tables share.
    - Children are the people of the child age bands (by area, by decile and in all)."""
    out: list[Line] = []
    areas_of: dict[str, list[str]] = defaultdict(list)
    for area, decile in groups["area_decile"].items():
        areas_of[decile].append(area)
    areas_of[q.UNKNOWN].append(q.UNKNOWN)  # no known area: no decile either
    for key in list(counts):
        population, parts = key
        grouped = dict(parts)
        if "decile" not in grouped or grouped["decile"] not in areas_of:
            continue
        decile = grouped["decile"]
        rest = {k: v for k, v in grouped.items() if k != "decile"}
        members = [cell(population, **rest, area=a) for a in areas_of[decile]]
        if all(m in counts for m in members):
            out.append(Line(key, tuple(members)))
    for scope in [{}, *({"area": a} for a in [*groups["area_decile"], q.UNKNOWN])]:
        out += _children_line(counts, scope)
    for decile in {*groups["area_decile"].values(), q.UNKNOWN}:
        out += _children_line(counts, {"decile": decile})
    return out


def _children_line(counts: dict[CellKey, int], scope: dict[str, str]) -> list[Line]:
    total = cell("children", **scope)
    parts = [cell("people", **scope, age_band=b) for b in q.CHILD_BANDS]
    if total in counts and all(p in counts for p in parts):
        return [Line(total, tuple(parts))]
    return []
