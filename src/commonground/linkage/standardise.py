"""The first line of an address, written one way, before any comparison.

Partners write the same home differently: ``42 Albert Rd`` and ``42 ALBERT ROAD``; ``Flat 2, 10
Mill Lane``, ``2/10 Mill Ln`` and ``10 Mill Lane Flat 2``. Compared as they come, such pairs fall
to "almost the same first line" (or lower), and a pair that agrees on everything else can miss the
threshold. This module writes every first line in one form:

1. upper case; apostrophes dropped (``JOHN'S`` is ``JOHNS``); every run of characters other than
   letters, digits and ``/`` becomes one space;
2. a flat moves to the end as ``FLAT <n>``: ``FLAT 2 10 MILL LANE`` (also ``APARTMENT``, ``APT``,
   ``FLT``), ``F2 10 MILL LANE`` and ``2/10 MILL LANE`` all become ``10 MILL LANE FLAT 2``, so the building's number
   leads (the house-number part, and blocking on it, read the building);
3. each word in :data:`WORDS` becomes its full form (``RD`` -> ``ROAD``, ``APT`` -> ``FLAT``);
   ``ST`` is ``STREET`` as the street's last word and ``SAINT`` elsewhere (``ST JOHNS RD``);
4. any ``/`` left becomes a space; runs of spaces become one; placeholders (``NO FIXED ABODE``)
   become missing.

The rules are written once, here, as data; :func:`address_sql` turns them into one SQL
expression (DuckDB's dialect; :mod:`.prepare` has sqlglot translate it for Spark) and
:func:`standardise_address` applies them in Python for one record at a time (:mod:`.pycompare`).
Tests hold the two to each other and to literal rows (``tests/linkage/test_standardise.py``).
No pattern holds a backslash or a back-reference, so both engines read them alike.
"""

from __future__ import annotations

import re

# Full form -> the short forms and misspellings partners use for it. Every entry is one word of
# capital letters. ST is handled apart (STREET or SAINT by position).
WORDS: dict[str, tuple[str, ...]] = {
    "ROAD": ("RD",),
    "AVENUE": ("AVE", "AV", "AVN"),
    "LANE": ("LN",),
    "CRESCENT": ("CRES", "CRESC", "CRS"),
    "COURT": ("CT", "CRT"),
    "DRIVE": ("DR", "DRV"),
    "GARDENS": ("GDNS", "GDN", "GARDNS"),
    "PLACE": ("PL",),
    "SQUARE": ("SQ",),
    "TERRACE": ("TERR", "TER", "TCE"),
    "CLOSE": ("CL",),
    "GROVE": ("GRV", "GR"),
    "PARK": ("PK",),
    "HOUSE": ("HSE",),
    "STREET": ("STR",),
    "FLAT": ("APARTMENT", "APT", "FLT"),
}
PLACEHOLDERS: tuple[str, ...] = ("", "NFA", "NO FIXED ABODE", "UNKNOWN", "NOT KNOWN", "NONE", "HOMELESS")
"""First lines that say there is no address: missing, not compared."""

_FLAT_WORDS = "FLAT|APARTMENT|APT|FLT"
_UNIT = "[0-9]+[A-Z]?"
# Patterns shared by the SQL and the Python forms (RE2 and Python's re read them alike).
CLEAN = "[^A-Z0-9/]+"
FLAT_FIRST = f"^({_FLAT_WORDS}) ({_UNIT}) ([0-9].*)$"
"""'FLAT 2 10 MILL LANE': groups flat word, flat, the rest (which starts with the building's number)."""
F_FIRST = f"^F({_UNIT}) ([0-9].*)$"
"""'F2 10 MILL LANE': groups flat, the rest."""
SLASHED = f"^({_UNIT}) ?/ ?({_UNIT}) (.+)$"
"""'2/10 MILL LANE': groups flat, building number, street."""
STREET_LAST = " ST$"
STREET_BEFORE_FLAT = " ST FLAT "

for _full, _shorts in WORDS.items():  # the SQL is built from these: letters only, checked once
    if not all(re.fullmatch("[A-Z]+", w) for w in (_full, *_shorts)):
        raise ValueError(f"address words must be capital letters only: {_full}: {_shorts}")


