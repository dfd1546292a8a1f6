"""The harsh noise profile applied to a feed's finished rows: more errors, new kinds, and errors that cluster.

Runs after a person-level feed is observed (its default identity errors made and recorded in
the table's ``_errors`` bits) and before the deliberate defects, with a random stream of its
own, so the default area of a seed is untouched. Rates come from
:data:`commonground.synth.noise.HARSH`; where the default profile already makes a kind of error,
this tops it up to the profile's total. Every kind made is or-ed into ``_errors``.

Each kind draws one uniform number per row, in a fixed order, whatever the rates; a *hurried*
record (:attr:`NoiseProfile.cluster_share`) is :attr:`NoiseProfile.cluster_factor` times as
likely to get each kind, with the other records' chance lowered so that the total stays as stated.
"""

from __future__ import annotations

import numpy as np

from commonground.synth.arrays import BoolArray, FloatArray, IntArray, ObjArray
from commonground.synth.harsh_address import address_noise, single_extract
from commonground.synth.identity import PROFILES
from commonground.synth.names import typo
from commonground.synth.noise import BIT, DOB_BLANK_FEEDS, NoiseProfile
from commonground.synth.timeline import T1, civil, format_days, from_civil, years
from commonground.synth.world import World

ALIAS_NEW_GIVEN = 0.4
"""Share of aliases that change the given name as well as the family name."""


class Draws:
    """One feed's random draws: a uniform per row per kind, with the clustering applied."""

    def __init__(self, rng: np.random.Generator, profile: NoiseProfile, feed: str, n: int) -> None:
        self.rng = rng
        self.profile = profile
        self.noise = profile.feed(feed)
        self.n = n
        self.hurried = rng.random(n) < profile.cluster_share

    def chance(self, total: float, already: FloatArray | float = 0.0) -> FloatArray:
        """Each row's chance of getting a kind, so that with ``already`` (the default's rate) it reaches ``total``."""
        done = np.broadcast_to(np.asarray(already, dtype=np.float64), (self.n,))
        top = np.clip((total - done) / np.maximum(1.0 - done, 1e-9), 0.0, 1.0)
        h, m = self.profile.cluster_share, self.profile.cluster_factor
        p_hurried = np.minimum(1.0, m * top / (1.0 - h + h * m))
        p_other = np.clip((top - h * p_hurried) / max(1.0 - h, 1e-9), 0.0, 1.0)
        return np.where(self.hurried, p_hurried, p_other)

    def pick(self, kind: str, eligible: BoolArray, already: FloatArray | float = 0.0) -> BoolArray:
        """Rows (among ``eligible``) that get ``kind`` now; always draws one number per row."""
        u = self.rng.random(self.n)
        return np.asarray(eligible & (u < self.chance(self.noise.rate(kind), already)), dtype=bool)


def apply_harsh(
    rng: np.random.Generator, *, world: World, profile: NoiseProfile, feed: str, table: dict[str, np.ndarray]
) -> None:
    """Make the harsh profile's errors in one person-level feed's table, in place."""
    n = len(table["record_id"])
    if n == 0:
        return
    if "_errors" not in table:
        table["_errors"] = np.zeros(n, dtype=np.int64)
    draws = Draws(rng, profile, feed, n)
    if feed == "school_roll":
        single_extract(draws, world=world, table=table)
    _names(draws, world=world, feed=feed, table=table)
    _dates_of_birth(draws, world=world, feed=feed, table=table)
    address_noise(draws, world=world, feed=feed, table=table)
    _nhs(draws, table=table)


def _has(errors: IntArray, kind: str) -> BoolArray:
    return np.asarray((errors & BIT[kind]) != 0, dtype=bool)


