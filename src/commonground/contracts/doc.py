"""Render every feed contract as Markdown: the source of ``docs/contracts.md``.

Regenerate with ``commonground contracts --markdown > docs/contracts.md``; a test fails if the
file and the specs disagree.
"""

from __future__ import annotations

from commonground.contracts import codes
from commonground.contracts.feeds import DATE_OF_BIRTH_CHOICES, FEEDS, IDENTITY
from commonground.contracts.spec import Column, ColumnType, FeedContract

_TYPE_WORDS: dict[ColumnType, str] = {
    ColumnType.ID: "identifier",
    ColumnType.TEXT: "text",
    ColumnType.NAME: "name",
    ColumnType.DATE: "date `YYYY-MM-DD`",
    ColumnType.DATETIME: "date-time `YYYY-MM-DDTHH:MM[:SS]`",
    ColumnType.SEX: "`F` `M` `X` `U`",
    ColumnType.POSTCODE: "UK postcode",
    ColumnType.NHS_NUMBER: "NHS number (modulus 11)",
    ColumnType.UPRN: "UPRN (1-12 digits)",
    ColumnType.URN: "school URN (6 digits)",
    ColumnType.EMAIL: "email address",
    ColumnType.BOOL: "`true` / `false`",
    ColumnType.CODE: "code",
    ColumnType.CODE_LIST: "`;` list of codes",
    ColumnType.INTEGER: "whole number",
}

_HEADER = """# Feed contracts

Generated from `src/commonground/contracts/` by `commonground contracts --markdown`; do not edit
by hand (a test fails when this page and the specs disagree).

A partner sends one file per feed, named after the feed: `police_incidents.csv` or
`police_incidents.parquet`. CSV files are UTF-8 with a header row; header names are matched
without regard to case or surrounding spaces.

- **Required column**: the file is refused as a whole if the column is missing.
- **Value needed**: a blank or invalid cell sends the row to quarantine with the field and the reason.
  In a column that may be blank, an invalid value is blanked and a warning is recorded; the row loads.
  **Expected** (a date of birth in some feeds): a value should be there, but a blank loads with a
  warning naming the file, the row and the field, and an invalid value is blanked with a warning; the
  event is never lost for it ([date of birth](#date-of-birth-needed-or-expected)).
- Every row has a `record_id` unique within its feed.
- Cells longer than 2,000 characters and cells holding NUL bytes or bytes that are not UTF-8 are
  invalid.
- A text cell that begins like a spreadsheet formula (`=`, `+`, `-`, `@`, a tab or a carriage
  return; a plain number such as `-5` or `+44 20 7946 0000` does not) is kept as text, with a
  warning naming the row and the field. Every file the service writes for people to open puts a
  `'` before such a cell, so a spreadsheet shows it rather than running it.

## Contents
"""


def _anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    kept = "".join(ch for ch in heading.lower() if ch.isalnum() or ch in " -_")
    return kept.replace(" ", "-")


def _heading(feed: FeedContract) -> str:
    return f"`{feed.name}`: {feed.title}"


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _value_needed(column: Column) -> str:
    if column.unknown_allowed:
        return "expected"
    return _yes(not column.nullable)


def _column_row(column: Column) -> str:
    kind = _TYPE_WORDS[column.type]
    if column.values and len(column.values) <= 12:
        kind += ": " + ", ".join(f"`{v}`" for v in column.values)
    elif column.values:
        kind += " (see the code list below)"
    return f"| `{column.name}` | {kind} | {_yes(column.required)} | {_value_needed(column)} | {column.description} |"


def _feed_section(feed: FeedContract) -> list[str]:
    identity = ""
    if feed.person_level:
        may_be_blank = feed.column("date_of_birth").unknown_allowed
        identity = " Carries the identity block; its date of birth " + (
            "is expected, and a blank loads with a warning." if may_be_blank else "is needed on every row."
        )
    lines = [
        f"## {_heading(feed)}",
        "",
        f"From: {feed.source}. {feed.description}",
        "",
        f"Unique within the feed: {', '.join(f'`{u}`' for u in feed.unique)}.{identity}",
        "",
        "| column | type | required column | value needed | meaning |",
        "|---|---|---|---|---|",
    ]
    identity_names = {c.name for c in IDENTITY}
    own = [c for c in feed.columns if not (feed.person_level and c.name in identity_names)]
    lines += [_column_row(c) for c in own]
    if feed.person_level:
        lines.append("| *identity block* | see below | | | |")
    lines.append("")
    return lines


def _code_lists() -> list[str]:
    lines = ["## Code lists", ""]
    seen: set[tuple[str, ...]] = set()
    for feed in FEEDS.values():
        for column in feed.columns:
            if not column.values or column.values in seen:
                continue
            seen.add(column.values)
            meanings = codes.MEANINGS.get(column.values, {})
            lines += [f"### `{feed.name}.{column.name}`", "", "| code | meaning |", "|---|---|"]
            lines += [f"| `{v}` | {meanings.get(v, '')} |" for v in column.values]
            lines.append("")
    return lines


def _identity_row(column: Column) -> str:
    row = _column_row(column)
    if column.name == "date_of_birth":  # needed in some feeds, expected in others: said per feed, and below
        row = row.replace("| yes | yes |", "| yes | yes, or expected ([per feed](#date-of-birth-needed-or-expected)) |")
    return row


def _date_of_birth_section() -> list[str]:
    lines = [
        "### Date of birth: needed, or expected",
        "",
        "A blank date of birth used to send the row to quarantine in every feed, and with it the event:",
        "the detention, the attendance, the incident. Where the world has people who will not or cannot say,",
        "the date of birth is *expected* instead: a blank loads with a warning (file, row, field), an invalid",
        "value is blanked with a warning, and the record links on its other fields (names, sex, address, NHS",
        "number). The rules take the person's age from their other records; a person with no date of birth",
        "on any record is *age unknown*, and never counted as a child unless a record says so",
        "(see docs/rules.md). Where a partner always holds it, a blank is still a broken row.",
        "",
        "| feed | date of birth | why |",
        "|---|---|---|",
    ]
    for name, why in DATE_OF_BIRTH_CHOICES.items():
        kind = "expected" if FEEDS[name].column("date_of_birth").unknown_allowed else "needed"
        lines.append(f"| `{name}` | {kind} | {why[0].upper()}{why[1:]}. |")
    lines.append("")
    return lines


def render_markdown() -> str:
    lines = [_HEADER.rstrip("\n"), ""]
    lines += [f"- [`{f.name}`](#{_anchor(_heading(f))}): {f.title}" for f in FEEDS.values()]
    lines += ["- [The identity block](#the-identity-block)", "- [Code lists](#code-lists)", ""]
    for feed in FEEDS.values():
        lines += _feed_section(feed)
    lines += [
        "## The identity block",
        "",
        "Every feed that names a person carries these columns. They are personal data: ingest never",
        "writes their values to a message, a report or a log.",
        "",
        "| column | type | required column | value needed | meaning |",
        "|---|---|---|---|---|",
        *[_identity_row(c) for c in IDENTITY],
        "",
        *_date_of_birth_section(),
    ]
    lines += _code_lists()
    return "\n".join(lines).rstrip("\n") + "\n"
