"""Small vectorised helpers shared by the synth stages: array aliases, grouping and intervals.

Everything in the synthetic area is held as flat numpy arrays (one element per person, per
household spell, per record) rather than Python objects, so that a million people fit in a
few hundred megabytes and each stage runs in seconds.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
ObjArray = npt.NDArray[np.object_]


def ints(values: Sequence[int] | npt.ArrayLike = ()) -> IntArray:
    """An int64 array (the one integer type the synth uses)."""
    return np.asarray(values, dtype=np.int64)


def texts(values: Sequence[str] | npt.ArrayLike) -> ObjArray:
    """An object array of Python strings."""
    items = list(values)  # type: ignore[arg-type]
    out: ObjArray = np.empty(len(items), dtype=np.object_)
    out[:] = items
    return out


def blanks(n: int) -> ObjArray:
    """``n`` empty cells."""
    out = np.empty(n, dtype=object)
    out[:] = ""
    return out


def pick(vocab: ObjArray, index: IntArray) -> ObjArray:
    """Strings from a vocabulary by index; a negative index gives a blank cell."""
    if len(index) == 0:
        return blanks(0)
    if len(vocab) == 0:
        return blanks(len(index))
    out: ObjArray = vocab[np.maximum(index, 0)]
    if (index < 0).any():
        out = out.copy()
        out[index < 0] = ""
    return out


def choice(rng: np.random.Generator, n: int, probs: Sequence[float]) -> IntArray:
    """``n`` draws of category indices with the given (unnormalised) weights."""
    p = np.asarray(probs, dtype=np.float64)
    cum = np.cumsum(p / p.sum())
    cum[-1] = 1.0
    return np.searchsorted(cum, rng.random(n), side="right").astype(np.int64)


def expand(counts: IntArray) -> tuple[IntArray, IntArray]:
    """For each i repeated ``counts[i]`` times: the owner index and the position within the owner."""
    owner = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
    if len(owner) == 0:
        return owner, owner.copy()
    starts = np.cumsum(counts) - counts
    position = np.arange(len(owner), dtype=np.int64) - np.repeat(starts, counts)
    return owner, position


def poisson_times(
    rng: np.random.Generator, rate_per_day: FloatArray, start: IntArray, end: IntArray
) -> tuple[IntArray, IntArray]:
    """Event days of independent Poisson processes, one per row, on ``[start, end)``.

    Returns (row, day) for every event, sorted by row then day.
    """
    length = np.maximum(end - start, 0)
    counts = rng.poisson(np.maximum(rate_per_day, 0.0) * length).astype(np.int64)
    owner, _ = expand(counts)
    day = start[owner] + np.floor(rng.random(len(owner)) * length[owner]).astype(np.int64)
    order = np.lexsort((day, owner))
    return owner[order], day[order]


SPELL_SHIFT = np.int64(1) << 32


def spell_keys(spell_key: IntArray, spell_start: IntArray) -> IntArray:
    """The sorted search keys :func:`lookup_spell` needs (compute once, look up many times)."""
    return spell_key * SPELL_SHIFT + spell_start


def lookup_spell(
    spell_key: IntArray,
    spell_start: IntArray,
    spell_end: IntArray,
    key: IntArray,
    when: IntArray,
    combined: IntArray | None = None,
) -> IntArray:
    """Index of the spell of ``key`` that covers ``when`` (start <= when < end), or -1.

    Spells must be sorted by (key, start) and not overlap within a key. ``combined`` is
    ``spell_keys(spell_key, spell_start)`` when the caller has it already.
    """
    if len(spell_key) == 0:
        return np.full(len(key), -1, dtype=np.int64)
    if combined is None:
        combined = spell_keys(spell_key, spell_start)
    idx = np.searchsorted(combined, key * SPELL_SHIFT + when, side="right").astype(np.int64) - 1
    ok = idx >= 0
    safe = np.maximum(idx, 0)
    ok &= (spell_key[safe] == key) & (spell_end[safe] > when)
    return np.where(ok, idx, -1)


def join_intervals(
    left_key: IntArray,
    left_start: IntArray,
    left_end: IntArray,
    right_key: IntArray,
    right_start: IntArray,
    right_end: IntArray,
) -> tuple[IntArray, IntArray, IntArray, IntArray]:
    """Pairs (i, j) with equal keys whose half-open intervals overlap, with the overlap.

    Returns left index, right index, overlap start, overlap end. The right side is expected to
    have few rows per key (a person's conditions), so the expansion stays small.
    """
    order = np.argsort(right_key, kind="stable")
    rk = right_key[order]
    lo = np.searchsorted(rk, left_key, side="left")
    hi = np.searchsorted(rk, left_key, side="right")
    li, pos = expand((hi - lo).astype(np.int64))
    rj = order[lo[li] + pos]
    s = np.maximum(left_start[li], right_start[rj])
    e = np.minimum(left_end[li], right_end[rj])
    keep = s < e
    return li[keep], rj[keep], s[keep], e[keep]


def merge_intervals(keys: Sequence[IntArray], start: IntArray, end: IntArray) -> tuple[IntArray, IntArray, IntArray]:
    """Merge touching or overlapping intervals that share all ``keys``.

    Returns (index of the first row of each merged run, merged start, merged end); the keys of a
    run are those of its first row.
    """
    if len(start) == 0:
        return ints(), ints(), ints()
    order = np.lexsort((start, *reversed(list(keys))))
    s, e = start[order], end[order]
    same = np.ones(len(order), dtype=bool)
    same[0] = False
    for k in keys:
        kk = k[order]
        same[1:] &= kk[1:] == kk[:-1]
    group = np.cumsum(~same) - 1
    # Running maximum of the end within each group: offset each group so that cummax never
    # carries a value across a group boundary.
    span = np.int64(max(int(e.max()) - int(s.min()), 1) + 1)
    base = int(s.min())
    running = np.maximum.accumulate((e - base) + group * span) - group * span + base
    prev_end = np.empty_like(running)
    prev_end[0] = np.iinfo(np.int64).min
    prev_end[1:] = running[:-1]
    new_run = ~same | (s > prev_end)
    run = np.cumsum(new_run) - 1
    first = np.flatnonzero(new_run)
    merged_end = np.full(len(first), np.iinfo(np.int64).min, dtype=np.int64)
    np.maximum.at(merged_end, run, e)
    return order[first], s[first], merged_end


def group_first(keys: IntArray) -> BoolArray:
    """For a sorted key array: True at the first element of each run of equal keys."""
    first = np.ones(len(keys), dtype=bool)
    if len(keys) > 1:
        first[1:] = keys[1:] != keys[:-1]
    return first
