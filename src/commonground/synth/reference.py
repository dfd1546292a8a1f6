"""Reference feeds: the schools of the area and every postcode with its small area and deprivation decile."""

from __future__ import annotations

import numpy as np

from commonground.synth.arrays import texts
from commonground.synth.world import World


def schools(world: World) -> dict[str, np.ndarray]:
    area = world.area
    n = len(area.school_urn)
    return {
        "_pid": np.full(n, -1, dtype=np.int64),
        "record_id": texts([f"SCH-{i + 1:04d}" for i in range(n)]),
        "school_urn": area.school_urn,
        "name": area.school_name,
        "phase": area.school_phase,
        "postcode": area.pc_code[area.school_postcode],
        "dsl_name": area.school_dsl_name,
        "dsl_email": area.school_dsl_email,
    }


def postcode_areas(rng: np.random.Generator, world: World) -> dict[str, np.ndarray]:
    """Every postcode of the area (in a directory's order: by postcode)."""
    area = world.area
    order = np.argsort(area.pc_code.astype(str), kind="stable")
    sa = area.pc_small_area[order]
    n = len(order)
    return {
        "_pid": np.full(n, -1, dtype=np.int64),
        "record_id": texts([f"PC-{i + 1:06d}" for i in range(n)]),
        "postcode": area.pc_code[order],
        "area_code": area.sa_code[sa],
        "deprivation_decile": texts([str(d) for d in area.sa_decile[sa].tolist()]),
    }
