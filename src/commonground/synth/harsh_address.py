"""The harsh profile's address errors, and school-roll enrolments seen on one termly extract only.

Addresses: a blank address (a gap in what the partners know of where someone lived), the
address before a move of up to two years ago, another address in the town (staying with
someone), road types and flat prefixes abbreviated, and case and punctuation varied. The
default profile's abbreviations (``identity.ABBREVIATIONS``) are extended here by a few
road types it never shortens.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from commonground.synth.arrays import BoolArray, IntArray, ObjArray
from commonground.synth.identity import ABBREVIATIONS, PROFILES
from commonground.synth.noise import BIT
from commonground.synth.school import year_group
from commonground.synth.timeline import T0, T1, format_days, from_civil, years
from commonground.synth.world import World

if TYPE_CHECKING:
    from commonground.synth.harsh import Draws

ROAD_TYPES = (*ABBREVIATIONS, (" Grove", " Gr"), (" Place", " Pl"), (" Terrace", " Terr"), (" Court", " Ct"))
FLAT_FORMS = ("{f}/{rest}", "F{f} {rest}", "Flat {f} {rest}", "Apartment {f}, {rest}")
"""How ``Flat 2, 14 Albert Road`` is also written."""


def _has(errors: IntArray, kind: str) -> BoolArray:
    return np.asarray((errors & BIT[kind]) != 0, dtype=bool)


def _set_dwelling(world: World, table: dict[str, np.ndarray], rows: IntArray, dw: IntArray) -> None:
    """Write the address of dwelling ``dw`` into ``rows`` (keeping a blank postcode or UPRN blank)."""
    area = world.area
    table["address"][rows] = area.dw_address[dw]
    keep_pc = table["postcode"][rows] != ""
    table["postcode"][rows[keep_pc]] = area.pc_code[area.dw_postcode[dw[keep_pc]]]
    keep_uprn = table["uprn"][rows] != ""
    table["uprn"][rows[keep_uprn]] = area.dw_uprn[dw[keep_uprn]]


def abbreviate(text: str, u: float) -> str:
    """Road type and flat prefix written short (``u`` a uniform draw picks the forms); unchanged if neither fits."""
    out = text
    for long, short in ROAD_TYPES:
        if out.endswith(long):
            out = out[: -len(long)] + (short.lower() if u < 0.3 else short)
            break
    if out.startswith("Flat ") and ", " in out:
        flat, rest = out[5:].split(", ", 1)
        out = FLAT_FORMS[int(u * 997) % len(FLAT_FORMS)].format(f=flat, rest=rest)
    return out


def reformat(text: str, u: float) -> str:
    """The same address in another case or punctuation; unchanged if the variant would be the same."""
    kind = int(u * 4)
    if kind == 0:
        return text.upper()
    if kind == 1:
        return text.lower()
    if kind == 2:
        if "," in text:
            return text.replace(",", "")
        number, _, street = text.partition(" ")
        return f"{number}, {street}" if street and number[:1].isdigit() else text.upper()
    words = text.split(" ")
    short = {s.strip() for _, s in ROAD_TYPES}
    if words and words[-1] in short:
        return text + "."
    return text.lower()


def address_noise(draws: Draws, *, world: World, feed: str, table: dict[str, np.ndarray]) -> None:
    default = PROFILES[feed]
    errors: IntArray = table["_errors"]
    pid, day = table["_pid"], table["_day"]
    res = world.res
    n = draws.n
    for column in ("address", "postcode", "uprn"):
        table[column] = np.asarray(table[column], dtype=object).copy()
    nfa = _has(errors, "no_fixed_abode") | (table["address"] == "")
    move_bits = BIT["move"] | BIT["abbreviation"] | BIT["postcode_missing"]

    blank = draws.pick("address_missing", ~nfa)
    for column in ("address", "postcode", "uprn"):
        table[column][blank] = ""
    errors[blank] = (errors[blank] & ~move_bits) | BIT["address_missing"]
    has_address = ~nfa & ~blank

    sp = res.spell_at(pid, day)
    s = np.maximum(sp, 0)
    since = day - res.sp_moved_in[s]
    recent = (sp >= 0) & (res.sp_prev_dw[s] >= 0) & (since < draws.profile.move_window_days)
    already = np.where(since < 365, default.stale_address, 0.0)
    move = draws.pick("move", has_address & recent & ~_has(errors, "move"), already)
    rows = np.flatnonzero(move)
    _set_dwelling(world, table, rows, res.sp_prev_dw[s[rows]])
    errors[move] = (errors[move] & ~BIT["abbreviation"]) | BIT["move"]

    adult = world.dyn.dob[pid] + years(18) <= day
    other_dw = draws.rng.integers(0, len(world.area.dw_uprn), size=n)
    own = np.where(sp >= 0, res.sp_dw[s], -1)
    temporary = draws.pick("temporary_address", has_address & adult & ~move & (other_dw != own))
    rows = np.flatnonzero(temporary)
    _set_dwelling(world, table, rows, other_dw[rows])
    errors[temporary] = (errors[temporary] & ~BIT["abbreviation"]) | BIT["temporary_address"]

    texts = table["address"]
    u = draws.rng.random((n, 2))
    can_short = np.array([abbreviate(str(t), 0.5) != t for t in texts.tolist()], dtype=bool)
    # The default profile shortens only its own road types: on other addresses it has made no abbreviation.
    by_default = np.array([str(t).endswith(tuple(long for long, _ in ABBREVIATIONS)) for t in texts.tolist()])
    already = np.where(by_default, default.address_abbreviated, 0.0)
    short = draws.pick("abbreviation", has_address & can_short & ~_has(errors, "abbreviation"), already)
    for i in np.flatnonzero(short).tolist():
        texts[i] = abbreviate(str(texts[i]), float(u[i, 0]))
    errors[short] |= BIT["abbreviation"]

    fmt = draws.pick("address_format", has_address)
    for i in np.flatnonzero(fmt).tolist():
        before = str(texts[i])
        texts[i] = reformat(before, float(u[i, 1]))
        if texts[i] != before:
            errors[i] |= BIT["address_format"]


def census_days() -> IntArray:
    """School census days from 2019 to 2027: the first Thursday of October, the third of January and of May."""
    days = []
    for year in range(2019, 2028):
        for month, week in ((1, 2), (5, 2), (10, 0)):
            first = int(from_civil(np.array([year]), np.array([month]), np.array([1]))[0])
            days.append(first + (-first % 7) + 7 * week)  # day 0 (1970-01-01) was a Thursday
    return np.asarray(sorted(days), dtype=np.int64)


def single_extract(draws: Draws, *, world: World, table: dict[str, np.ndarray]) -> None:
    """Enrolments the local authority saw on one extract: dated that day, addressed as then, no leaving date."""
    n = draws.n
    days = census_days()
    start = _days(table["enrolled_on"], T0)
    end = _days(table["left_on"], T1)
    lo = np.searchsorted(days, np.maximum(start, T0), side="left")
    hi = np.searchsorted(days, np.minimum(end, T1), side="left")
    count = np.maximum(hi - lo, 0)
    u = draws.rng.random(n)
    chosen = draws.rng.random(n) < draws.profile.single_extract
    once = chosen & (count > 0)
    rows = np.flatnonzero(once)
    on = days[np.minimum(lo + (u * count).astype(np.int64), len(days) - 1)][rows]
    pid = table["_pid"][rows]
    table["enrolled_on"] = np.asarray(table["enrolled_on"], dtype=object).copy()
    table["left_on"] = np.asarray(table["left_on"], dtype=object).copy()
    table["year_group"] = np.asarray(table["year_group"], dtype=object).copy()
    table["enrolled_on"][rows] = format_days(on)
    table["left_on"][rows] = ""
    table["year_group"][rows] = year_group(world, pid, on)
    table["_day"] = table["_day"].copy()
    table["_day"][rows] = on
    dw = world.res.dwelling_at(pid, on)
    ok = dw >= 0
    for column in ("address", "postcode", "uprn"):
        table[column] = np.asarray(table[column], dtype=object).copy()
    _set_dwelling(world, table, rows[ok], dw[ok])
    errors: IntArray = table["_errors"]
    errors[rows] = (errors[rows] & ~(BIT["move"] | BIT["abbreviation"])) | BIT["single_extract"]


def _days(cells: ObjArray, blank: int) -> IntArray:
    out = np.full(len(cells), blank, dtype=np.int64)
    filled = np.flatnonzero(cells != "")
    if len(filled):
        out[filled] = np.array(cells[filled].tolist(), dtype="datetime64[D]").astype(np.int64)
    return out
