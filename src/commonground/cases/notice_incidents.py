"""Which incident raised a school's notice about one child, and how the child is linked to it, read from the person
view: the words a notice may say, and nothing more.

A notice work item's evidence is the child's: the child named on a domestic-abuse incident (present, victim or
witness), an incident at the child's home, or an incident naming a parent of the child who lives elsewhere (the
rule's evidence with the signal :data:`PARENT_ELSEWHERE`). The notice shows the incident that raised it, the latest
of the evidence (an older incident naming the child is not it), with its police reference and the officer's
contact, and says how the child is linked to it (:class:`Involvement`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol
from zoneinfo import ZoneInfo

NOTICE_RULE = "notice.school_domestic_abuse"
"""The rule whose work items become notices."""
PRESENT_ROLES = frozenset({"child_present", "victim", "witness"})
PARENT_ELSEWHERE = "parent_elsewhere"
"""The notice rule's signal for a parent's incident at an address where the child did not live."""
LOCAL = ZoneInfo("Europe/London")
"""Partner feeds record moments in local time (the contract's ``DATETIME``)."""


class Involvement(StrEnum):
    """How a child named on a notice is linked to the incident, in the words the notice uses."""

    NAMED = "named"
    """Named on the incident as present, a victim or a witness."""
    AT_HOME = "at_home"
    """The incident was at the child's home; the child is not named on it."""
    PARENT_ELSEWHERE = "parent_elsewhere"
    """A parent of the child was involved; the child was not at the address (#20)."""

    @property
    def words(self) -> str:
        return INVOLVEMENT_WORDS[self]


INVOLVEMENT_WORDS = {
    Involvement.NAMED: "Present: named on the incident as present, a victim or a witness",
    Involvement.AT_HOME: "At home: the incident was at the pupil's home (not named on it as present)",
    Involvement.PARENT_ELSEWHERE: "A parent of this child was involved; the child was not at the address",
}


class NoticeSource(Protocol):
    """What notices read from the person view (:class:`commonground.cases.person_view.PersonView`)."""

    def identity(self, person_id: str) -> Any: ...

    def events(self, person_id: str, *, feeds: frozenset[str]) -> list[Any]: ...

    def incident(self, record_id: str) -> dict[str, Any] | None: ...

    def rule_results(self, person_id: str, *, feeds: frozenset[str] | None) -> list[Any]: ...


@dataclass(frozen=True)
class RaisingIncident:
    """One domestic-abuse incident behind a notice's work item, as the notice may describe it."""

    at: dt.datetime | None
    reference: str | None
    contact: str | None
    involvement: Involvement


def raising_incident(*, person_id: str, evidence: list[str], view: NoticeSource) -> RaisingIncident | None:
    """The incident that raised the notice: the latest of the item's evidence (the rule raises a notice only for an
    incident of the last days). The same moment on two rows (the incident, and the child named on it) is one
    incident: the row that knows more wins."""
    found = [i for i in _incidents(person_id, evidence, view) if i.at is not None]
    if not found:
        return None
    latest = max(i.at for i in found if i.at is not None)
    same = [i for i in found if i.at == latest]
    return max(same, key=lambda i: (i.involvement is Involvement.NAMED, i.reference is not None, i.contact is not None))


def _incidents(person_id: str, evidence: list[str], view: NoticeSource) -> list[RaisingIncident]:
    """Every incident among the evidence: those naming the child (with their role), those at the child's home and
    those of a parent elsewhere (the incident row's reference and contact)."""
    pairs = [tuple(e.split(":", 1)) for e in evidence]
    named = [
        e
        for e in view.events(person_id, feeds=frozenset({"police_incident_persons"}))
        if ("police_incident_persons", e.record_id) in pairs
    ]
    role_on = {str(e.data.get("incident_id")): str(e.data.get("role") or "") for e in named}
    found = [
        RaisingIncident(
            at=local_moment(e.data.get("occurred_at") or e.at),
            reference=text(e.data.get("incident_id"), 64),
            contact=text(e.data.get("officer_contact"), 300),
            involvement=Involvement.NAMED if str(e.data.get("role") or "") in PRESENT_ROLES else Involvement.AT_HOME,
        )
        for e in named
    ]
    rows = [record for feed, record in pairs if feed == "police_incidents"]
    elsewhere = _parent_elsewhere_records(person_id, view) if rows else set()
    for record_id in rows:
        row = view.incident(record_id)
        if row is None:
            continue
        reference = text(row.get("incident_id"), 64)
        if role_on.get(reference or "") in PRESENT_ROLES:
            involvement = Involvement.NAMED
        elif record_id in elsewhere:
            involvement = Involvement.PARENT_ELSEWHERE
        else:
            involvement = Involvement.AT_HOME
        found.append(
            RaisingIncident(
                at=local_moment(row.get("occurred_at")),
                reference=reference,
                contact=text(row.get("officer_contact"), 300),
                involvement=involvement,
            )
        )
    return found


def _parent_elsewhere_records(person_id: str, view: NoticeSource) -> set[str]:
    """The incident rows that are the child's notice evidence through a parent who lives elsewhere."""
    return {
        e.record_id
        for result in view.rule_results(person_id, feeds=frozenset({"police_incidents"}))
        if result.rule_id == NOTICE_RULE
        for e in result.evidence
        if e.signal == PARENT_ELSEWHERE
    }


def local_moment(value: Any) -> dt.datetime | None:
    """A moment from the person view (naive local time, or its ISO text) as an aware UTC datetime."""
    moment: dt.datetime
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            return None
    else:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=LOCAL)
    return moment.astimezone(dt.UTC)


def text(value: Any, limit: int) -> str | None:
    """A value as text of at most ``limit`` characters (no NUL), or None when blank."""
    if value is None:
        return None
    cleaned = str(value).replace("\x00", "").strip()
    return cleaned[:limit] or None
