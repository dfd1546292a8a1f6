"""Shared fixtures for the linkage tests: a small FEBRL-derived area, trained once per session."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest
from linkage_support import FEBRL_ENTITIES, fast_spec, load_table
from splink import DuckDBAPI

from commonground.linkage.febrl import febrl4_records
from commonground.linkage.prepare import prepare_records
from commonground.linkage.training import TrainedModel, train


@pytest.fixture(scope="session")
def febrl_rows() -> list[dict[str, Any]]:
    return febrl4_records(limit=FEBRL_ENTITIES)


@pytest.fixture(scope="session")
def febrl_db(febrl_rows: list[dict[str, Any]]) -> Iterator[DuckDBAPI]:
    con = duckdb.connect()
    load_table(con, "febrl", febrl_rows)
    yield DuckDBAPI(con)
    con.close()


@pytest.fixture(scope="session")
def trained(febrl_db: DuckDBAPI) -> TrainedModel:
    return train(fast_spec(), prepared=prepare_records(db_api=febrl_db, source_table="febrl"))


# --- a small synthetic area, ingested and built once per session (build, ids, CLI tests) ---

SYNTH_PEOPLE = 1500
HELD_BACK_FEED = "ed_attendances"
"""Left out of the first ingest, so that a second build has extra records (stable ids)."""


@dataclass(frozen=True)
class BuiltArea:
    area: Path
    """The synthetic area's folder (feeds and truth/)."""
    data_dir: Path
    """Ingested (every feed) and built once, with a trained model saved."""
    first_build: str
    """The first build: every feed but the held-back one."""
    second_build: str
    """The second build, after the held-back feed was ingested too."""
    model: TrainedModel


@pytest.fixture(scope="session")
def built_area(tmp_path_factory: pytest.TempPathFactory) -> BuiltArea:
    from commonground.ingest import ingest_directory
    from commonground.linkage.pipeline import build_from_store
    from commonground.synth import generate

    root = tmp_path_factory.mktemp("linked-area")
    area = root / "area"
    generate(people=SYNTH_PEOPLE, seed=7, out=area)
    partial = root / "partial"
    partial.mkdir()
    for path in area.glob("*.csv"):
        if path.stem != HELD_BACK_FEED:
            shutil.copy(path, partial / path.name)
    data_dir = root / "data"
    ingest_directory(source=partial, data_dir=data_dir)
    first = build_from_store(data_dir=data_dir, train=True, spec=fast_spec())
    ingest_directory(source=area, data_dir=data_dir)
    second = build_from_store(data_dir=data_dir)
    from commonground.linkage.builds import models_dir
    from commonground.linkage.training import latest_model

    model = latest_model(models_dir(data_dir))
    assert model is not None
    return BuiltArea(
        area=area, data_dir=data_dir, first_build=first.build_id, second_build=second.build_id, model=model
    )


@pytest.fixture()
def data_copy(built_area: BuiltArea, tmp_path: Path) -> Path:
    """A copy of the built area's data folder, for tests that publish builds of their own."""
    target = tmp_path / "data"
    shutil.copytree(built_area.data_dir, target)
    return target
