"""A partner's list of records to retract (#16): ``<feed>.retractions.csv`` beside the feed's own files.

A partner that finds a record should never have been sent (recorded in error, about the wrong person, sent outside
the agreement) lists its ``record_id`` with the day it was retracted and a reason code. Ingest keeps the list, marks
each current record retracted (kept in the store's history until its retention ends) and the next build leaves it
out; work that rested only on it is withdrawn (:mod:`commonground.cases.withdrawals`).

Columns (a header row, any order, nothing else): ``record_id`` (an id), ``retracted_on`` (a date, YYYY-MM-DD) and
``reason`` (one of :data:`REASONS`). A correction is not a retraction: the partner sends the record again, with the
same ``record_id``, as a new version.
"""

from __future__ import annotations

from pathlib import Path

from commonground.contracts.feeds import FEEDS
from commonground.contracts.spec import Column, ColumnType, FeedContract

SUFFIX = ".retractions.csv"

REASONS: dict[str, str] = {
    "recorded_in_error": "it was recorded in error",
    "wrong_person": "it was recorded against the wrong person",
    "sent_in_error": "it was sent to the partnership in error",
    "duplicate": "it duplicated another record",
    "withdrawn_by_partner": "the partner withdrew it",
}
"""Reason code -> the words a page may say after "the partner retracted it:" (never the record's content)."""

COLUMNS = (
    Column(name="record_id", type=ColumnType.ID, description="The record retracted, as the partner sent it."),
    Column(name="retracted_on", type=ColumnType.DATE, description="The day the partner retracted it."),
    Column(
        name="reason",
        type=ColumnType.CODE,
        description="Why, as a code: " + ", ".join(REASONS) + ".",
        values=tuple(REASONS),
    ),
)


def retraction_feed(path: Path | str) -> FeedContract | None:
    """The feed a retraction list is named after (``police_incidents.retractions.csv``), or ``None``."""
    name = Path(path).name
    if not name.lower().endswith(SUFFIX):
        return None
    return FEEDS.get(name[: -len(SUFFIX)])
