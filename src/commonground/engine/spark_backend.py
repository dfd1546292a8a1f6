"""The Spark backend (local mode here, a cluster at scale). PySpark is imported only when used."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from sqlglot import exp

from commonground.engine.base import Engine, build_tables
from commonground.engine.duckdb_backend import check_name
from commonground.errors import UserError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def spark_session(*, master: str = "local[2]", app_name: str = "commonground") -> SparkSession:
    """The running SparkSession, or a new local one set up the way commonground expects."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:  # pragma: no cover - depends on the install
        raise UserError("the Spark engine needs PySpark: install commonground with the 'spark' extra") from None
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder: Any = SparkSession.builder
    session: SparkSession = (
        builder.master(master)
        .appName(app_name)
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.ansi.enabled", "true")
        .getOrCreate()
    )
    return session


class SparkEngine(Engine):
    """Spark SQL through temporary views; results come back as Arrow."""

    name = "spark"
    dialect = "spark"

    def __init__(
        self,
        *,
        session: SparkSession | None = None,
        master: str = "local[2]",
        partitions: int | None = None,
        cache_stages: bool | None = None,
        in_memory_rows: int = 50_000,
    ) -> None:
        self.spark = session or spark_session(master=master)
        local = str(self.spark.sparkContext.master).startswith("local")
        self.cache_stages = (not local) if cache_stages is None else cache_stages
        """Keep intermediate stages (on a cluster, where recomputing them costs more than keeping
        them); on one machine they stay views and Spark plans each result as one job."""
        self.partitions = partitions or (self.spark.sparkContext.defaultParallelism if local else None)
        """Kept tables are coalesced to this many partitions (on one machine, a few; on a cluster,
        left as Spark made them): a union of many small tables otherwise runs thousands of tiny tasks."""
        self.spark.conf.set("spark.sql.session.timeZone", "UTC")
        self._views: list[str] = []
        self._cached: list[Any] = []
        self._scratch: Path | None = None
        self.in_memory_rows = in_memory_rows
        """Build tables up to this many rows are handed to Spark as Arrow; bigger ones via Parquet."""

    def _execute(self, sql: str) -> pa.Table:
        table: pa.Table = self.spark.sql(sql).toArrow()
        return table

    def _materialise(self, name: str, sql: str) -> None:
        # Computed now and kept: later statements read the cached rows instead of recomputing
        # the whole lineage of the view each time it is used.
        frame = self.spark.sql(sql)
        if self.partitions:
            frame = frame.coalesce(self.partitions)
        frame = frame.cache()
        frame.count()
        self._cached.append(frame)
        frame.createOrReplaceTempView(check_name(name))
        self._views.append(name)

    def _stage(self, name: str, sql: str) -> None:
        if self.cache_stages:
            self._materialise(name, sql)
            return
        self.spark.sql(sql).createOrReplaceTempView(check_name(name))
        self._views.append(name)

    def _register(self, name: str, table: pa.Table) -> None:
        if table.num_rows == 0:
            frame = self.spark.createDataFrame([], schema=_spark_schema(table.schema))
        else:
            frame = self.spark.createDataFrame(table)
        if self.partitions:
            frame = frame.coalesce(self.partitions)
        frame.createOrReplaceTempView(check_name(name))
        self._views.append(name)

    def attach_build(self, build_dir: Path) -> dict[str, dict[str, str]]:
        database = build_dir / "build.duckdb"
        folders = build_tables(build_dir)
        if database.exists():
            self._attach_duckdb(database, folders)
        for table, folder in folders.items():
            self.spark.read.parquet(str(folder)).createOrReplaceTempView(check_name(table))
            self._views.append(table)
        return {view: {f: t.lower() for f, t in self.spark.table(view).dtypes} for view in self._views}

    def _attach_duckdb(self, database: Path, folders: dict[str, Path]) -> None:
        """A small table is handed over as Arrow; a big one is copied to Parquet first, so that Spark
        plans over files rather than over rows held in the driver (which every view copies)."""
        import duckdb

        with duckdb.connect(str(database), read_only=True) as con:
            tables = con.execute("SELECT table_name, estimated_size FROM duckdb_tables() ORDER BY 1").fetchall()
            for table, rows in tables:
                name = check_name(table)
                if rows is not None and rows <= self.in_memory_rows:
                    self.register(name, con.sql(f"SELECT * FROM {name}").to_arrow_table())
                    continue
                if self._scratch is None:
                    self._scratch = Path(tempfile.mkdtemp(prefix="commonground-spark-"))
                target = self._scratch / name
                target.mkdir()
                path = exp.Literal.string(str(target / "part-0.parquet")).sql("duckdb")
                con.execute(f"COPY {name} TO {path} (FORMAT PARQUET)")
                folders[name] = target

    def close(self) -> None:
        for frame in self._cached:
            frame.unpersist()
        self._cached.clear()
        for view in self._views:
            self.spark.catalog.dropTempView(view)
        self._views.clear()
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None


def _spark_schema(schema: pa.Schema) -> Any:
    """A Spark schema for an empty Arrow table (Spark cannot infer types from no rows)."""
    from pyspark.sql.pandas.types import from_arrow_schema

    return from_arrow_schema(schema)
