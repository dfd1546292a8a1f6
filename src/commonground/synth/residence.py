"""Who lived where, with whom, when: lookups over the household segments of the simulation.

A *spell* is one person's membership of one segment. Spells are sorted by (person, start) and
never overlap, so "where did this person live on this day" is one binary search for a whole
array of (person, day) questions at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from commonground.synth.arrays import IntArray, expand, group_first, lookup_spell, spell_keys
from commonground.synth.dynamics import Dynamics
from commonground.synth.timeline import T0


@dataclass(frozen=True)
class Residence:
    seg_hh: IntArray
    seg_dw: IntArray
    seg_start: IntArray
    seg_end: IntArray
    mem_ptr: IntArray
    mem_pid: IntArray
    hh_since: IntArray
    sp_pid: IntArray
    sp_seg: IntArray
    sp_start: IntArray
    sp_end: IntArray
    sp_dw: IntArray
    sp_prev_dw: IntArray
    """The dwelling the person lived in before moving to this spell's dwelling (-1 if none seen)."""
    sp_moved_in: IntArray
    """The day the person moved into this spell's dwelling (the window start for the first one)."""
    sp_key: IntArray
    """Search keys of the spells (see :func:`commonground.synth.arrays.spell_keys`)."""

    def spell_at(self, pid: IntArray, day: IntArray) -> IntArray:
        """The spell covering each (person, day), or -1."""
        return lookup_spell(self.sp_pid, self.sp_start, self.sp_end, pid, day, self.sp_key)

    def seg_at(self, pid: IntArray, day: IntArray) -> IntArray:
        sp = self.spell_at(pid, day)
        return np.where(sp >= 0, self.sp_seg[np.maximum(sp, 0)], -1)

    def dwelling_at(self, pid: IntArray, day: IntArray) -> IntArray:
        sp = self.spell_at(pid, day)
        return np.where(sp >= 0, self.sp_dw[np.maximum(sp, 0)], -1)

    def household_at(self, pid: IntArray, day: IntArray) -> IntArray:
        seg = self.seg_at(pid, day)
        return np.where(seg >= 0, self.seg_hh[np.maximum(seg, 0)], -1)

    def members_of(self, seg: IntArray) -> tuple[IntArray, IntArray]:
        """Every member of each segment: (index into ``seg``, person). Segments of -1 have none."""
        ok = seg >= 0
        s = np.maximum(seg, 0)
        counts = np.where(ok, self.mem_ptr[s + 1] - self.mem_ptr[s], 0)
        owner, pos = expand(counts.astype(np.int64))
        return owner, self.mem_pid[self.mem_ptr[s[owner]] + pos]


@dataclass(frozen=True)
class Pairs:
    """A child and an adult living in the same household, and for how long (day range)."""

    child: IntArray
    adult: IntArray
    start: IntArray
    end: IntArray


def child_adult_pairs(res: Residence, dob: IntArray) -> Pairs:
    """Every (child under 18, adult of 18 or more) pair who lived together, with the period.

    For households already together at the window start, the period reaches back to when the
    household formed (its ``hh_since``), so that an adult's condition that began before the
    window is seen as the child's exposure from then.
    """
    adult_from = dob + 6575  # 18 years, by days (leap days do not matter at this scale)
    seg_of_member = np.repeat(np.arange(len(res.seg_hh), dtype=np.int64), np.diff(res.mem_ptr))
    kid = res.mem_pid
    is_child = adult_from[kid] > res.seg_start[seg_of_member]
    seg = seg_of_member[is_child]
    kid = kid[is_child]
    owner, other = res.members_of(seg)
    child = kid[owner]
    s = seg[owner]
    start = np.maximum(res.seg_start[s], adult_from[other])
    initial = res.seg_start[s] == T0
    early = np.maximum(np.maximum(res.hh_since[res.seg_hh[s]], dob[child]), adult_from[other])
    start = np.where(initial, early, start)
    end = np.minimum(res.seg_end[s], adult_from[child])
    keep = (other != child) & (start < end)
    return Pairs(child=child[keep], adult=other[keep], start=start[keep], end=end[keep])


def build_residence(dyn: Dynamics) -> Residence:
    counts = np.diff(dyn.mem_ptr)
    mem_seg = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
    start = dyn.seg_start[mem_seg]
    order = np.lexsort((start, dyn.mem_pid))
    sp_pid = dyn.mem_pid[order]
    sp_seg = mem_seg[order]
    sp_start = start[order]
    sp_dw = dyn.seg_dw[sp_seg]
    # Runs of consecutive spells in the same dwelling: the move-in day and the dwelling before.
    new_run = group_first(sp_pid) | np.concatenate([[True], sp_dw[1:] != sp_dw[:-1]])
    run_first = np.maximum.accumulate(np.where(new_run, np.arange(len(sp_pid)), 0))
    before = run_first - 1
    has_before = (before >= 0) & (sp_pid[np.maximum(before, 0)] == sp_pid)
    return Residence(
        seg_hh=dyn.seg_hh,
        seg_dw=dyn.seg_dw,
        seg_start=dyn.seg_start,
        seg_end=dyn.seg_end,
        mem_ptr=dyn.mem_ptr,
        mem_pid=dyn.mem_pid,
        hh_since=dyn.hh_since,
        sp_pid=sp_pid,
        sp_seg=sp_seg,
        sp_start=sp_start,
        sp_end=dyn.seg_end[sp_seg],
        sp_dw=sp_dw,
        sp_prev_dw=np.where(has_before, sp_dw[np.maximum(before, 0)], -1),
        sp_moved_in=sp_start[run_first],
        sp_key=spell_keys(sp_pid, sp_start),
    )
