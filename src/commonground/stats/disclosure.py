"""Small-number rules as data: what a published count may show, per source of the figures.

A :class:`SmallNumbers` rule says which counts are hidden (1 to ``suppress_up_to``) and how the
others are rounded (to a multiple of ``round_to``). Rules are typed specs: they validate when built
and round-trip to YAML (``disclosure.yaml`` beside this module holds the built-in ones and which
source uses which). The cell-level methods (``count``, ``percent``, ``rounded``) are what a single
figure needs; a table with totals goes through :func:`commonground.stats.suppression.protect`,
which adds the secondary suppression a table needs.

The built-in rules (see docs/stats.md for the sources):

- ``nhs_england``: NHS England's convention for hospital and emergency-care data below national
  level: a count of 1 to 7 is shown as ``*``, every other count rounded to the nearest 5;
  percentages from the rounded counts.
- ``dfe``: the Department for Education's children in need tables: a count of 1 to 5 is shown as
  ``c`` with secondary suppression; other counts are shown as they are.
- ``partnership``: the partnership's own rule (by default the strictest of the two: 1 to 7
  hidden, others to the nearest 5), which an area sets in its own file (:func:`load_policy`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from commonground.errors import UserError

POLICY_FILE = Path(__file__).with_name("disclosure.yaml")


class SmallNumbers(BaseModel):
    """Counts from 1 to ``suppress_up_to`` are hidden; others are rounded to a multiple of ``round_to``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    suppress_up_to: int = Field(default=7, ge=0)
    round_to: int = Field(default=5, ge=1)
    symbol: str = Field(default="*", min_length=1)
    name: str = "NHS England: counts 1-7 suppressed, others rounded to the nearest 5"
    source: str = ""
    """Where the rule comes from, in words (a policy document, a data-sharing agreement)."""

    def is_small(self, count: int) -> bool:
        return 0 < count <= self.suppress_up_to

    def round_count(self, count: int) -> int:
        """``count`` to the nearest multiple of ``round_to`` (halves up), whether or not it is small."""
        if self.round_to <= 1:
            return count
        return int(self.round_to * ((count + self.round_to / 2) // self.round_to))

    def rounded(self, count: int) -> int | None:
        """The count as published, or None when it is suppressed."""
        if self.is_small(count):
            return None
        return self.round_count(count)

    def count(self, count: int) -> str:
        value = self.rounded(count)
        return self.symbol if value is None else f"{value:,}"

    def percent(self, count: int, total: int) -> str:
        """A percentage from the rounded figures, or the symbol when either is suppressed."""
        return self.percent_of(self.rounded(count), self.rounded(total))

    def percent_of(self, numerator: int | None, denominator: int | None) -> str:
        """A percentage from two published (rounded) figures; the symbol when either is hidden."""
        if numerator is None or denominator is None:
            return self.symbol
        if denominator == 0:
            return "-"
        return f"{100 * numerator / denominator:.1f} %"

    def any_small(self, *counts: int) -> bool:
        return any(self.is_small(c) for c in counts)

    def describe(self) -> str:
        """The rule in words, as written into every output's metadata."""
        hidden = f"counts from 1 to {self.suppress_up_to} are shown as '{self.symbol}'" if self.suppress_up_to else ""
        rounding = f"rounded to the nearest {self.round_to}" if self.round_to > 1 else "shown as they are"
        others = f"other counts are {rounding}" if hidden else f"counts are {rounding}"
        return "; ".join(p for p in (hidden, others) if p)

    def metadata(self) -> dict[str, object]:
        return {**self.model_dump(), "in_words": self.describe()}


class DisclosurePolicy(BaseModel):
    """The named rules and which rule each source of figures uses.

    ``sources`` maps a source (a feed name such as ``ed_attendances``, or a kind of figure such as
    ``population``) to a rule name; a table resting on several sources uses the strictest of their
    rules (:meth:`rule_for`). ``default`` is the rule of a source the map does not name.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    rules: dict[str, SmallNumbers]
    sources: dict[str, str] = Field(default_factory=dict)
    default: str = "partnership"

    @model_validator(mode="after")
    def _names_exist(self) -> DisclosurePolicy:
        unknown = sorted({self.default, *self.sources.values()} - set(self.rules))
        if unknown:
            raise ValueError(f"unknown rule(s) {', '.join(unknown)}; the rules are {', '.join(sorted(self.rules))}")
        return self

    def rule(self, name: str) -> SmallNumbers:
        try:
            return self.rules[name]
        except KeyError:
            raise UserError(f"no small-number rule {name!r}; the rules are {', '.join(sorted(self.rules))}") from None

    def rule_for(self, sources: Iterable[str]) -> SmallNumbers:
        """The rule for figures resting on ``sources``: the strictest of their rules."""
        chosen = [self.rule(self.sources.get(s, self.default)) for s in sources] or [self.rule(self.default)]
        return strictest(chosen)

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.model_dump(mode="json"), sort_keys=False, allow_unicode=True)


def strictest(rules: Iterable[SmallNumbers]) -> SmallNumbers:
    """One rule at least as strict as each of ``rules``: the widest suppression and the coarsest rounding.

    The rounding base is the least common multiple of theirs, so a published figure is a multiple of each."""
    chosen = list(rules)
    if not chosen:
        raise ValueError("strictest() of no rules")
    if len({r.model_dump_json() for r in chosen}) == 1:
        return chosen[0]
    suppress = max(r.suppress_up_to for r in chosen)
    round_to = math.lcm(*(r.round_to for r in chosen))
    symbol = next(r.symbol for r in chosen if r.suppress_up_to == suppress)
    names = " + ".join(dict.fromkeys(r.name for r in chosen))
    return SmallNumbers(
        suppress_up_to=suppress,
        round_to=round_to,
        symbol=symbol,
        name=f"strictest of: {names}",
        source="; ".join(dict.fromkeys(r.source for r in chosen if r.source)),
    )


def load_policy(path: Path | None = None) -> DisclosurePolicy:
    """The policy in ``path`` (YAML), or the built-in one. An area's file may name only the rules it changes:
    they are laid over the built-in rules."""
    base = _builtin()
    if path is None:
        return base
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as error:
        raise UserError(f"{path}: cannot read the small-number policy ({error})") from None
    if not isinstance(data, Mapping):
        raise UserError(f"{path}: the small-number policy must be a mapping with 'rules' and 'sources'")
    merged = {
        "rules": {**base.model_dump(mode="json")["rules"], **dict(data.get("rules") or {})},
        "sources": {**base.sources, **dict(data.get("sources") or {})},
        "default": data.get("default", base.default),
    }
    try:
        return DisclosurePolicy.model_validate(merged)
    except ValueError as error:
        raise UserError(f"{path}: {error}") from None


@cache
def _builtin() -> DisclosurePolicy:
    return DisclosurePolicy.model_validate(yaml.safe_load(POLICY_FILE.read_text(encoding="utf-8")))


NHS_ENGLAND = SmallNumbers(
    source="NHS England / NHS Digital, Hospital Episode Statistics and ECDS small-number convention "
    "(below national level)"
)