def _word_pattern(shorts: tuple[str, ...]) -> str:
    """The short forms as whole words in text whose words are each wrapped in their own spaces."""
    return " (" + "|".join(shorts) + ") "


def standardise_address(raw: str | None) -> str | None:
    """One first line of address in the standard form (None when missing or a placeholder)."""
    if raw is None:
        return None
    text = re.sub(CLEAN, " ", str(raw).upper().replace("'", "")).strip(" ")
    text = re.sub(STREET_LAST, " STREET", text)
    if found := re.fullmatch(FLAT_FIRST, text):
        text = f"{found[3]} FLAT {found[2]}"
    elif found := re.fullmatch(F_FIRST, text):
        text = f"{found[2]} FLAT {found[1]}"
    elif found := re.fullmatch(SLASHED, text):
        text = f"{found[2]} {found[3]} FLAT {found[1]}"
    text = text.replace(STREET_BEFORE_FLAT, " STREET FLAT ")
    padded = " " + text.replace(" ", "  ") + " "
    for full, shorts in WORDS.items():
        padded = re.sub(_word_pattern(shorts), f" {full} ", padded)
    padded = padded.replace(" ST ", " SAINT ")
    text = re.sub(" +", " ", padded.replace("/", " ")).strip(" ")
    return None if text in PLACEHOLDERS else text


def _literal(text: str) -> str:
    if "'" in text or "\\" in text:
        raise ValueError(f"not a plain pattern: {text!r}")
    return f"'{text}'"


def address_sql(column: str) -> str:
    """:func:`standardise_address` as one SQL expression (DuckDB dialect) over ``column``, a column
    of the query it goes into (e.g. ``r.address``); placeholders are left to the caller
    (:func:`placeholder_sql`). The cleaned text is written several times over: the caller computes
    the expression once (:mod:`.prepare` in a subquery)."""
    upper = f"REPLACE(UPPER({column}), CHR(39), '')"  # CHR(39): an apostrophe, dropped ("JOHN'S" is JOHNS)
    cleaned = f"TRIM(REGEXP_REPLACE({upper}, {_literal(CLEAN)}, ' ', 'g'))"
    t0 = f"REGEXP_REPLACE({cleaned}, {_literal(STREET_LAST)}, ' STREET')"
    flat_first, f_first, slashed = _literal(FLAT_FIRST), _literal(F_FIRST), _literal(SLASHED)
    text = (
        f"CASE WHEN REGEXP_MATCHES({t0}, {flat_first}) "
        f"THEN REGEXP_EXTRACT({t0}, {flat_first}, 3) || ' FLAT ' || REGEXP_EXTRACT({t0}, {flat_first}, 2) "
        f"WHEN REGEXP_MATCHES({t0}, {f_first}) "
        f"THEN REGEXP_EXTRACT({t0}, {f_first}, 2) || ' FLAT ' || REGEXP_EXTRACT({t0}, {f_first}, 1) "
        f"WHEN REGEXP_MATCHES({t0}, {slashed}) "
        f"THEN REGEXP_EXTRACT({t0}, {slashed}, 2) || ' ' || REGEXP_EXTRACT({t0}, {slashed}, 3) "
        f"|| ' FLAT ' || REGEXP_EXTRACT({t0}, {slashed}, 1) ELSE {t0} END"
    )
    text = f"REPLACE({text}, {_literal(STREET_BEFORE_FLAT)}, ' STREET FLAT ')"
    padded = f"' ' || REPLACE({text}, ' ', '  ') || ' '"
    for full, shorts in WORDS.items():
        padded = f"REGEXP_REPLACE({padded}, {_literal(_word_pattern(shorts))}, ' {full} ', 'g')"
    padded = f"REPLACE({padded}, ' ST ', ' SAINT ')"
    return f"TRIM(REGEXP_REPLACE(REPLACE({padded}, '/', ' '), ' +', ' ', 'g'))"


def placeholder_sql() -> str:
    """The placeholders as an SQL list, for ``... NOT IN (<this>)``."""
    return ", ".join(_literal(p) for p in PLACEHOLDERS)
