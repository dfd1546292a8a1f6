"""Cells and CSV files that people open in a spreadsheet, with formula triggers neutralised (CSV injection).

A spreadsheet runs a cell that begins with ``=``, ``+``, ``-`` or ``@`` as a formula, and some also one that begins
with a tab or a carriage return: a case note typed as ``=HYPERLINK("http://…","click")`` or an address sent as
``-2+3+cmd|' /C calc'!A0`` would become a live link or a command when the file is opened. OWASP's rule (CSV
injection) is followed for every file a person opens:

- :func:`looks_like_formula`: the cell begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return, **except a
  plain number**: a ``+`` or ``-`` followed only by digits, spaces, ``.`` and ``,``, ending in a digit, with an
  optional exponent (``-5``, ``+44 20 7946 0000``, ``-0.05``, ``-1e-05``). Such a cell can name no function, no
  other cell and no command, so it is left as the number it is. ``-5 degrees outside``, ``-2+3`` or ``- item``
  begin like a formula (a spreadsheet would try to compute them) and are neutralised.
- :func:`safe_cell`: a cell that looks like a formula gets a leading single quote (``'=1+1``), which a spreadsheet
  shows as text; any other value is returned unchanged.
- :func:`writer`: a ``csv.writer`` that passes every cell through :func:`safe_cell` and quotes every field.

Files **made to be read by a program again** keep their values exactly and do not use this module: ``commonground
hub export-triage`` writes ``street_triage.csv`` in the feed's columns to be ingested again
(:func:`commonground.cases.triage.export_triage`), and ``commonground synth`` writes synthetic feeds and their
truth (:mod:`commonground.synth.output`). A quote added there would become part of the value on the way back in (an
address ``'-2+3…`` is not the address sent); ingest keeps a formula-like text value as text with a warning, and
the files people open later are neutralised here.

This module is cross-cutting: it imports nothing from the project, and any layer or analytical package may use it.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import Protocol

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
"""The characters a cell must not begin with in a file a person opens (OWASP)."""

_NUMBER = re.compile(r"[+\-][0-9 .,]*[0-9](?:[eE][+\-]?[0-9]+)?")


def looks_like_formula(text: str) -> bool:
    """The cell begins with a formula trigger (``= + - @``, tab, carriage return) and is not a plain number."""
    if not text.startswith(TRIGGERS):
        return False
    return not (text[0] in "+-" and _NUMBER.fullmatch(text))


def safe_cell(value: object) -> object:
    """``value`` as it may go into a file a person opens: a formula-like cell with a leading ``'``, else unchanged.

    Anything that is not a string is judged by the text the ``csv`` module would write for it (``str(value)``):
    ``-0.5`` stays a number; a float ``-inf`` becomes the text ``'-inf``. ``None`` stays ``None`` (an empty cell).
    """
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    return "'" + text if looks_like_formula(text) else value


class _Writable(Protocol):
    def write(self, s: str, /) -> object: ...


class SafeWriter:
    """A ``csv.writer`` for files people open: every cell through :func:`safe_cell`, every field quoted."""

    def __init__(self, handle: _Writable, *, lineterminator: str = "\r\n", quote_all: bool = True) -> None:
        if quote_all:
            self._writer = csv.writer(handle, lineterminator=lineterminator, quoting=csv.QUOTE_ALL)
        else:
            self._writer = csv.writer(handle, lineterminator=lineterminator, quoting=csv.QUOTE_MINIMAL)

    def writerow(self, row: Iterable[object]) -> None:
        self._writer.writerow([safe_cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[object]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(handle: _Writable, *, lineterminator: str = "\r\n", quote_all: bool = True) -> SafeWriter:
    """A CSV writer for a file a person opens (OWASP: formula triggers neutralised, every field quoted).

    ``quote_all=False`` quotes only the fields that need it (a comma, a quote, a line end), as ``csv.writer`` does;
    a cell still cannot break out of its field, and formula triggers are neutralised all the same.
    """
    return SafeWriter(handle, lineterminator=lineterminator, quote_all=quote_all)
