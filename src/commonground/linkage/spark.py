"""Splink on Spark: a local SparkSession set up for Splink, and its ``SparkAPI``.

Splink on Spark (PySpark 4.x, Java 17) needs Splink's similarity jar on the session (``spark.jars``,
for ``jaro_winkler`` and ``damerau_levenshtein``) and a checkpoint directory. PySpark is imported
only here, when the Spark engine is asked for; without it (or without Java) the user gets a
:class:`UserError`. ``commonground.engine.spark_backend.spark_session`` (the rules stage's) is not
reused: it cannot put the jar on a new session, and the jar can only be added when a session starts.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from commonground.errors import UserError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

MASTER = "local[2]"
SHUFFLE_PARTITIONS = 8
DRIVER_MEMORY = "2g"
SPLINK_FUNCTIONS = ("jaro_winkler", "damerau_levenshtein")


def require_spark() -> None:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise UserError(
            "the Spark engine needs PySpark: install commonground with the 'spark' extra (pyspark>=4.0)"
        ) from None
    if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
        raise UserError("the Spark engine needs Java (17 or later): install it or set JAVA_HOME")


def similarity_jar() -> str:
    require_spark()
    from splink.backends.spark import similarity_jar_location

    return str(similarity_jar_location())


def splink_spark_session(
    *,
    master: str = MASTER,
    shuffle_partitions: int = SHUFFLE_PARTITIONS,
    driver_memory: str = DRIVER_MEMORY,
    checkpoint_dir: Path | None = None,
    conf: dict[str, str] | None = None,
) -> SparkSession:
    """The active SparkSession if it has Splink's jar, else a new local one that does.

    Settings: ``master`` (``local[2]``), ``spark.sql.shuffle.partitions`` (8: the data of one area
    is small, Spark's 200 would be tiny tasks), ``spark.driver.memory`` (2g), UTC session time zone,
    no UI, and a checkpoint directory (a temporary one unless given), where Splink writes its
    intermediate tables as Parquet to cut Spark's lineage. ``conf``: further settings for a new session.
    """
    jar = similarity_jar()
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        jars = active.sparkContext.getConf().get("spark.jars", "") or ""
        if jar not in jars.split(","):
            raise UserError(
                "a Spark session is already running without Splink's similarity jar; start it with "
                f"spark.jars={jar} (commonground.linkage.spark.splink_spark_session does)"
            )
        session = active
    else:
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        builder: Any = SparkSession.builder
        builder = (
            builder.master(master)
            .appName("commonground-linkage")
            .config("spark.jars", jar)
            .config("spark.driver.memory", driver_memory)
            .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
            .config("spark.default.parallelism", str(shuffle_partitions))
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
        )
        for key, value in (conf or {}).items():
            builder = builder.config(key, value)
        session = builder.getOrCreate()
        session.sparkContext.setLogLevel("ERROR")
    if session.sparkContext.getCheckpointDir() is None:
        folder = checkpoint_dir
        if folder is None:
            folder = Path(tempfile.mkdtemp(prefix="commonground-spark-checkpoints-"))
            atexit.register(shutil.rmtree, folder, ignore_errors=True)
        session.sparkContext.setCheckpointDir(str(folder))
    return session


def splink_spark_api(session: SparkSession | None = None) -> Any:
    """Splink's ``SparkAPI`` on ``session`` (default: :func:`splink_spark_session`), with the jar's
    functions registered (checked: Splink itself only warns when they are missing)."""
    spark = session or splink_spark_session()
    from splink import SparkAPI
    from splink.internals.exceptions import SplinkException

    class StatementReportingSparkAPI(SparkAPI):
        """Splink re-raises a statement Spark refuses with its SQL; Spark runs most statements
        later, when Splink writes the result out, and this re-raises those failures with it too."""

        _last_sql = ""

        def _setup_for_execute_sql(self, sql: str, physical_name: str) -> str:
            final: str = super()._setup_for_execute_sql(sql, physical_name)
            self._last_sql = final
            return final

        def _cleanup_for_execute_sql(self, table: Any, templated_name: str, physical_name: str) -> Any:
            try:
                return super()._cleanup_for_execute_sql(table, templated_name, physical_name)
            except Exception as error:
                raise SplinkException(
                    f"Spark failed on the following sql for table `{templated_name}` ({physical_name}):\n"
                    f"{self._last_sql}\n\nError was: {_reason(error)}"
                ) from error

    # Intermediate tables written as Parquet in the checkpoint directory (Splink's default off
    # Databricks): with "persist" the plans of the clustering's iterations grow until the driver
    # runs out of memory.
    db_api = StatementReportingSparkAPI(spark_session=spark, break_lineage_method="parquet")  # type: ignore[no-untyped-call]
    known = {f.name.lower() for f in spark.catalog.listFunctions()}
    missing = [name for name in SPLINK_FUNCTIONS if name not in known]
    if missing:
        raise UserError(f"Splink's Spark functions {', '.join(missing)} are not registered: is its jar on the session?")
    register_duckdb_jaro_winkler(spark)
    return db_api


def register_duckdb_jaro_winkler(spark: SparkSession) -> None:
    """Replace the jar's ``jaro_winkler`` with DuckDB's measure (``pycompare.jaro_winkler``), as a
    vectorised Python function.

    The jar's function (Apache Commons Text) and DuckDB's ``jaro_winkler_similarity`` score some
    pairs differently (``27 STATION CRES`` / ``27 MAPLE COURT``: under 0.75 against 0.797), so the
    two engines put such a pair in different levels and can link different records. One definition
    on both engines keeps "the same input, the same persons" true at any threshold; the cost is
    Python on Spark's side (docs/linkage.md#spark).
    """
    import pandas as pd  # type: ignore[import-untyped]
    from pyspark.sql.pandas.functions import pandas_udf

    from commonground.linkage.pycompare import jaro_winkler

    def similarity(left: pd.Series, right: pd.Series) -> pd.Series:
        values = [
            None if a is None or b is None else jaro_winkler(a, b)
            for a, b in zip(left.tolist(), right.tolist(), strict=True)
        ]
        return pd.Series(pd.array(values, dtype="Float64"))

    # Real classes, not this module's postponed (string) annotations: PySpark reads them.
    similarity.__annotations__ = {"left": pd.Series, "right": pd.Series, "return": pd.Series}
    spark.udf.register("jaro_winkler", pandas_udf(similarity, "double"))  # type: ignore[call-overload]


def _reason(error: BaseException) -> str:
    """The line of a Spark error that says what went wrong (Py4J wraps it in Java noise)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    telling = [line for line in lines if "Exception:" in line or line.startswith("[")]
    return (telling or lines or [type(error).__name__])[0][:500]
