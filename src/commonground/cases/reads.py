"""Reading many subjects at once, as every list of casework does: each subject is checked by the resolver, those it
refuses are withheld and only counted, and those shown are audited as read, one event each, in one append per
purpose (in the order the purposes first appear), in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from commonground.access.context import Context
from commonground.access.purposes import Purpose
from commonground.access.resolver import Decision, Subject

T = TypeVar("T")


@dataclass(frozen=True)
class Shown(Generic[T]):
    """What a list shows: the things the resolver let the reader see, and how many it withheld."""

    items: list[T]
    withheld: int


def read_each(
    ctx: Context,
    name: str,
    things: Iterable[T],
    *,
    subject_of: Callable[[T], Subject],
    purpose_of: Callable[[T], Purpose],
    keep: Callable[[T], bool] | None = None,
    at_most: int | None = None,
    stop_when_full: bool = False,
) -> Shown[T]:
    """Check ``name`` on each thing for its purpose and audit the reads of those shown.

    A thing the resolver refuses is withheld (counted). One it allows is shown if ``keep`` (a filter of the page's)
    keeps it and fewer than ``at_most`` are shown already; with ``stop_when_full`` the reading stops once
    ``at_most`` are shown, and what comes after is neither checked nor counted."""
    reads: list[tuple[Purpose, Decision, Subject]] = []
    shown: list[T] = []
    withheld = 0
    for thing in things:
        subject = subject_of(thing)
        purpose = purpose_of(thing)
        decision = ctx.check(name, subject, purpose=purpose)
        if not decision.allowed:
            withheld += 1
            continue
        full = at_most is not None and len(shown) >= at_most
        if full or (keep is not None and not keep(thing)):
            continue
        shown.append(thing)
        reads.append((purpose, decision, subject))
        if stop_when_full and at_most is not None and len(shown) >= at_most:
            break
    audit_by_purpose(ctx, reads)
    return Shown(items=shown, withheld=withheld)


def audit_by_purpose(ctx: Context, reads: Sequence[tuple[Purpose, Decision, Subject]]) -> None:
    """Record allowed reads, one event per subject, grouped by purpose in the order the purposes first appear."""
    by_purpose: dict[Purpose, list[tuple[Decision, Subject]]] = {}
    for purpose, decision, subject in reads:
        by_purpose.setdefault(purpose, []).append((decision, subject))
    for purpose, pairs in by_purpose.items():
        ctx.audit_reads(pairs, purpose=purpose)
