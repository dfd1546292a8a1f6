"""One synthetic area shared by the synth tests (built once per session)."""

from __future__ import annotations

import pytest
from synth_support import PEOPLE, SEED, Area

from commonground.synth import generate


@pytest.fixture(scope="session")
def area(tmp_path_factory: pytest.TempPathFactory) -> Area:
    out = tmp_path_factory.mktemp("synth") / "area"
    calls: list[tuple[str, int, int | None]] = []
    summary = generate(people=PEOPLE, seed=SEED, out=out, on_progress=lambda s, d, t: calls.append((s, d, t)))
    return Area(out=out, summary=summary, progress=calls)


@pytest.fixture(scope="session")
def people(area: Area) -> dict[str, dict[str, str]]:
    return {r["person_id"]: r for r in area.rows("truth/people")}


@pytest.fixture(scope="session")
def records(area: Area) -> dict[tuple[str, str], str]:
    """(feed, record_id) -> person_id."""
    return {(r["feed"], r["record_id"]): r["person_id"] for r in area.rows("truth/records")}


@pytest.fixture(scope="session")
def defects(area: Area) -> dict[tuple[str, str, str], dict[str, str]]:
    """(feed, record_id, column) -> the defect row."""
    return {(r["feed"], r["record_id"], r["column"]): r for r in area.rows("truth/defects")}
