"""Data contracts: one typed spec per partner feed, and the value types they are built from.

The public surface is small: :data:`FEEDS` (every contract by name), :func:`feed_for_filename`,
and the spec classes. Validation of a single value lives in :mod:`commonground.contracts.values`.
"""

from commonground.contracts.feeds import FEEDS, feed_for_filename
from commonground.contracts.spec import Column, ColumnType, FeedContract

__all__ = ["FEEDS", "Column", "ColumnType", "FeedContract", "feed_for_filename"]
