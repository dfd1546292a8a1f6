"""Police incidents and the people named on them, gathered from every source, then numbered.

Incident references look like ``QXP-20230412-0345``: a fictional force code, the date, and the
incident's number that day. Every person row carries its incident's reference.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from commonground.contracts import codes
from commonground.synth.arrays import IntArray, ObjArray, blanks, ints, texts
from commonground.synth.feedrows import FeedRows
from commonground.synth.timeline import SECONDS_PER_DAY, format_seconds
from commonground.synth.world import World

FORCE = "QXP"
CATEGORY = {name: i for i, name in enumerate(codes.INCIDENT_CATEGORIES)}
ROLE = {name: i for i, name in enumerate(codes.INCIDENT_ROLES)}
TEAMS = ("Safeguarding Hub", "Response Team", "Neighbourhood Team", "Public Protection Unit", "Control Room")


@dataclass
class Incidents:
    """Incidents as they are added (each gets a key: its position), and the people named on them."""

    parts: list[dict[str, np.ndarray]] = field(default_factory=list)
    people: list[tuple[IntArray, IntArray, IntArray]] = field(default_factory=list)
    count: int = 0

    def add(
        self,
        *,
        seconds: IntArray,
        dwelling: IntArray,
        street: IntArray,
        category: str | IntArray,
        qualifiers: ObjArray,
        summary: ObjArray,
    ) -> IntArray:
        n = len(seconds)
        cat = np.full(n, CATEGORY[category], dtype=np.int64) if isinstance(category, str) else category
        self.parts.append(
            {
                "seconds": ints(seconds),
                "dwelling": ints(dwelling),
                "street": ints(street),
                "category": cat,
                "qualifiers": qualifiers,
                "summary": summary,
            }
        )
        keys = np.arange(self.count, self.count + n, dtype=np.int64)
        self.count += n
        return keys

    def name(self, key: IntArray, pid: IntArray, role: str | IntArray) -> None:
        r = np.full(len(key), ROLE[role], dtype=np.int64) if isinstance(role, str) else role
        self.people.append((ints(key), ints(pid), r))

    def finish(self, rng: np.random.Generator, world: World) -> tuple[dict[str, np.ndarray], ObjArray, FeedRows]:
        """The incidents feed, each key's incident reference, and the person rows (identity still to add)."""
        cols = {
            k: np.concatenate([p[k] for p in self.parts]) if self.parts else ints()
            for k in ("seconds", "dwelling", "street", "category")
        }
        for k in ("qualifiers", "summary"):
            cols[k] = np.concatenate([p[k] for p in self.parts]) if self.parts else blanks(0)
        n = self.count
        order = np.lexsort((np.arange(n), cols["seconds"]))
        seconds = cols["seconds"][order]
        day = seconds // SECONDS_PER_DAY
        first_of_day = np.searchsorted(day, day, side="left")
        number = np.arange(n) - first_of_day + 1
        stamp = np.datetime_as_string(day.astype("datetime64[D]")).astype(object) if n else blanks(0)
        ref_sorted = texts(
            [f"{FORCE}-{str(d).replace('-', '')}-{k:04d}" for d, k in zip(stamp.tolist(), number.tolist(), strict=True)]
        )
        ref_by_key = blanks(n)
        ref_by_key[order] = ref_sorted
        table = self._table(rng, world, {k: v[order] for k, v in cols.items()}, ref_sorted)
        persons = FeedRows("police_incident_persons")
        if self.people:
            key = np.concatenate([p[0] for p in self.people])
            pid = np.concatenate([p[1] for p in self.people])
            role = np.concatenate([p[2] for p in self.people])
            secs = cols["seconds"][key]
            persons.add(
                pid=pid,
                day=secs // SECONDS_PER_DAY,
                sort=secs,
                incident_id=ref_by_key[key],
                role=texts(list(codes.INCIDENT_ROLES))[role],
            )
        return table, ref_by_key, persons

    @staticmethod
    def _table(
        rng: np.random.Generator, world: World, cols: dict[str, np.ndarray], ref: ObjArray
    ) -> dict[str, np.ndarray]:
        area = world.area
        n = len(ref)
        dw = cols["dwelling"]
        at_home = dw >= 0
        street = np.where(at_home, area.dw_street[np.maximum(dw, 0)], cols["street"])
        pc = np.where(at_home, area.dw_postcode[np.maximum(dw, 0)], area.street_postcode[np.maximum(street, 0)])
        postcode = area.pc_code[pc].astype(object) if n else blanks(0)
        postcode[rng.random(n) < 0.03] = ""
        address = np.where(at_home, area.dw_address[np.maximum(dw, 0)], area.street_name[np.maximum(street, 0)])
        address = address.astype(object) if n else blanks(0)
        uprn = np.where(at_home & (rng.random(n) < 0.75), area.dw_uprn[np.maximum(dw, 0)], "").astype(object)
        officer = texts(
            [
                f"PC {c}, {TEAMS[t]}, 01632 960{k:03d}"
                for c, t, k in zip(
                    rng.integers(1000, 9999, size=n).tolist(),
                    rng.integers(0, len(TEAMS), size=n).tolist(),
                    rng.integers(0, 1000, size=n).tolist(),
                    strict=True,
                )
            ]
        )
        return {
            "record_id": texts([f"PI-{i + 1:08d}" for i in range(n)]),
            "incident_id": ref,
            "occurred_at": format_seconds(cols["seconds"]),
            "postcode": postcode,
            "address": address,
            "uprn": uprn if n else blanks(0),
            "category": texts(list(codes.INCIDENT_CATEGORIES))[cols["category"]] if n else blanks(0),
            "qualifiers": cols["qualifiers"],
            "summary": cols["summary"],
            "officer_contact": officer,
        }


def qualifier_cells(flags: dict[str, np.ndarray], n: int) -> ObjArray:
    """``;``-separated qualifier lists from boolean columns, in the contract's order."""
    out = blanks(n)
    parts = [(name, np.asarray(flags[name], dtype=bool)) for name in codes.INCIDENT_QUALIFIERS if name in flags]
    if not parts:
        return out
    lists: list[list[str]] = [[] for _ in range(n)]
    for name, mask in parts:
        for i in np.flatnonzero(mask).tolist():
            lists[i].append(name)
    out[:] = [";".join(x) for x in lists]
    return out
