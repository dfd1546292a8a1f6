"""The fictional place: streets, dwellings with UPRNs, postcodes, small areas with a deprivation decile, schools.

Postcodes use the area letters QX (then QY, QZ, QW... for very large areas): validly formed under the
UK grammar the contracts check, but no real UK postcode area starts with Q, so no synthetic
address can be mistaken for a real one. Small areas play the part of LSOAs (about 1,500
residents each) and carry an index-of-deprivation decile that varies smoothly across the town.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from commonground.synth.arrays import IntArray, ObjArray, ints, texts
from commonground.synth.names import NameBook
from commonground.synth.schools import build_schools

AREA_LETTERS = ("QX", "QY", "QZ", "QW", "QV", "QU", "QT", "QS")  # one per 99 districts
UNIT_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"  # the letters real inward codes use
DWELLINGS_PER_SECTOR = 1_500
SECTORS_PER_DISTRICT = 10
DWELLINGS_PER_SMALL_AREA = 720  # about 1,500 residents at 2.36 per household, plus vacant homes

STREET_STEMS = (
    "Acacia",
    "Albert",
    "Alexandra",
    "Ash",
    "Beech",
    "Birch",
    "Bridge",
    "Castle",
    "Cedar",
    "Chapel",
    "Cherry",
    "Chestnut",
    "Church",
    "Clarence",
    "Elm",
    "George",
    "Green",
    "Highfield",
    "Hill",
    "Holly",
    "Kings",
    "Lime",
    "Manor",
    "Maple",
    "Market",
    "Meadow",
    "Mill",
    "New",
    "North",
    "Oak",
    "Orchard",
    "Park",
    "Pine",
    "Princes",
    "Queens",
    "Railway",
    "Rectory",
    "Richmond",
    "School",
    "South",
    "Springfield",
    "Station",
    "Victoria",
    "West",
    "Willow",
    "Windsor",
    "York",
    "Brook",
    "Canal",
    "Chantry",
    "Cromwell",
    "Fairfield",
    "Fountain",
    "Glebe",
    "Hazel",
    "Heath",
    "Hollins",
    "Jubilee",
    "Laburnum",
    "Larch",
    "Linden",
    "Marlborough",
    "Mount",
    "Nelson",
    "Nursery",
    "Osborne",
    "Poplar",
    "Priory",
    "Regent",
    "Rowan",
    "Sandy",
    "Stanley",
    "Sycamore",
    "Talbot",
    "Tennyson",
    "Trinity",
    "Vicarage",
    "Walnut",
    "Wellington",
    "Wharf",
    "Whitby",
    "Wordsworth",
    "Yew",
    "Alder",
    "Bank",
    "Beacon",
    "Coronation",
    "Dale",
    "Ferndale",
    "Foxglove",
    "Gladstone",
    "Hampton",
    "Heather",
    "Kestrel",
    "Lark",
    "Moor",
    "Primrose",
    "Quarry",
    "Ravenscroft",
    "St Anne's",
    "St Mary's",
)
STREET_SUFFIXES = (
    "Road",
    "Street",
    "Lane",
    "Close",
    "Avenue",
    "Drive",
    "Way",
    "Crescent",
    "Gardens",
    "Grove",
    "Place",
    "Terrace",
    "Court",
    "Rise",
    "View",
    "Walk",
)


@dataclass(frozen=True)
class Area:
    """Every place in the area, as parallel arrays."""

    dw_uprn: ObjArray
    dw_address: ObjArray
    dw_postcode: IntArray
    dw_street: IntArray
    dw_small_area: IntArray
    pc_code: ObjArray
    pc_small_area: IntArray
    sa_code: ObjArray
    sa_decile: IntArray
    sa_primary: IntArray
    sa_secondary: IntArray
    street_name: ObjArray
    street_postcode: IntArray
    school_urn: ObjArray
    school_name: ObjArray
    school_phase: ObjArray
    school_postcode: IntArray
    school_dsl_name: ObjArray
    school_dsl_email: ObjArray

    @property
    def dw_decile(self) -> IntArray:
        return self.sa_decile[self.dw_small_area]


def build_area(rng: np.random.Generator, *, households: int, people: int, names: NameBook) -> Area:
    """Lay out enough dwellings for ``households`` households plus room to move and split."""
    n_dw = int(households * 1.2) + 40
    street_sizes = _street_sizes(rng, n_dw)
    dw_street = np.repeat(np.arange(len(street_sizes), dtype=np.int64), street_sizes)
    house_no, flat_no = _numbering(rng, street_sizes)
    street_name = _street_names(rng, len(street_sizes))
    addresses = [
        (f"Flat {f}, {h} {street_name[s]}" if f else f"{h} {street_name[s]}")
        for s, h, f in zip(dw_street.tolist(), house_no.tolist(), flat_no.tolist(), strict=True)
    ]
    dw_postcode, pc_code, pc_first = _postcodes(rng, dw_street, street_sizes)
    dw_small_area = _small_areas(dw_street, street_sizes)
    n_sa = int(dw_small_area.max()) + 1
    pc_small_area = dw_small_area[pc_first]
    street_first = np.cumsum(street_sizes) - street_sizes
    uprn = 100_000_000_000 + rng.choice(899_999_999_999, size=n_dw, replace=False)
    schools = build_schools(rng, n_sa=n_sa, people=people, names=names, pc_small_area=pc_small_area)
    return Area(
        dw_uprn=texts([str(u) for u in uprn.tolist()]),
        dw_address=texts(addresses),
        dw_postcode=dw_postcode,
        dw_street=dw_street,
        dw_small_area=dw_small_area,
        pc_code=pc_code,
        pc_small_area=pc_small_area,
        sa_code=texts([f"Q01{i + 1:06d}" for i in range(n_sa)]),
        sa_decile=_deciles(rng, n_sa),
        sa_primary=schools.sa_primary,
        sa_secondary=schools.sa_secondary,
        street_name=street_name,
        street_postcode=dw_postcode[street_first],
        school_urn=schools.urn,
        school_name=schools.name,
        school_phase=schools.phase,
        school_postcode=schools.postcode,
        school_dsl_name=schools.dsl_name,
        school_dsl_email=schools.dsl_email,
    )


def _street_sizes(rng: np.random.Generator, n_dw: int) -> IntArray:
    sizes: list[int] = []
    total = 0
    draws = np.clip(rng.lognormal(np.log(38), 0.6, size=n_dw // 8 + 16), 6, 240).astype(np.int64)
    for s in draws.tolist():
        s = min(s, n_dw - total)
        sizes.append(s)
        total += s
        if total >= n_dw:
            break
    while total < n_dw:  # very rare: the draws ran out
        sizes.append(min(40, n_dw - total))
        total += sizes[-1]
    return ints(sizes)


def _numbering(rng: np.random.Generator, street_sizes: IntArray) -> tuple[IntArray, IntArray]:
    """House numbers along each street; about one street in eight is blocks of flats."""
    flats = rng.random(len(street_sizes)) < 0.12
    per_block = rng.integers(4, 13, size=len(street_sizes))
    _, pos = _positions(street_sizes)
    street = np.repeat(np.arange(len(street_sizes)), street_sizes)
    is_flat = flats[street]
    block = pos // per_block[street]
    house = np.where(is_flat, 1 + 2 * block, 1 + pos)
    flat = np.where(is_flat, 1 + pos % per_block[street], 0)
    return house.astype(np.int64), flat.astype(np.int64)


def _positions(sizes: IntArray) -> tuple[IntArray, IntArray]:
    owner = np.repeat(np.arange(len(sizes), dtype=np.int64), sizes)
    starts = np.cumsum(sizes) - sizes
    return owner, np.arange(len(owner), dtype=np.int64) - np.repeat(starts, sizes)


def _street_names(rng: np.random.Generator, n: int) -> ObjArray:
    combos = [f"{a} {b}" for a in STREET_STEMS for b in STREET_SUFFIXES]
    order = rng.permutation(len(combos))
    # A big town repeats street names in different districts, as real towns do.
    return texts([combos[order[i % len(combos)]] for i in range(n)])


def _postcodes(
    rng: np.random.Generator, dw_street: IntArray, street_sizes: IntArray
) -> tuple[IntArray, ObjArray, IntArray]:
    """Runs of about 15 dwellings on one street share a postcode; sectors and districts fill up in order."""
    n_dw = len(dw_street)
    run = np.clip(rng.normal(15, 5, size=n_dw // 4 + 8), 6, 30).astype(np.int64)
    _, pos = _positions(street_sizes)
    new_pc = np.zeros(n_dw, dtype=bool)
    # a new postcode at each street start and every run-length dwellings along a street
    street_run = run[dw_street % len(run)]
    new_pc |= pos % street_run == 0
    dw_postcode = np.cumsum(new_pc) - 1
    pc_first = np.flatnonzero(new_pc)
    sector_of_pc = (pc_first // DWELLINGS_PER_SECTOR).astype(np.int64)
    units = [f"{a}{b}" for a in UNIT_LETTERS for b in UNIT_LETTERS]
    unit_order = rng.permutation(len(units))
    codes: list[str] = []
    seen_in_sector = 0
    last_sector = -1
    for sector in sector_of_pc.tolist():
        if sector != last_sector:
            seen_in_sector, last_sector = 0, sector
        district = sector // SECTORS_PER_DISTRICT
        letters = AREA_LETTERS[min(district // 99, len(AREA_LETTERS) - 1)]
        outward = f"{letters}{district % 99 + 1}"
        inward = f"{sector % SECTORS_PER_DISTRICT}{units[unit_order[seen_in_sector % len(units)]]}"
        codes.append(f"{outward} {inward}")
        seen_in_sector += 1
    return dw_postcode.astype(np.int64), texts(codes), pc_first.astype(np.int64)


def _small_areas(dw_street: IntArray, street_sizes: IntArray) -> IntArray:
    """Whole streets grouped in order until each small area holds about 720 dwellings."""
    sa_of_street = np.zeros(len(street_sizes), dtype=np.int64)
    current, filled = 0, 0
    for i, s in enumerate(street_sizes.tolist()):
        if filled >= DWELLINGS_PER_SMALL_AREA:
            current, filled = current + 1, 0
        sa_of_street[i] = current
        filled += s
    return sa_of_street[dw_street]


def _deciles(rng: np.random.Generator, n: int) -> IntArray:
    """Deprivation deciles (1 most deprived) that cluster: neighbouring areas are alike."""
    z = np.zeros(n)
    noise = rng.normal(size=n)
    for i in range(n):
        z[i] = (0.75 * z[i - 1] if i else 0.0) + noise[i]
    rank = np.argsort(np.argsort(z, kind="stable"), kind="stable")
    jittered = (rank + rng.random(n)) * 10 / max(n, 1)
    return (1 + np.minimum(jittered, 9.999)).astype(np.int64)
