"""A forward-only window onto a file's bytes, in whole lines, so that a CSV file is read a chunk at a time.

The fast CSV path (:mod:`commonground.ingest.fastcsv`) needs a chunk's lines as one block of bytes; holding the
whole file instead cost a 1 GiB file's size and more in memory (#18). The window reads ahead only as far as the
lines asked for, and drops bytes once they are used, so it holds about one chunk of the file at a time.
"""

from __future__ import annotations

from typing import BinaryIO

import numpy as np

from commonground.ingest.fastcsv import Lines, complete, scan

READ_BYTES = 8 * 2**20
"""The least read from the file at a time."""


class LineWindow:
    """The bytes of a file from ``offset`` on, where line number ``line`` starts."""

    def __init__(self, handle: BinaryIO, *, offset: int, line: int) -> None:
        self._handle = handle
        handle.seek(offset)
        self.offset = offset
        """Where in the file the window starts: always the start of a line."""
        self.line = line
        """The number of the line that starts at ``offset`` (the header is line 1)."""
        self._data = b""
        self._eof = False
        self._hint = READ_BYTES

    @property
    def exhausted(self) -> bool:
        """Nothing of the file is left."""
        return self._eof and not self._data

    def _read_more(self, wanted: int) -> None:
        block = self._handle.read(max(READ_BYTES, wanted))
        if block:
            self._data += block
        else:
            self._eof = True

    def _complete_lines(self) -> tuple[np.ndarray, int]:
        data = np.frombuffer(self._data, dtype=np.uint8)
        return data, complete(data, final=self._eof)

    def peek_rows(self, rows: int, *, limit: int) -> tuple[bytes, Lines] | None:
        """The whole lines from here through the ``rows``-th that is not blank (or to the end of the file), and where
        each starts and ends; None when they would take more than ``limit`` bytes. Nothing is used up."""
        while True:
            data, whole = self._complete_lines()
            lines = scan(data[:whole])
            filled = np.flatnonzero(~lines.blank)
            if len(filled) >= rows or self._eof:
                count = int(filled[rows - 1]) + 1 if len(filled) >= rows else len(lines.starts)
                end = int(lines.starts[count]) if count < len(lines.starts) else whole
                self._hint = max(READ_BYTES, end)
                kept = Lines(starts=lines.starts[:count], ends=lines.ends[:count], quoted=lines.quoted[:count])
                return self._data[:end], kept
            if len(self._data) >= limit:
                return None
            # Read about one more chunk's worth (as long as the last one was), at least enough to grow.
            self._read_more(self._hint + self._hint // 8 - len(self._data))

    def advance(self, size: int, lines: int) -> None:
        """Use up ``size`` bytes holding ``lines`` whole lines."""
        self._data = self._data[size:]
        self.offset += size
        self.line += lines

    def skip_lines(self, count: int) -> None:
        """Use up ``count`` lines, however long, holding no more than a read's worth of a long line at a time."""
        while count > 0:
            data, whole = self._complete_lines()
            lines = scan(data[:whole])
            if len(lines.starts) >= count:
                end = int(lines.starts[count]) if count < len(lines.starts) else whole
                self.advance(end, count)
                return
            if self._eof:
                self.advance(len(self._data), len(lines.starts))  # the file ended first
                return
            count -= len(lines.starts)
            self.advance(whole, len(lines.starts))
            # Inside a long line only its length matters; a last \r is kept, as the next byte says if it ends the line.
            kept = 1 if self._data[-1:] == b"\r" else 0
            self.offset += len(self._data) - kept
            self._data = self._data[len(self._data) - kept :]
            self._read_more(READ_BYTES)
