"""``generate``: build a synthetic area from a seed and write its feeds and its truth.

Stages, each with its own random stream (``SeedSequence.spawn``) so that changing one stage
never shifts the draws of another: names, area, people, household risk, six years of household
change, adults' lives, children's lives, missing and exploitation, the truth about exposures,
then each agency's observation of it, the deliberate defects, and the files. The harsh noise
profile (``noise="harsh"``) is the last stage: it runs on each observed feed before its defects.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from commonground import __version__
from commonground.contracts import FEEDS
from commonground.synth import defects as defect_mod
from commonground.synth.adults import build_adults, person_risk
from commonground.synth.area import build_area
from commonground.synth.arrays import ObjArray, blanks, ints, texts
from commonground.synth.children import build_harm, child_multiplier, household_flags
from commonground.synth.dynamics import simulate
from commonground.synth.emergency import emergency
from commonground.synth.exposures import Exposures, build_exposures
from commonground.synth.feedrows import sequential_ids
from commonground.synth.harsh import apply_harsh
from commonground.synth.health import mental_health, treatment, triage
from commonground.synth.identity import finalize
from commonground.synth.interventions import Interventions, manifest_entry, plant_interventions
from commonground.synth.interventions import header as intervention_header
from commonground.synth.justice import custody, missing_episodes, sentences
from commonground.synth.missing import build_missing
from commonground.synth.names import build_namebook
from commonground.synth.noise import NOISE_PROFILES, NoiseProfile
from commonground.synth.output import (
    write_defects,
    write_exposures,
    write_households,
    write_identity_errors,
    write_manifest,
    write_people,
    write_table,
)
from commonground.synth.police import observe_police
from commonground.synth.population import build_population, nhs_numbers
from commonground.synth.reference import postcode_areas, schools
from commonground.synth.residence import build_residence, child_adult_pairs
from commonground.synth.risk import household_risk
from commonground.synth.school import school_roll
from commonground.synth.social_care import social_care
from commonground.synth.timeline import T0, WINDOW_END, WINDOW_START
from commonground.synth.world import World

GENERATOR_VERSION = "3"
"""Bumped whenever the same seed would give a different area."""

STAGES = (
    "names",
    "area",
    "people",
    "risk",
    "dynamics",
    "given",
    "nhs",
    "adults",
    "harm",
    "missing",
    "exposures",
    "police",
    "justice",
    "emergency",
    "health",
    "care",
    "school",
    "defects",
    "reference",
    "interventions",
    "noise",
)
"""Appending a stage keeps the streams of the stages before it (``SeedSequence.spawn`` is by position)."""

Progress = Callable[[str, int, int | None], None]


@dataclass(frozen=True)
class SynthSummary:
    """What ``generate`` made, for the CLI to print."""

    seed: int
    people: int
    """Everyone who lived in the area during the window (residents at the start and babies born since)."""
    people_at_start: int
    households: int
    """Every household that existed during the window (new ones form when couples part or children leave home)."""
    households_at_start: int
    rows: dict[str, int]
    """Rows written per feed, in the order of ``commonground.contracts.FEEDS``."""
    defects: int
    out: Path
    seconds: float
    exposures: int = 0
    noise: str = "default"
    """The noise profile the feeds were observed through (``commonground.synth.noise.NOISE_PROFILES``)."""

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    def table(self) -> list[tuple[str, str]]:
        """(label, value) rows: the people, households and rows per feed, then totals."""
        lines = [
            ("people (at start / ever)", f"{self.people_at_start:,} / {self.people:,}"),
            ("households (at start / ever)", f"{self.households_at_start:,} / {self.households:,}"),
        ]
        lines += [(f"{feed}.csv", f"{n:,}") for feed, n in self.rows.items()]
        lines += [
            ("rows in all feeds", f"{self.total_rows:,}"),
            ("deliberate defects", f"{self.defects:,}"),
            ("noise profile", self.noise),
            ("written to", str(self.out)),
            ("seconds", f"{self.seconds:.1f}"),
        ]
        return lines

    def __str__(self) -> str:
        width = max(len(label) for label, _ in self.table())
        return "\n".join(f"{label:<{width}}  {value}" for label, value in self.table())


def _quiet(stage: str, done: int, total: int | None) -> None:
    """The default progress callback: says nothing."""


def _build_world(
    streams: dict[str, np.random.SeedSequence], people: int, progress: Progress
) -> tuple[World, Exposures, Interventions]:
    def rng(stage: str) -> np.random.Generator:
        return np.random.default_rng(streams[stage])

    steps = 7
    progress("Laying out the area", 0, steps)
    names = build_namebook(rng("names"))
    area = build_area(rng("area"), households=int(people / 2.3) + 8, people=people, names=names)
    progress("Building households", 1, steps)
    pop = build_population(rng("people"), people=people, names=names, n_dwellings=len(area.dw_uprn))
    risk = household_risk(rng("risk"), area.dw_decile[pop.hh_dwelling])
    progress("Six years of household change", 2, steps)
    dyn = simulate(rng("dynamics"), pop, risk, len(area.dw_uprn))
    res = build_residence(dyn)
    babies = np.arange(pop.size, len(dyn.sex))
    given = np.concatenate(
        [pop.given, names.draw_given(rng("given"), dyn.group[babies], dyn.sex[babies], 1970 + dyn.dob[babies] // 365)]
    )
    nhs = texts(nhs_numbers(rng("nhs"), len(dyn.sex)))
    progress("Adults' lives", 3, steps)
    adults = build_adults(streams["adults"], dyn, res)
    adults, planted = plant_interventions(rng("interventions"), adults, dyn)
    pairs = child_adult_pairs(res, dyn.dob)
    p_risk = person_risk(dyn, res)
    flags = household_flags(dyn, adults, pairs)
    m = child_multiplier(dyn, p_risk, flags)
    progress("Children's lives", 4, steps)
    harm = build_harm(rng("harm"), dyn, res, m)
    missing = build_missing(rng("missing"), dyn, harm, m)
    world = World(
        area=area,
        names=names,
        dyn=dyn,
        res=res,
        given=given.astype(np.int64),
        nhs=nhs,
        risk=p_risk,
        adults=adults,
        harm=harm,
        missing=missing,
        pairs=pairs,
        flags=flags,
    )
    progress("What really happened", 5, steps)
    exposures = build_exposures(
        rng("exposures"), pop=pop, dyn=dyn, res=res, pairs=pairs, adults=adults, harm=harm, missing=missing
    )
    progress("The area is built", steps, steps)
    return world, exposures, planted


def generate(
    *, people: int, seed: int, out: Path, on_progress: Progress | None = None, noise: str = "default"
) -> SynthSummary:
    """Build a synthetic area of ``people`` residents (at the window start) and write it to ``out``.

    Writes one CSV per feed in :data:`commonground.contracts.FEEDS`, and ``truth/`` (records,
    people, households, exposures, defects, and ``manifest.json``; with ``noise="harsh"`` also
    ``identity_errors.csv``). ``out`` is created if needed; a previous ``truth/`` folder in it is
    replaced. Same seed, size and noise profile, same bytes.
    """
    if people < 1:
        raise ValueError("people must be at least 1")
    if noise not in NOISE_PROFILES:
        raise ValueError(f"noise must be one of {', '.join(NOISE_PROFILES)}, not {noise!r}")
    profile = NOISE_PROFILES[noise]
    harsh = profile.feeds != {}
    started = time.perf_counter()
    progress = on_progress or _quiet
    streams = dict(zip(STAGES, np.random.SeedSequence(seed).spawn(len(STAGES)), strict=True))
    world, exposures, planted = _build_world(streams, people, progress)
    out = Path(out)
    truth = out / "truth"
    if truth.exists():
        shutil.rmtree(truth)
    truth.mkdir(parents=True)
    tables = _observe(streams, world, progress)
    noise_stage = _Noise(world=world, profile=profile, seed=streams["noise"]) if harsh else None
    rows, found, kinds = _write_feeds(out, streams["defects"], tables, progress, world.person_id, noise_stage)
    progress("Writing the truth", 0, 4)
    write_people(truth / "people.csv", world)
    n_households = write_households(truth / "households.csv", world)
    progress("Writing the truth", 2, 4)
    n_exposures = write_exposures(truth / "exposures.csv", exposures, world.person_id)
    write_defects(truth / "defects.csv", found)
    write_table(truth / "interventions.csv", intervention_header(), _columns(planted.rows(world.person_id), 6))
    households = len(np.unique(world.res.seg_hh))
    extra: dict[str, object] = {"noise": noise, "identity_errors": kinds} if harsh else {}
    write_manifest(
        out / "truth" / "manifest.json",
        {
            **extra,
            "generator": "commonground.synth",
            "generator_version": GENERATOR_VERSION,
            "package_version": __version__,
            "seed": seed,
            "people": people,
            "people_ever": world.n_people,
            "households": households,
            "window": {"start": WINDOW_START.isoformat(), "end": WINDOW_END.isoformat()},
            "rows": rows,
            "defects": len(found),
            "truth": {"households_rows": n_households, "exposures": n_exposures},
            "interventions": manifest_entry(planted),
        },
    )
    progress("Writing the truth", 4, 4)
    return SynthSummary(
        seed=seed,
        people=world.n_people,
        people_at_start=people,
        households=households,
        households_at_start=int(np.unique(world.res.seg_hh[world.res.seg_start == T0]).size),
        rows=rows,
        defects=len(found),
        out=out,
        seconds=time.perf_counter() - started,
        exposures=n_exposures,
        noise=noise,
    )


def _columns(rows: Sequence[tuple[str, ...]], width: int) -> list[np.ndarray]:
    """Rows as the column arrays ``write_table`` takes."""
    return [np.array([r[i] for r in rows], dtype=object) for i in range(width)]


def _observe(
    streams: dict[str, np.random.SeedSequence], world: World, progress: Progress
) -> dict[str, Callable[[], dict[str, np.ndarray]]]:
    """Each feed's table, built lazily (one at a time, so only one big feed is in memory)."""
    police_seed, justice_seed, health_seed, care_seed = (streams[k] for k in ("police", "justice", "health", "care"))
    progress("Observing: police", 0, None)
    incidents, seen = observe_police(police_seed, world)
    p_rng = np.random.default_rng(police_seed.spawn(1)[0])
    incident_table, refs, persons = incidents.finish(p_rng, world)
    j = [np.random.default_rng(s) for s in justice_seed.spawn(3)]
    h = [np.random.default_rng(s) for s in health_seed.spawn(3)]
    s136: list[tuple[np.ndarray, np.ndarray]] = []

    def triage_table() -> dict[str, np.ndarray]:
        table, pid, day = triage(h[0], world, seen, refs)
        s136.append((pid, day))
        return table

    def mh_table() -> dict[str, np.ndarray]:
        if not s136:
            triage_table()
        return mental_health(h[1], world, s136[0])

    ref_rng = np.random.default_rng(streams["reference"])
    return {
        "police_incidents": lambda: incident_table,
        "police_incident_persons": lambda: finalize(p_rng, world, persons, sequential_ids("PIP-", 8)),
        "custody_records": lambda: custody(j[0], world, seen),
        "missing_episodes": lambda: missing_episodes(j[1], world, seen),
        "street_triage": triage_table,
        "ed_attendances": lambda: emergency(streams["emergency"], world, seen),
        "mental_health_contacts": mh_table,
        "substance_treatment": lambda: treatment(h[2], world),
        "childrens_social_care": lambda: social_care(care_seed, world, seen),
        "custodial_sentences": lambda: sentences(j[2], world),
        "school_roll": lambda: school_roll(np.random.default_rng(streams["school"]), world),
        "schools": lambda: schools(world),
        "postcode_areas": lambda: postcode_areas(ref_rng, world),
    }


