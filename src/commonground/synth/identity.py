"""The identity block of each record as the partner holds it: the truth, seen through that partner's errors.

Each feed has an :class:`ErrorProfile`: how often its records carry a nickname, a keying
error, swapped names, a transposed or off-by-one date of birth, an unknown sex, an address
from before the person moved, no fixed abode, an NHS number (and how often someone else's), a
UPRN, upper-case surnames, or names stripped of accents. Every error here leaves a *valid*
value: broken values are the business of :mod:`commonground.synth.defects`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from commonground.synth.arrays import BoolArray, IntArray, ObjArray, blanks
from commonground.synth.feedrows import FeedRows
from commonground.synth.names import typo
from commonground.synth.noise import BIT
from commonground.synth.timeline import T1, civil, format_days, from_civil
from commonground.synth.world import World


@dataclass(frozen=True)
class ErrorProfile:
    typo: float = 0.02
    nickname: float = 0.03
    swap_names: float = 0.005
    dob_transposed: float = 0.008
    dob_year: float = 0.004
    sex_unknown: float = 0.005
    stale_address: float = 0.2  # of records within a year of a move
    no_fixed_abode: float = 0.005
    postcode_missing: float = 0.01
    nhs_present: float = 0.0
    nhs_other_person: float = 0.0  # of present NHS numbers: a family member's
    uprn_present: float = 0.3
    upper_family: float = 0.0
    ascii_only: float = 0.3
    stale_name: float = 0.3  # of records after a change of name
    address_abbreviated: float = 0.05


P = ErrorProfile
PROFILES: dict[str, ErrorProfile] = {
    "police_incident_persons": P(
        typo=0.03,
        nickname=0.06,
        swap_names=0.01,
        dob_transposed=0.012,
        dob_year=0.008,
        sex_unknown=0.02,
        stale_address=0.25,
        no_fixed_abode=0.01,
        postcode_missing=0.03,
        nhs_present=0.02,
        uprn_present=0.3,
        upper_family=0.6,
        ascii_only=0.5,
        stale_name=0.5,
        address_abbreviated=0.15,
    ),
    "custody_records": P(
        typo=0.02,
        nickname=0.05,
        swap_names=0.01,
        dob_transposed=0.01,
        dob_year=0.005,
        sex_unknown=0.005,
        stale_address=0.3,
        no_fixed_abode=0.04,
        postcode_missing=0.02,
        nhs_present=0.05,
        uprn_present=0.2,
        upper_family=1.0,
        ascii_only=0.8,
        stale_name=0.4,
        address_abbreviated=0.15,
    ),
    "missing_episodes": P(
        typo=0.02,
        nickname=0.08,
        dob_transposed=0.008,
        dob_year=0.004,
        stale_address=0.1,
        no_fixed_abode=0.0,
        nhs_present=0.05,
        uprn_present=0.5,
        upper_family=0.5,
        ascii_only=0.5,
    ),
    "street_triage": P(
        typo=0.03,
        nickname=0.06,
        swap_names=0.01,
        dob_transposed=0.01,
        dob_year=0.01,
        sex_unknown=0.03,
        stale_address=0.25,
        no_fixed_abode=0.05,
        postcode_missing=0.05,
        nhs_present=0.5,
        nhs_other_person=0.002,
        uprn_present=0.1,
    ),
    "ed_attendances": P(
        typo=0.015,
        nickname=0.02,
        swap_names=0.003,
        dob_transposed=0.005,
        dob_year=0.003,
        sex_unknown=0.002,
        stale_address=0.15,
        no_fixed_abode=0.01,
        postcode_missing=0.01,
        nhs_present=0.95,
        nhs_other_person=0.003,
        uprn_present=0.0,
        ascii_only=0.2,
        stale_name=0.2,
    ),
    "mental_health_contacts": P(
        typo=0.01,
        nickname=0.02,
        swap_names=0.003,
        dob_transposed=0.004,
        dob_year=0.002,
        sex_unknown=0.002,
        stale_address=0.1,
        no_fixed_abode=0.02,
        nhs_present=0.98,
        nhs_other_person=0.002,
        uprn_present=0.3,
        ascii_only=0.0,
        stale_name=0.15,
    ),
    "substance_treatment": P(
        typo=0.02,
        nickname=0.05,
        dob_transposed=0.01,
        dob_year=0.005,
        stale_address=0.15,
        no_fixed_abode=0.08,
        postcode_missing=0.03,
        nhs_present=0.75,
        nhs_other_person=0.002,
        uprn_present=0.2,
        stale_name=0.2,
    ),
    "childrens_social_care": P(
        typo=0.015,
        nickname=0.03,
        dob_transposed=0.006,
        dob_year=0.004,
        sex_unknown=0.003,
        stale_address=0.1,
        no_fixed_abode=0.0,
        nhs_present=0.6,
        nhs_other_person=0.005,
        uprn_present=0.7,
        ascii_only=0.0,
        stale_name=0.2,
    ),
    "custodial_sentences": P(
        typo=0.02,
        nickname=0.03,
        swap_names=0.01,
        dob_transposed=0.008,
        dob_year=0.005,
        sex_unknown=0.0,
        stale_address=0.3,
        no_fixed_abode=0.1,
        postcode_missing=0.05,
        nhs_present=0.15,
        uprn_present=0.05,
        upper_family=1.0,
        ascii_only=1.0,
    ),
    "school_roll": P(
        typo=0.005,
        nickname=0.01,
        swap_names=0.002,
        dob_transposed=0.003,
        dob_year=0.002,
        sex_unknown=0.001,
        stale_address=0.05,
        no_fixed_abode=0.0,
        postcode_missing=0.005,
        nhs_present=0.0,
        uprn_present=0.6,
        ascii_only=0.0,
        stale_name=0.1,
        address_abbreviated=0.0,
    ),
}
NFA_TEXT = ("NO FIXED ABODE", "No fixed abode", "NFA")
ABBREVIATIONS = (
    (" Road", " Rd"),
    (" Street", " St"),
    (" Avenue", " Ave"),
    (" Crescent", " Cres"),
    (" Close", " Cl"),
    (" Drive", " Dr"),
    (" Gardens", " Gdns"),
    (" Lane", " Ln"),
)


def identity_block(
    rng: np.random.Generator,
    world: World,
    profile: ErrorProfile,
    pid: IntArray,
    day: IntArray,
    *,
    nfa_boost: BoolArray | None = None,
) -> dict[str, ObjArray]:
    """The eight identity columns for people ``pid`` as known on ``day``."""
    columns, _ = identity_with_errors(rng, world, profile, pid, day, nfa_boost=nfa_boost)
    return columns


def identity_with_errors(
    rng: np.random.Generator,
    world: World,
    profile: ErrorProfile,
    pid: IntArray,
    day: IntArray,
    *,
    nfa_boost: BoolArray | None = None,
) -> tuple[dict[str, ObjArray], IntArray]:
    """The identity columns and, per row, the kinds of error made (bits of :data:`commonground.synth.noise.BIT`).

    Recording the kinds draws nothing: the columns are exactly those of :func:`identity_block`.
    """
    n = len(pid)
    errors = np.zeros(n, dtype=np.int64)
    given, family = _names(rng, world, profile, pid, day, errors)
    dob = _dob(rng, world, profile, pid, errors)
    sex = np.where(world.dyn.sex[pid] == 0, "F", "M").astype(object)
    unknown = rng.random(n) < profile.sex_unknown
    sex[unknown] = "U"
    errors[unknown] |= BIT["sex_unknown"]
    postcode, address, uprn = _address(rng, world, profile, pid, day, nfa_boost, errors)
    columns = {
        "given_name": given,
        "family_name": family,
        "date_of_birth": dob,
        "sex": sex,
        "postcode": postcode,
        "address": address,
        "nhs_number": _nhs(rng, world, profile, pid, errors),
        "uprn": uprn,
    }
    return columns, errors


def _names(
    rng: np.random.Generator, world: World, p: ErrorProfile, pid: IntArray, day: IntArray, errors: IntArray
) -> tuple[ObjArray, ObjArray]:
    n = len(pid)
    dyn, names = world.dyn, world.names
    changed = dyn.family_changed[pid] <= day
    use_later = changed & (rng.random(n) >= p.stale_name)
    fam = np.where(use_later, dyn.family_later[pid], dyn.family[pid])
    errors[changed & ~use_later & (dyn.family_later[pid] != dyn.family[pid])] |= BIT["old_surname"]
    giv = world.given[pid].copy()
    counts = names.has_variants(giv)
    nick = (rng.random(n) < p.nickname) & (counts > 0)
    choice = (rng.random(n) * np.maximum(counts, 1)).astype(np.int64)
    giv[nick] = names.variant_idx[names.variant_ptr[giv[nick]] + choice[nick]]
    errors[nick] |= BIT["nickname"]
    ascii_mask = rng.random(n) < p.ascii_only
    given = np.where(ascii_mask, names.given_ascii[giv], names.given[giv]).astype(object)
    family = np.where(ascii_mask, names.family_ascii[fam], names.family[fam]).astype(object)
    upper = np.flatnonzero(rng.random(n) < p.upper_family)
    family[upper] = [str(f).upper() for f in family[upper]]
    typos = np.flatnonzero(rng.random(n) < p.typo)
    u = rng.random((len(typos), 3))
    for i, (a, b, c) in zip(typos.tolist(), u.tolist(), strict=True):
        before = (given[i], family[i])
        if a < 0.5:
            given[i] = typo(str(given[i]), b, c)
        else:
            family[i] = typo(str(family[i]), b, c)
        if (given[i], family[i]) != before:
            errors[i] |= BIT["typo"]
    swap = rng.random(n) < p.swap_names
    given[swap], family[swap] = family[swap], given[swap].copy()
    errors[swap] |= BIT["name_swap"]
    return given, family


def _dob(rng: np.random.Generator, world: World, p: ErrorProfile, pid: IntArray, errors: IntArray) -> ObjArray:
    n = len(pid)
    dob = world.dyn.dob[pid].copy()
    y, m, d = civil(dob)
    transposed = (rng.random(n) < p.dob_transposed) & (d <= 12) & (d != m)
    t_day = from_civil(y, np.where(transposed, d, m), np.where(transposed, m, d))
    dob = np.where(transposed & (t_day < T1), t_day, dob)
    errors[transposed & (t_day < T1)] |= BIT["dob_swap"]
    shift = np.where(rng.random(n) < 0.5, -1, 1)
    off_year = (rng.random(n) < p.dob_year) & ~((m == 2) & (d == 29)) & ~transposed
    y_day = from_civil(y + shift, m, d)
    dob = np.where(off_year & (y_day < T1), y_day, dob)
    errors[off_year & (y_day < T1)] |= BIT["dob_year"]
    out = world.dob_text[pid]  # the true date, formatted once per person
    wrong = np.flatnonzero(dob != world.dyn.dob[pid])
    out[wrong] = format_days(dob[wrong])
    return out


def _address(
    rng: np.random.Generator,
    world: World,
    p: ErrorProfile,
    pid: IntArray,
    day: IntArray,
    nfa_boost: BoolArray | None,
    errors: IntArray,
) -> tuple[ObjArray, ObjArray, ObjArray]:
    n = len(pid)
    res, area = world.res, world.area
    sp = res.spell_at(pid, day)
    ok = sp >= 0
    s = np.maximum(sp, 0)
    dw = np.where(ok, res.sp_dw[s], 0)
    recent = ok & (res.sp_prev_dw[s] >= 0) & (day - res.sp_moved_in[s] < 365)
    stale = recent & (rng.random(n) < p.stale_address)
    dw = np.where(stale, res.sp_prev_dw[s], dw)
    nfa_p = np.where(nfa_boost, 0.4, p.no_fixed_abode) if nfa_boost is not None else p.no_fixed_abode
    adult = world.dyn.dob[pid] + 6575 <= day  # children are never recorded as of no fixed abode
    nfa = ~ok | ((rng.random(n) < nfa_p) & adult)
    postcode = area.pc_code[area.dw_postcode[dw]].astype(object)
    address = area.dw_address[dw].astype(object)
    uprn = area.dw_uprn[dw].astype(object)
    uprn[rng.random(n) >= p.uprn_present] = ""
    no_postcode = rng.random(n) < p.postcode_missing
    postcode[no_postcode] = ""
    abbreviate = np.flatnonzero(rng.random(n) < p.address_abbreviated)
    for i in abbreviate.tolist():
        text = str(address[i])
        for long, short in ABBREVIATIONS:
            if text.endswith(long):
                address[i] = text[: -len(long)] + short
                errors[i] |= BIT["abbreviation"]
                break
    errors[stale & ~nfa] |= BIT["move"]
    errors[no_postcode & ~nfa] |= BIT["postcode_missing"]
    errors[nfa & ok] |= BIT["no_fixed_abode"]
    errors[nfa] &= ~BIT["abbreviation"]
    nfa_idx = np.flatnonzero(nfa)
    postcode[nfa_idx] = ""
    uprn[nfa_idx] = ""
    address[nfa_idx] = np.asarray(NFA_TEXT, dtype=object)[rng.integers(0, len(NFA_TEXT), size=len(nfa_idx))]
    return postcode, address, uprn


def _nhs(rng: np.random.Generator, world: World, p: ErrorProfile, pid: IntArray, errors: IntArray) -> ObjArray:
    n = len(pid)
    out = blanks(n)
    present = rng.random(n) < p.nhs_present
    out[present] = world.nhs[pid[present]]
    # Someone else's number: usually the mother's (a baby on its mother's record), else a random person's.
    other = present & (rng.random(n) < p.nhs_other_person)
    mum = world.dyn.mother[pid]
    someone = np.where(mum >= 0, mum, rng.integers(0, world.n_people, size=n))
    someone = np.where(someone == pid, (pid + 1) % world.n_people, someone)
    out[other] = world.nhs[someone[other]]
    errors[other] |= BIT["nhs_other_person"]
    return out


def finalize(
    rng: np.random.Generator,
    world: World,
    rows: FeedRows,
    ids: Callable[[IntArray, IntArray], ObjArray],
    *,
    homeless: BoolArray | None = None,
) -> dict[str, np.ndarray]:
    """A person-level feed's rows in order, numbered, with each row's identity block filled in.

    ``homeless`` marks people (by person index) who are often recorded with no fixed abode.
    """
    table = rows.finish(ids)
    pid, day = table["_pid"], table["_day"]
    boost = homeless[pid] if homeless is not None else None
    columns, errors = identity_with_errors(rng, world, PROFILES[rows.contract.name], pid, day, nfa_boost=boost)
    table.update(columns)
    table["_errors"] = errors
    return table
