"""Validated ingest: partner extracts in, standardised batches in the analytical store out.

Each file in a directory is checked against its feed's contract; rows that break it are
quarantined with the field and a reason (never the value), the rest are loaded, all in one
transaction per run. See ``docs/ingest.md``.
"""

from commonground.ingest.report import (
    BatchReport,
    FileResult,
    IngestResult,
    QuarantinedRow,
    RowWarning,
    ingest_report,
    quarantine_rows,
    warning_rows,
)
from commonground.ingest.service import IngestError, ingest_directory
from commonground.ingest.store import STORE_FILE, store_path

__all__ = [
    "STORE_FILE",
    "BatchReport",
    "FileResult",
    "IngestError",
    "IngestResult",
    "QuarantinedRow",
    "RowWarning",
    "ingest_directory",
    "ingest_report",
    "quarantine_rows",
    "store_path",
    "warning_rows",
]
