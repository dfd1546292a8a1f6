"""One small engine interface for the analytical stages: DuckDB by default, Spark at scale.

A stage writes its SQL once, as a sqlglot expression tree (or DuckDB-dialect text that sqlglot
transpiles); a backend renders it in its own dialect, runs it and hands back Arrow tables. The
interface follows Splink's ``DatabaseAPI``: :meth:`Engine.execute`, :meth:`Engine.materialise`,
:meth:`Engine.register`, and a backend error is re-raised as :class:`EngineError` carrying the
statement that failed.

The Spark backend imports PySpark only when it is asked for (the ``spark`` extra).
"""

from __future__ import annotations

from commonground.engine.base import Engine, EngineError, create_engine

__all__ = ["Engine", "EngineError", "create_engine"]
