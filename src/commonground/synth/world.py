"""Everything that really happened in the synthetic area, bundled for the observation stage."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from commonground.synth.adults import Adults
from commonground.synth.area import Area
from commonground.synth.arrays import BoolArray, FloatArray, IntArray, ObjArray, texts
from commonground.synth.children import Harm, HouseholdFlags
from commonground.synth.dynamics import Dynamics
from commonground.synth.missing import Missing
from commonground.synth.names import NameBook
from commonground.synth.residence import Pairs, Residence
from commonground.synth.timeline import T1, format_days, years


@dataclass(frozen=True)
class World:
    area: Area
    names: NameBook
    dyn: Dynamics
    res: Residence
    given: IntArray
    nhs: ObjArray
    risk: FloatArray
    adults: Adults
    harm: Harm
    missing: Missing
    pairs: Pairs
    flags: HouseholdFlags

    @cached_property
    def dob_text(self) -> ObjArray:
        """Each person's true date of birth as written in a feed."""
        return format_days(self.dyn.dob)

    @cached_property
    def person_id(self) -> ObjArray:
        """Each person's id in the truth files (``P0000001``)."""
        return texts([f"P{p + 1:07d}" for p in range(len(self.dyn.sex))])

    @property
    def n_people(self) -> int:
        return len(self.dyn.sex)

    def alive_on(self, pid: IntArray, day: IntArray) -> BoolArray:
        """Born by the day (nobody dies or leaves the area in the model)."""
        return np.asarray((self.dyn.dob[pid] <= day) & (day < T1), dtype=bool)

    def age_on(self, pid: IntArray, day: IntArray) -> FloatArray:
        return np.asarray((day - self.dyn.dob[pid]) / 365.25, dtype=np.float64)

    def is_child_on(self, pid: IntArray, day: IntArray) -> BoolArray:
        return np.asarray(self.dyn.dob[pid] + years(18) > day, dtype=bool)

    def children_with(self, pid: IntArray, day: IntArray) -> tuple[IntArray, IntArray]:
        """Children under 18 living in the same household as each person on the day.

        Returns (index into ``pid``, child).
        """
        seg = self.res.seg_at(pid, day)
        owner, other = self.res.members_of(seg)
        d = day[owner]
        keep = (other != pid[owner]) & (self.dyn.dob[other] + years(18) > d) & (self.dyn.dob[other] <= d)
        return owner[keep], other[keep]

    def adults_with(self, pid: IntArray, day: IntArray) -> tuple[IntArray, IntArray]:
        """Adults living in the same household as each person on the day: (index into ``pid``, adult)."""
        seg = self.res.seg_at(pid, day)
        owner, other = self.res.members_of(seg)
        keep = (other != pid[owner]) & (self.dyn.dob[other] + years(18) <= day[owner])
        return owner[keep], other[keep]
