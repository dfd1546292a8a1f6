"""Writing the feeds and the truth: UTF-8 CSV with a header row, blank for missing, in a fixed order.

Cells are quoted only where they need it (a comma, a quote or a line end; inner quotes doubled,
as RFC 4180 and Python's ``csv`` module do), rows end with ``\\n``, written in chunks from object
arrays; nothing in the output depends on the clock, the
machine or hash order, so the same seed and size give byte-identical files.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from commonground.synth.arrays import IntArray, ObjArray, merge_intervals, texts
from commonground.synth.exposures import KINDS, Exposures
from commonground.synth.names import GROUPS
from commonground.synth.noise import BIT, CATEGORY
from commonground.synth.noise import KINDS as ERROR_KINDS
from commonground.synth.timeline import NO_DAY, T0, T1, format_days
from commonground.synth.world import World

CHUNK = 50_000


def _quoted(values: list[str]) -> list[str]:
    """The cells as CSV needs them: quoted (inner quotes doubled) where they hold a comma, quote or line end."""
    joined = "\x00".join(values)
    if "," not in joined and '"' not in joined and "\n" not in joined and "\r" not in joined:
        return values
    return ['"' + v.replace('"', '""') + '"' if ("," in v or '"' in v or "\n" in v or "\r" in v) else v for v in values]


def _lines(columns: list[list[str]]) -> str:
    rows = map(",".join, zip(*[_quoted(c) for c in columns], strict=True))
    text = "\n".join(rows)
    return text + "\n" if text or (columns and columns[0]) else ""


def write_table(
    path: Path,
    header: Sequence[str],
    columns: Sequence[np.ndarray],
    *,
    on_rows: Callable[[int], None] | None = None,
    append: bool = False,
) -> int:
    """Write (or append) rows; returns how many were written."""
    n = len(columns[0]) if columns else 0
    with path.open("a" if append else "w", encoding="utf-8", newline="") as f:
        if not append:
            f.write(_lines([[h] for h in header]))
        for lo in range(0, n, CHUNK):
            hi = min(lo + CHUNK, n)
            f.write(_lines([c[lo:hi].tolist() for c in columns]))
            if on_rows is not None:
                on_rows(hi)
    return n


def household_ids(hh: IntArray) -> ObjArray:
    return texts([f"H{h + 1:07d}" for h in hh.tolist()])


def write_people(path: Path, world: World) -> int:
    dyn, names, area = world.dyn, world.names, world.area
    pid = np.arange(world.n_people, dtype=np.int64)
    first_dw = world.res.dwelling_at(pid, np.maximum(T0, dyn.dob))
    sa = area.dw_small_area[np.maximum(first_dw, 0)]
    changed = (dyn.family_changed != NO_DAY) & (dyn.family_later != dyn.family)

    def parent(ids: IntArray) -> ObjArray:
        out = world.person_id[np.maximum(ids, 0)]
        out[ids < 0] = ""
        return out

    cols = [
        world.person_id,
        names.given[world.given],
        names.family[dyn.family],
        np.where(changed, names.family[dyn.family_later], "").astype(object),
        format_days(np.where(changed, dyn.family_changed, NO_DAY)),
        format_days(dyn.dob),
        np.where(dyn.sex == 0, "F", "M").astype(object),
        world.nhs,
        parent(dyn.mother),
        parent(dyn.father),
        np.where(dyn.dob >= T0, "true", "false").astype(object),
        area.sa_code[sa],
        texts([str(d) for d in area.sa_decile[sa].tolist()]),
        texts(list(GROUPS))[dyn.group],
    ]
    header = (
        "person_id",
        "given_name",
        "family_name",
        "later_family_name",
        "family_name_changed_on",
        "date_of_birth",
        "sex",
        "nhs_number",
        "mother_id",
        "father_id",
        "born_in_window",
        "area_code",
        "deprivation_decile",
        "name_group",
    )
    return write_table(path, header, cols)


def write_households(path: Path, world: World) -> int:
    """Who lived where with whom: one row per unbroken stay of a person in a household at an address."""
    res, area, dob = world.res, world.area, world.dyn.dob
    hh = res.seg_hh[res.sp_seg]
    start = np.where(res.sp_start == T0, np.maximum(res.hh_since[hh], dob[res.sp_pid]), res.sp_start)
    first, s, e = merge_intervals([res.sp_pid, hh, res.sp_dw], start, res.sp_end)
    pid, h, dw = res.sp_pid[first], hh[first], res.sp_dw[first]
    order = np.lexsort((s, pid, h))
    pid, h, dw, s, e = pid[order], h[order], dw[order], s[order], e[order]
    cols = [
        household_ids(h),
        world.person_id[pid],
        area.dw_uprn[dw],
        area.pc_code[area.dw_postcode[dw]],
        area.dw_address[dw],
        format_days(s),
        format_days(np.where(e < T1, e, NO_DAY)),
    ]
    return write_table(path, ("household_id", "person_id", "uprn", "postcode", "address", "start", "end"), cols)


def write_exposures(path: Path, ex: Exposures, ids: ObjArray) -> int:
    kind = texts([k for k, _ in KINDS])[ex.kind]
    ace = texts([a for _, a in KINDS])[ex.kind]
    other = ids[np.maximum(ex.other, 0)]
    other[ex.other < 0] = ""
    end = np.where((ex.end < T1) | (ex.end == ex.start), ex.end, NO_DAY)
    cols = [ids[ex.pid], kind, format_days(ex.start), format_days(end), ace, other]
    return write_table(path, ("person_id", "kind", "start", "end", "ace", "other_person_id"), cols)


def write_defects(path: Path, defects: list[tuple[str, str, str, str, str]]) -> int:
    cols = [texts([d[i] for d in defects]) for i in range(5)]
    return write_table(path, ("feed", "record_id", "column", "kind", "defect"), cols)


def write_identity_errors(
    path: Path, feed: str, record_id: ObjArray, errors: IntArray, *, append: bool
) -> dict[str, int]:
    """One row per kind of identity error on each record (``feed, record_id, kind, category``); counts by kind.

    With ``append=False`` writes the header only.
    """
    if not append:
        write_table(path, ("feed", "record_id", "kind", "category"), [])
        return {}
    rows: list[IntArray] = []
    which: list[IntArray] = []
    counts: dict[str, int] = {}
    for k, kind in enumerate(ERROR_KINDS):
        idx = np.flatnonzero(errors & BIT[kind])
        if len(idx):
            counts[kind] = len(idx)
            rows.append(idx)
            which.append(np.full(len(idx), k, dtype=np.int64))
    if not rows:
        return counts
    row, kind_no = np.concatenate(rows), np.concatenate(which)
    order = np.lexsort((kind_no, row))
    row, kind_no = row[order], kind_no[order]
    kind_text = texts(list(ERROR_KINDS))[kind_no]
    category = texts([CATEGORY[k] for k in ERROR_KINDS])[kind_no]
    write_table(path, (), [np.full(len(row), feed, dtype=object), record_id[row], kind_text, category], append=True)
    return counts


def write_manifest(path: Path, manifest: dict[str, object]) -> None:
    path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