@dataclass(frozen=True)
class _Noise:
    """The harsh noise stage: the profile, and a random stream per feed."""

    world: World
    profile: NoiseProfile
    seed: np.random.SeedSequence

    def streams(self) -> dict[str, np.random.SeedSequence]:
        return dict(zip(FEEDS, self.seed.spawn(len(FEEDS)), strict=True))


def _write_feeds(
    out: Path,
    defect_seed: np.random.SeedSequence,
    tables: dict[str, Callable[[], dict[str, np.ndarray]]],
    progress: Progress,
    world_ids: ObjArray,
    noise: _Noise | None,
) -> tuple[dict[str, int], list[tuple[str, str, str, str, str]], dict[str, dict[str, int]]]:
    rows: dict[str, int] = {}
    found: list[tuple[str, str, str, str, str]] = []
    kinds: dict[str, dict[str, int]] = {}
    records = out / "truth" / "records.csv"
    write_table(records, ("feed", "record_id", "person_id"), [])
    defect_rngs = dict(zip(FEEDS, defect_seed.spawn(len(FEEDS)), strict=True))
    noise_rngs = noise.streams() if noise is not None else {}
    errors_file = out / "truth" / "identity_errors.csv"
    if noise is not None:
        write_identity_errors(errors_file, "", blanks(0), ints(), append=False)
    for feed, contract in FEEDS.items():
        progress(f"Observing: {feed}", 0, None)
        table = tables[feed]()
        n = len(table["record_id"])
        if noise is not None and contract.person_level:
            rng = np.random.default_rng(noise_rngs[feed])
            apply_harsh(rng, world=noise.world, profile=noise.profile, feed=feed, table=table)
        if feed not in ("schools", "postcode_areas"):
            found += defect_mod.inject(np.random.default_rng(defect_rngs[feed]), feed, table)
        if noise is not None and contract.person_level:
            kinds[feed] = write_identity_errors(errors_file, feed, table["record_id"], table["_errors"], append=True)

        def tick(done: int, feed: str = feed, n: int = n) -> None:
            progress(f"Writing {feed}.csv", done, n)

        progress(f"Writing {feed}.csv", 0, n)
        rows[feed] = write_table(
            out / f"{feed}.csv", contract.column_names, [table[c] for c in contract.column_names], on_rows=tick
        )
        if contract.person_level:
            write_table(
                records,
                (),
                [np.full(n, feed, dtype=object), table["record_id"], world_ids[table["_pid"]]],
                append=True,
            )
        del table
    return rows, found, kinds
