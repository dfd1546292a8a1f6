"""Small numbers in an evaluation's published outputs.

The project's rule is per dataset (docs/DOMAIN: NHS England's convention for hospital and
emergency-care data). The default here is that convention: a count of 1 to 7 is shown as ``*``,
every other count is rounded to the nearest 5, and percentages are computed from the rounded
counts. An estimate (a risk, a difference, a ratio) is withheld when a count it rests on is
1 to 7. An area can set another rule (for example DfE's 1-5) with :class:`SmallNumbers`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SmallNumbers:
    """Counts from 1 to ``suppress_up_to`` are hidden; others are rounded to a multiple of ``round_to``."""

    suppress_up_to: int = 7
    round_to: int = 5
    symbol: str = "*"
    name: str = "NHS England: counts 1-7 suppressed, others rounded to the nearest 5"

    def is_small(self, count: int) -> bool:
        return 0 < count <= self.suppress_up_to

    def rounded(self, count: int) -> int | None:
        """The count as published, or None when it is suppressed."""
        if self.is_small(count):
            return None
        if self.round_to <= 1:
            return count
        return int(self.round_to * ((count + self.round_to / 2) // self.round_to))

    def count(self, count: int) -> str:
        value = self.rounded(count)
        return self.symbol if value is None else f"{value:,}"

    def percent(self, count: int, total: int) -> str:
        """A percentage from the rounded figures, or the symbol when either is suppressed."""
        numerator, denominator = self.rounded(count), self.rounded(total)
        if numerator is None or denominator is None:
            return self.symbol
        if denominator == 0:
            return "-"
        return f"{100 * numerator / denominator:.1f} %"

    def any_small(self, *counts: int) -> bool:
        return any(self.is_small(c) for c in counts)


NHS_ENGLAND = SmallNumbers()
