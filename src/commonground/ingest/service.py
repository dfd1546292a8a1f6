"""Ingest a directory of partner extracts into the analytical store, in one transaction."""

from __future__ import annotations

import gc
import hashlib
import json
import os
import stat
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pyarrow as pa

from commonground.contracts import FeedContract, feed_for_filename
from commonground.contracts.feeds import FEEDS
from commonground.contracts.retractions import retraction_feed
from commonground.errors import UserError
from commonground.ingest.reader import FeedFile, FileRefused, looks_like_column, open_feed_file
from commonground.ingest.report import FileResult, IngestResult
from commonground.ingest.retractions import load_retractions
from commonground.ingest.store import StoreWriter, open_writer
from commonground.ingest.validate import ChunkOutcome, ChunkValidator

Progress = Callable[[str, int, int | None], None]

_HASH_BLOCK = 4 * 2**20


class IngestError(UserError):
    """The run as a whole cannot start (for instance, the source is not a directory)."""


@dataclass(frozen=True)
class _Fingerprint:
    batch_id: str
    lines: int


def _fingerprint(path: Path) -> _Fingerprint:
    """sha256 of the file's bytes (the batch id) and its line count (for progress). The file is opened without
    following a symbolic link, and must be a regular file once open (a link or a pipe put in its place after the
    folder was listed is refused, not read)."""
    digest = hashlib.sha256()
    lines = 0
    descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    with os.fdopen(descriptor, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise IsADirectoryError("not a regular file")
        while block := handle.read(_HASH_BLOCK):
            digest.update(block)
            lines += block.count(b"\n")
    return _Fingerprint(digest.hexdigest(), lines)


def _kind_refused(path: Path) -> str | None:
    """Why an entry of the folder is refused without being opened, or None for a regular file (or a folder not
    named like a feed file, such as ``truth/``, which is left alone). Nothing behind a symbolic link is read: a
    link could point anywhere on the machine."""
    try:
        mode = path.lstat().st_mode
    except OSError as error:
        return f"the entry cannot be examined ({type(error).__name__})"
    if stat.S_ISLNK(mode):
        return "a symbolic link; only regular files in the folder itself are read"
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a folder, not a file" if feed_for_filename(path) is not None else None
    kind = "a named pipe (FIFO)" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else "a device"
    return f"{kind}, not a regular file"


def _entries(source: Path) -> tuple[list[Path], list[FileResult]]:
    """The folder's regular files to read, and a refusal for every link, pipe, device or feed-named folder."""
    files: list[Path] = []
    refused: list[FileResult] = []
    for path in sorted(source.iterdir()):
        reason = _kind_refused(path)
        if reason is not None:
            feed = feed_for_filename(path)
            refused.append(
                FileResult(
                    file=path.name,
                    feed=feed.name if feed else None,
                    status="refused",
                    error=f"{path.name}: {reason}; nothing of it was read",
                )
            )
        elif path.is_file():
            files.append(path)
    return files, refused


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Millions of short-lived lists would set off the cycle collector again and again; ingest
    makes no reference cycles worth collecting, so it is paused for the run."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def check_header(feed: FeedContract, header: list[str]) -> None:
    """Refuse a file whose header does not match its feed's contract. Unknown names are only
    echoed when they look like column names (a file without a header row would otherwise put
    its first row of data into the message)."""
    known = set(feed.column_names)
    if not known & set(header):
        raise FileRefused(f"the first row names none of the {feed.name} columns: is the header row missing?")
    if any(not name for name in header):
        raise FileRefused(f"a column has no name in the header (position {header.index('') + 1})")
    repeated = sorted({n for n in header if header.count(n) > 1})
    if repeated:
        raise FileRefused(f"columns named twice in the header: {_names(repeated)}")
    missing = [c for c in feed.required_columns if c not in header]
    unexpected = [n for n in header if n not in known]
    problems = []
    if missing:
        problems.append(f"required columns missing: {', '.join(missing)}")
    if unexpected:
        problems.append(f"columns the {feed.name} contract does not have: {_names(unexpected)}")
    if problems:
        raise FileRefused("; ".join(problems))


def _names(names: list[str]) -> str:
    """Header names for a message: those that look like column names; the others only counted."""
    shown = [n for n in names if looks_like_column(n)]
    text = ", ".join(shown)
    if len(shown) < len(names):
        text += ("; and " if shown else "") + f"{len(names) - len(shown)} more not shown"
    return text


class _ChunkWriter:
    """Writes a file's chunks on one background thread, so DuckDB stores chunk i while Python
    checks chunk i+1. Reads of the store (the unique-value lookups) wait for the write before."""

    def __init__(self, writer: StoreWriter, feed: FeedContract, batch_id: str) -> None:
        self._writer = writer
        self._feed = feed
        self._batch_id = batch_id
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-writer")
        self._pending: Future[None] | None = None

    def wait(self) -> None:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            pending.result()

    def write(self, outcome: ChunkOutcome) -> None:
        self.wait()
        self._pending = self._pool.submit(
            self._writer.write_chunk, feed=self._feed, batch_id=self._batch_id, outcome=outcome
        )

    def lookup(self, column: str, values: pa.Array) -> dict[str, tuple[str, int, str]]:
        self.wait()
        return self._writer.lookup(self._feed, column, values)

    def unchanged(self, rows: pa.Table) -> set[str]:
        self.wait()
        return self._writer.unchanged(self._feed, rows)

    def close(self) -> None:
        try:
            self.wait()
        finally:
            self._pool.shutdown(wait=True)


class _Run:
    def __init__(self, writer: StoreWriter, run_id: str, on_progress: Progress | None) -> None:
        self.writer = writer
        self.run_id = run_id
        self.on_progress = on_progress
        self.seen_batches: set[str] = set()

    def ingest_file(self, path: Path) -> FileResult:
        retracting = retraction_feed(path)
        feed = retracting or feed_for_filename(path)
        if feed is None:
            names = "<feed>.csv, <feed>.parquet or <feed>.retractions.csv"
            return FileResult(
                file=path.name,
                feed=None,
                status="refused",
                error=f"{path.name}: not a feed file name (expected {names}, "
                f"where <feed> is one of {len(FEEDS)} feeds: {', '.join(FEEDS)})",
            )
        try:
            fingerprint = _fingerprint(path)
        except OSError as error:
            return FileResult(
                file=path.name,
                feed=feed.name,
                status="refused",
                error=f"{path.name}: the file cannot be read ({type(error).__name__})",
            )
        batch_id = fingerprint.batch_id
        if batch_id in self.seen_batches or self.writer.batch_loaded(batch_id):
            return FileResult(file=path.name, feed=feed.name, status="already_loaded", batch_id=batch_id)
        try:
            if retracting is not None:
                result = self._retract(path, feed, batch_id)
            else:
                result = self._load(path, feed, batch_id, fingerprint.lines)
        except FileRefused as refusal:
            self.writer.forget_batch(feed=feed, batch_id=batch_id)
            return FileResult(
                file=path.name,
                feed=feed.name,
                status="refused",
                error=f"{path.name}: {refusal.reason}; nothing of it was loaded",
            )
        self.seen_batches.add(batch_id)
        return result

    def _retract(self, path: Path, feed: FeedContract, batch_id: str) -> FileResult:
        """A partner's retraction list (``<feed>.retractions.csv``): kept as a batch of its own."""
        try:
            counts = load_retractions(self.writer, path=path, feed=feed, batch_id=batch_id)
        except OSError as error:
            raise FileRefused(f"the file cannot be read ({type(error).__name__})") from error
        self.writer.record_batch(
            batch_id=batch_id,
            feed=feed.name,
            file_name=path.name,
            run_id=self.run_id,
            loaded_at=datetime.now(),
            file_format="retractions",
            header=json.dumps(["record_id", "retracted_on", "reason"]),
            rows_read=counts.rows_read,
            rows_accepted=counts.accepted,
            rows_quarantined=counts.quarantined,
            rows_with_warnings=0,
            warnings=0,
            rows_new_versions=0,
            rows_unchanged=counts.already_retracted,
            rows_retracted=counts.retracted,
        )
        return FileResult(
            file=path.name,
            feed=feed.name,
            status="loaded",
            rows_read=counts.rows_read,
            rows_accepted=counts.accepted,
            rows_quarantined=counts.quarantined,
            rows_unchanged=counts.already_retracted,
            rows_retracted=counts.retracted,
            batch_id=batch_id,
        )

    def _load(self, path: Path, feed: FeedContract, batch_id: str, lines: int) -> FileResult:
        try:
            source = open_feed_file(path, line_count=lines)
        except OSError as error:
            raise FileRefused(f"the file cannot be read ({type(error).__name__})") from error
        try:
            check_header(feed, source.header)
            counts = self._load_rows(source, path, feed, batch_id)
        except (OSError, ArithmeticError, LookupError, ValueError, pa.ArrowException) as error:
            # A file that breaks part-way (a truncated Parquet file, a disk error): named by kind only,
            # since the library's message could quote the data.
            raise FileRefused(f"reading stopped part-way ({type(error).__name__})") from error
        finally:
            source.close()
        rows_read, accepted, quarantined, with_warnings, warnings, new_versions, unchanged = counts
        self.writer.record_batch(
            batch_id=batch_id,
            feed=feed.name,
            file_name=path.name,
            run_id=self.run_id,
            loaded_at=datetime.now(),
            file_format=path.suffix.lower().lstrip("."),
            header=json.dumps(source.header, ensure_ascii=True),
            rows_read=rows_read,
            rows_accepted=accepted,
            rows_quarantined=quarantined,
            rows_with_warnings=with_warnings,
            warnings=warnings,
            rows_new_versions=new_versions,
            rows_unchanged=unchanged,
            rows_retracted=0,
        )
        return FileResult(
            file=path.name,
            feed=feed.name,
            status="loaded",
            rows_read=rows_read,
            rows_accepted=accepted,
            rows_quarantined=quarantined,
            rows_with_warnings=with_warnings,
            warnings=warnings,
            rows_new_versions=new_versions,
            rows_unchanged=unchanged,
            batch_id=batch_id,
        )

    def _load_rows(
        self, source: FeedFile, path: Path, feed: FeedContract, batch_id: str
    ) -> tuple[int, int, int, int, int, int, int]:
        chunk_writer = _ChunkWriter(self.writer, feed, batch_id)
        validator = ChunkValidator(
            feed=feed,
            header=source.header,
            batch_id=batch_id,
            lookup=chunk_writer.lookup,
            unchanged=chunk_writer.unchanged,
        )
        read = accepted = quarantined = with_warnings = warnings = new_versions = unchanged = 0
        self._progress(path.name, 0, source.expected_rows)
        try:
            for chunk in source.chunks():
                outcome = validator.validate(chunk)
                chunk_writer.write(outcome)
                read += outcome.rows_read
                accepted += outcome.rows_accepted
                quarantined += outcome.rows_quarantined
                with_warnings += outcome.rows_with_warnings
                warnings += len(outcome.warnings)
                new_versions += outcome.rows_new_versions
                unchanged += outcome.rows_unchanged
                self._progress(path.name, read, source.expected_rows)
        finally:
            chunk_writer.close()
        self._progress(path.name, read, read)
        return read, accepted, quarantined, with_warnings, warnings, new_versions, unchanged

    def _progress(self, label: str, done: int, total: int | None) -> None:
        if self.on_progress is not None:
            self.on_progress(label, done, None if total is None else max(total, done))


def ingest_directory(*, source: Path, data_dir: Path, on_progress: Progress | None = None) -> IngestResult:
    """Validate and load every file in ``source`` (not its subfolders) into the analytical store
    under ``data_dir``, as one transaction. ``on_progress(label, rows_done, rows_expected)`` is
    called as files are read (rows_expected is an estimate for CSV, or None)."""
    source = Path(source)
    if not source.is_dir():
        raise IngestError(f"{source.name or source}: not a directory")
    files, refused = _entries(source)
    run_id = uuid.uuid4().hex
    started_at = datetime.now()
    con = open_writer(Path(data_dir))
    writer = StoreWriter(con)
    try:
        writer.begin_run(run_id=run_id, started_at=started_at, source=source.resolve().name)
        run = _Run(writer, run_id, on_progress)
        with _collector_paused():
            loaded = {path.name: run.ingest_file(path) for path in files}
        by_name = {**loaded, **{result.file: result for result in refused}}
        results = tuple(by_name[name] for name in sorted(by_name))
        finished_at = datetime.now()
        writer.finish_run(run_id=run_id, finished_at=finished_at)
    except BaseException:
        with suppress(Exception):  # the connection may already be gone; nothing was committed
            writer.abandon_run()
        raise
    finally:
        con.close()
    return IngestResult(
        run_id=run_id, source=source.resolve().name, started_at=started_at, finished_at=finished_at, files=results
    )
