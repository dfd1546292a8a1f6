"""Stable person ids: a person keeps their id from build to build when new records join them.

Each cluster of the new build is matched to the previous build's persons by the records they
share. The rule, applied greedily to every (cluster, previous person, shared records) triple in
this order, so the outcome never depends on the order rows happen to come in:

1. most shared records first;
2. on a tie, the older id (ids are numbered upwards, so the smaller);
3. then the cluster whose smallest record id sorts first.

A triple is taken when neither its cluster nor its previous id has been given out yet. So:

- **new records join a person**: the cluster shares all the person's records; it keeps the id;
- **a split** (a person's records now fall into two clusters): the cluster with more of them keeps
  the id; the other gets the id of another person it shares records with, or a fresh one;
- **a merge** (one cluster holds records of two previous persons): the cluster keeps the id of the
  person it shares most records with (the older on a tie); the other id is retired.

Clusters left without an id get fresh ones, ``P`` and ten digits, numbered on from the highest
ever issued (kept in ``build.json`` as ``next_person_number``), in order of their smallest record
id; a retired id is never issued again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

PREFIX = "P"
DIGITS = 10


def format_person_id(number: int) -> str:
    return f"{PREFIX}{number:0{DIGITS}d}"


def person_number(person_id: str) -> int | None:
    digits = person_id[len(PREFIX) :]
    return int(digits) if person_id.startswith(PREFIX) and digits.isdigit() else None


@dataclass(frozen=True)
class IdAssignment:
    ids: dict[str, str]
    """cluster key -> person id."""
    kept: int
    """Clusters that carried a previous person's id."""
    fresh: int
    """Clusters given a new id."""
    retired: tuple[str, ...]
    """Previous ids that no cluster carries (merged into another person, or all records gone)."""
    next_number: int

    def as_dict(self) -> dict[str, int]:
        return {"kept": self.kept, "fresh": self.fresh, "retired": len(self.retired)}


def assign_person_ids(
    *,
    clusters: Iterable[str],
    overlaps: Iterable[tuple[str, str, int]],
    previous_ids: Iterable[str] = (),
    next_number: int = 1,
) -> IdAssignment:
    """Person ids for ``clusters`` (each named by its smallest record id, the tie-break key).

    ``overlaps`` are ``(cluster, previous person id, shared record count)``; ``previous_ids`` are
    every id of the previous build (to report the retired ones and to never reissue a number).
    """
    cluster_keys = sorted(set(clusters))
    previous = set(previous_ids)
    numbers = [n for n in (person_number(p) for p in previous) if n is not None]
    next_number = max([next_number, *(n + 1 for n in numbers)])
    ordered = sorted(((-count, person, cluster) for cluster, person, count in overlaps if count > 0))
    ids: dict[str, str] = {}
    taken: set[str] = set()
    for _, person, cluster in ordered:
        if cluster in ids or person in taken:
            continue
        ids[cluster] = person
        taken.add(person)
    kept = len(ids)
    for cluster in cluster_keys:
        if cluster not in ids:
            ids[cluster] = format_person_id(next_number)
            next_number += 1
    return IdAssignment(
        ids=ids,
        kept=kept,
        fresh=len(cluster_keys) - kept,
        retired=tuple(sorted(previous - taken)),
        next_number=next_number,
    )


def person_of_record(cluster_of: Mapping[str, str], assignment: IdAssignment) -> dict[str, str]:
    """record -> person id, given record -> cluster key."""
    return {record: assignment.ids[cluster] for record, cluster in cluster_of.items()}
