"""Shared fixtures for the linkage tests: a small FEBRL-derived area, trained once per session."""

from __future__ import annotations

from collections.abc import Iterator
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
