"""Pseudonymised, disclosure-controlled statistics: the one layer every published figure passes through.

```python
from commonground.stats import NHS_ENGLAND, SmallNumbers, load_policy, protect, run_stats

NHS_ENGLAND.count(6)                      # '*'   (one figure on its own)
protect(counts, lines, NHS_ENGLAND)       # a table with totals: primary and secondary suppression
run_stats(build_dir=build.path, out_dir=Path("stats"))   # every table of a build, CSV + JSON sidecars
```

- :mod:`~commonground.stats.disclosure`: small-number rules as data, per source (``disclosure.yaml``).
- :mod:`~commonground.stats.suppression`: primary and secondary suppression over linked figures.
- :mod:`~commonground.stats.tables` and :mod:`~commonground.stats.run`: the published tables.

See docs/stats.md. The run is imported lazily (it needs DuckDB); the rules need nothing heavy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from commonground.stats.disclosure import (
    NHS_ENGLAND,
    DisclosurePolicy,
    SmallNumbers,
    load_policy,
    strictest,
)
from commonground.stats.suppression import Line, Protected, cell, determined, protect, table_lines

if TYPE_CHECKING:
    from commonground.stats.run import StatsResult, run_stats

__all__ = [
    "NHS_ENGLAND",
    "DisclosurePolicy",
    "Line",
    "Protected",
    "SmallNumbers",
    "StatsResult",
    "cell",
    "determined",
    "load_policy",
    "protect",
    "run_stats",
    "strictest",
    "table_lines",
]


def __getattr__(name: str) -> Any:
    if name in {"run_stats", "StatsResult"}:
        from commonground.stats import run

        return getattr(run, name)
    raise AttributeError(name)
