"""What is inferred follows what may be seen (issue #16): one rule for every page, the API and the exports.

An indicator, a flag or a household link is inferred from records, and is as protected as they are. The reader's
agreements open some feeds of the person they are reading (:class:`Openings`), and, separately, some feeds of each
other person whose records the inference rests on (a household member whose drug-treatment record raised
"substance misuse in the household"). Then:

- an evidence record is shown only if the reader may open that record: a record of the person, from a feed opened
  for them; a record of another person, from a feed opened for *that* person, for the same purpose;
- an indicator or flag none of whose evidence the reader may open is not named at all: it is counted, and the page
  says the partnership holds further information and whom to ask (the hub), never which kind of partner holds it;
- one some of whose evidence is open is shown with that part only, and says it is partial;
- a record's details show only the fields the reader's agreements show for its feed (a school sees of a police
  incident when it was, that police attended and that a child was present; never the account);
- another member of the household is named (their id, their year of birth) only where the reader may open a
  record of theirs for the purpose; otherwise they are "another adult" or "another child" (or "another person"
  when no age is known), and nothing else about them is said. Living together is inferred from shared addresses
  and is said to be inferred.

Breaking glass opens everything of the person read in an emergency (it is audited and reported to the DPO).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

FURTHER_INFORMATION = (
    "The partnership holds further information about this person that your agreements do not open. If you need "
    "to know more for your purpose, contact the safeguarding hub."
)
"""What a reader is told when indicators or flags are withheld: no kind of partner, no kind of concern."""

PARTIAL = "Only part of the evidence is shown: the rest comes from records your agreements do not open."
LIVING_TOGETHER = (
    "Who lived together is inferred from records that give the same address at overlapping times; it is not a "
    "stated relationship."
)
ADULT_AGE = 18

E = TypeVar("E")
R = TypeVar("R")


@dataclass(frozen=True)
class Openings:
    """The feeds a reader may open, for one purpose: of the person read, and of each other person referred to."""

    person_id: str
    feeds: frozenset[str]
    others: Mapping[str, frozenset[str]] = field(default_factory=dict)
    everything: bool = False
    """Glass was broken: every record of the person read, and of those their inferences rest on, is open."""
    fields: Mapping[str, frozenset[str]] = field(default_factory=dict)
    """Feeds the reader's agreements open only in part, with the fields they show (#16)."""
    shared: frozenset[tuple[str, str]] = frozenset()
    """Records ``(feed, record_id)`` of the person read that a referral shared with the reader's organisation for
    this purpose, opened one by one beside the whole feeds of :attr:`feeds` (#16, #17)."""

    def shows(self, feed: str, record_id: str) -> bool:
        """Whether a record of the person read may be shown: its feed is open, or it was shared."""
        return self.everything or feed in self.feeds or (feed, record_id) in self.shared

    @property
    def only_shared(self) -> bool:
        """The reader sees this person only through what a referral shared: the rest is not shared with them."""
        return bool(self.shared) and not self.feeds and not self.everything

    def data(self, feed: str, data: Mapping[str, Any]) -> dict[str, Any]:
        """A record's details as the reader may see them: only the fields an agreement shows for its feed."""
        if self.everything or feed not in self.fields:
            return dict(data)
        shown = self.fields[feed]
        return {k: v for k, v in data.items() if k in shown}

    def opens(self, feed: str, about: str | None = None, record_id: str | None = None) -> bool:
        """Whether a record from ``feed`` about ``about`` (the person read when ``None``) may be shown; with its
        ``record_id``, a record of the person read that a referral shared is open too."""
        if self.everything:
            return True
        if about is None or about == self.person_id:
            return feed in self.feeds or (record_id is not None and (feed, record_id) in self.shared)
        return feed in self.others.get(about, frozenset())

    def names(self, other_id: str, their_feeds: Iterable[str]) -> bool:
        """Whether another person may be named: the reader may open at least one of their records."""
        return self.everything or bool(self.others.get(other_id, frozenset()) & frozenset(their_feeds))


@dataclass(frozen=True)
class Filtered(Generic[R]):
    """Indicators or flags as a reader may see them."""

    shown: list[R]
    partial: frozenset[str]
    """Rule ids of those shown with part of their evidence only."""
    withheld: int
    """How many are not named: none of their evidence may be opened."""


def filter_results(
    results: Iterable[R],
    openings: Openings,
    *,
    rule_of: Callable[[R], str],
    evidence_of: Callable[[R], list[E]],
    feed_of: Callable[[E], str],
    about_of: Callable[[E], str | None],
    with_evidence: Callable[[R, list[E]], R],
    record_of: Callable[[E], str | None] = lambda _: None,
) -> Filtered[R]:
    """Keep each result's evidence the reader may open (a record a referral shared, by its ``record_of``); drop
    (and count) a result left with none."""
    shown: list[R] = []
    partial: set[str] = set()
    withheld = 0
    for result in results:
        evidence = evidence_of(result)
        kept = [e for e in evidence if openings.opens(feed_of(e), about_of(e), record_of(e))]
        if not kept:
            withheld += 1
            continue
        if len(kept) < len(evidence):
            partial.add(rule_of(result))
        shown.append(with_evidence(result, kept))
    return Filtered(shown=shown, partial=frozenset(partial), withheld=withheld)


def described(date_of_birth: dt.date | None, on: dt.date) -> str:
    """How an unnamed household member is described: by whether they were an adult or a child ``on`` a day."""
    if date_of_birth is None:
        return "another person"
    age = on.year - date_of_birth.year - ((on.month, on.day) < (date_of_birth.month, date_of_birth.day))
    return "another adult" if age >= ADULT_AGE else "another child"