def _names(draws: Draws, *, world: World, feed: str, table: dict[str, np.ndarray]) -> None:
    default = PROFILES[feed]
    errors: IntArray = table["_errors"]
    pid, day = table["_pid"], table["_day"]
    names, dyn = world.names, world.dyn
    swapped = _has(errors, "name_swap")
    # Work on the cells as given and family name, swapping back where the default profile swapped them.
    given = np.where(swapped, table["family_name"], table["given_name"]).astype(object)
    family = np.where(swapped, table["given_name"], table["family_name"]).astype(object)
    n = draws.n

    old_enough = dyn.dob[pid] + years(10) <= day
    alias = draws.pick("alias", old_enough)
    new_given = alias & (draws.rng.random(n) < ALIAS_NEW_GIVEN)
    idx = np.flatnonzero(alias)
    fam_idx = names.draw_family(draws.rng, dyn.group[pid[idx]])
    for _ in range(2):  # an alias is never one of the person's own family names (they have at most two)
        own = (fam_idx == dyn.family[pid[idx]]) | (fam_idx == dyn.family_later[pid[idx]])
        fam_idx = np.where(own, (fam_idx + 1) % len(names.family), fam_idx)
    upper = np.array([str(f).isupper() for f in family[idx]], dtype=bool)
    family[idx] = np.where(upper, [str(f).upper() for f in names.family[fam_idx]], names.family[fam_idx])
    g_idx = np.flatnonzero(new_given)
    birth_year = 1970 + dyn.dob[pid[g_idx]] // 365
    given[g_idx] = names.given[names.draw_given(draws.rng, dyn.group[pid[g_idx]], dyn.sex[pid[g_idx]], birth_year)]
    errors[alias] |= BIT["alias"]

    true_given = world.given[pid]
    counts = names.has_variants(true_given)
    as_recorded = (given == names.given[true_given]) | (given == names.given_ascii[true_given])
    nick = draws.pick("nickname", (counts > 0) & as_recorded & ~new_given & ~_has(errors, "nickname"), default.nickname)
    choice = (draws.rng.random(n) * np.maximum(counts, 1)).astype(np.int64)
    variant = names.variant_idx[names.variant_ptr[true_given] + np.where(nick, choice, 0)]
    given[nick] = names.given_ascii[variant[nick]]
    errors[nick] |= BIT["nickname"]

    typos = draws.pick("typo", ~_has(errors, "typo"), default.typo)
    u = draws.rng.random((n, 3))
    for i in np.flatnonzero(typos).tolist():
        a, b, c = u[i].tolist()
        before = (given[i], family[i])
        if a < 0.5:
            given[i] = typo(str(given[i]), b, c)
        else:
            family[i] = typo(str(family[i]), b, c)
        if (given[i], family[i]) != before:
            errors[i] |= BIT["typo"]

    swap = draws.pick("name_swap", ~swapped & (given != family), default.swap_names)
    errors[swap] |= BIT["name_swap"]
    final = swapped | swap
    table["given_name"] = np.where(final, family, given).astype(object)
    table["family_name"] = np.where(final, given, family).astype(object)


def _dates_of_birth(draws: Draws, *, world: World, feed: str, table: dict[str, np.ndarray]) -> None:
    default = PROFILES[feed]
    errors: IntArray = table["_errors"]
    cells: ObjArray = table["date_of_birth"]
    n = draws.n
    current = np.array([c or "1970-01-01" for c in cells.tolist()], dtype="datetime64[D]").astype(np.int64)
    changed = np.zeros(n, dtype=bool)

    missing = draws.pick("dob_missing", np.full(n, feed in DOB_BLANK_FEEDS))
    slips = BIT["dob_swap"] | BIT["dob_year"] | BIT["dob_day"]
    errors[missing] = (errors[missing] & ~slips) | BIT["dob_missing"]

    y, m, d = civil(current)
    swapped = from_civil(y, np.where(d <= 12, d, m), np.where(d <= 12, m, d))
    can_swap = ~missing & (d <= 12) & (d != m) & (swapped < T1) & ~_has(errors, "dob_swap")
    swap = draws.pick("dob_swap", can_swap, default.dob_transposed)
    current = np.where(swap, swapped, current)
    changed |= swap
    errors[swap] |= BIT["dob_swap"]

    y, m, d = civil(current)
    shift = np.where(draws.rng.random(n) < 0.5, -1, 1)
    leap_day = (m == 2) & (d == 29)
    moved = from_civil(y + shift, m, np.where(leap_day, 28, d))
    can_year = ~missing & ~leap_day & (moved < T1) & ~_has(errors, "dob_year")
    year = draws.pick("dob_year", can_year, default.dob_year)
    current = np.where(year, moved, current)
    changed |= year
    errors[year] |= BIT["dob_year"]

    step = np.where(draws.rng.random(n) < 0.5, -1, 1)
    can_day = ~missing & (current + step < T1)
    one_day = draws.pick("dob_day", can_day)
    current = np.where(one_day, current + step, current)
    changed |= one_day
    errors[one_day] |= BIT["dob_day"]

    out = cells.copy()
    idx = np.flatnonzero(changed & ~missing)
    out[idx] = format_days(current[idx])
    out[missing] = ""
    table["date_of_birth"] = out


def _nhs(draws: Draws, *, table: dict[str, np.ndarray]) -> None:
    errors: IntArray = table["_errors"]
    cells: ObjArray = table["nhs_number"].copy()
    blank = draws.pick("nhs_missing", cells != "")
    cells[blank] = ""
    errors[blank] = (errors[blank] & ~BIT["nhs_other_person"]) | BIT["nhs_missing"]
    table["nhs_number"] = cells
