"""The one permission resolver. Every route asks it, through ``require(...)``, and so do list filters.

Precedence, in the order it is applied (the first rule that decides, decides):

1. An action open to everyone (signing in, the health check, the API reference) is allowed.
2. Nobody signed in: refused (401). Signed in with a one-time password someone else chose: only seeing one's own
   account and changing the password are allowed until it is changed.
3. A written denial for the person's role (``DENIALS``) refuses the action, and any action it also requires.
   Deny beats allow: no grant, agreement or break-glass overrides a denial.
4. The role must be granted the action and every action it also requires; otherwise refused.
5. For one subject: an action limited to the own organisation refuses a subject belonging (or routed) to another
   organisation, or routed to another role, unless the role acts partnership-wide. Break-glass does not open
   another organisation's queue.
6. An identifiable action needs a stated purpose, and an agreement of the person's organisation that is in force
   now, allows that purpose, covers every feed the subject's records come from, and is about people like this
   one: everyone, or the organisation's own pupils or own cases, as recorded relationships say. Agreement beats
   role: a role grant alone never opens a person's records. Records a referral shared with the organisation make
   the person its own case for the referral's purpose only, and for those records only, while the referral is
   with it (:func:`records_shared_to`; #16, #17).
7. Failing 6, break-glass: a role granted ``break-glass`` and not denied it, with a reason in words (at least 20
   visible characters and four words: :mod:`commonground.access.reasons`), is allowed; the access is audited as
   break-glass and reported to the data protection officer.
8. Otherwise refused.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from typing import Any, Protocol, cast

from sqlalchemy import ColumnElement, Select, Table, bindparam, select
from sqlalchemy.orm import Session

from commonground.access.actions import BREAK_GLASS, Action, SubjectKind, action, denial_for
from commonground.access.agreements import About, in_force_between
from commonground.access.audit import Actor
from commonground.access.models import Agreement
from commonground.access.purposes import Purpose
from commonground.access.reasons import MIN_REASON_CHARACTERS, reason_problem
from commonground.access.relationships import SharedRecords, relationships_of, relationships_of_each, shared_with
from commonground.access.roles import ROLE_GRANTS, Role
from commonground.contracts import FEEDS
from commonground.store.organisation_types import OrganisationType

MIN_BREAK_GLASS_REASON = MIN_REASON_CHARACTERS
WHILE_PASSWORD_CHANGE_DUE = frozenset({"view-self", "change-own-password"})
CHANGE_PASSWORD_FIRST = "change the one-time password you were given before anything else"  # noqa: S105
ACCESS_PENDING = (
    "your access to people's records waits for a second person to approve it (the data protection officer); "
    "everything else works meanwhile"
)


@dataclass(frozen=True)
class Principal:
    """A signed-in person as the resolver sees them: one organisation, one role."""

    user_id: int
    label: str
    organisation_id: int
    organisation_type: OrganisationType
    role: Role
    password_change_due: bool = False
    """Signed in with a password someone else chose: only :data:`WHILE_PASSWORD_CHANGE_DUE` until it is changed."""
    access_pending: bool = False
    """The account's record access waits for a second person's approval: nothing identifiable until then."""

    @property
    def actor(self) -> Actor:
        return Actor(label=self.label, user_id=self.user_id, organisation_id=self.organisation_id, role=self.role.value)


@dataclass(frozen=True)
class Subject:
    """What an action is about: its kind, the organisation (and role) it belongs or is routed to, the person it
    concerns and the feeds its records come from."""

    kind: SubjectKind
    id: str | None = None
    organisation_id: int | None = None
    role: Role | None = None
    person_id: str | None = None
    feeds: frozenset[str] = frozenset()


class Refusal(StrEnum):
    """Why the resolver refused, as data: what a caller does with a refusal depends on this, never on its words."""

    SIGN_IN = "sign-in"
    CHANGE_PASSWORD_FIRST = "change-password-first"  # noqa: S105 (a kind of refusal, not a password)
    ROLE = "role"
    OTHER_ORGANISATION = "other-organisation"
    OTHER_ROLE = "other-role"
    NO_PURPOSE = "no-purpose"
    NO_AGREEMENT = "no-agreement"
    BREAK_GLASS = "break-glass"
    ACCESS_PENDING = "access-pending"
    """The account's record access waits for a second person's approval."""
    WORKFLOW = "workflow"
    """Refused by an operation's own rule (only the receiving organisation handles a referral, say)."""

    @property
    def hides(self) -> bool:
        """A refusal about a subject that belongs, or is routed, elsewhere: answered as "not found", so that
        nobody learns that it exists."""
        return self in (Refusal.OTHER_ORGANISATION, Refusal.OTHER_ROLE)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    action: str
    reason: str
    status: int = 200
    agreements: tuple[str, ...] = ()
    break_glass: bool = False
    refusal: Refusal | None = None
    """Set when refused: the kind of refusal (:class:`Refusal`)."""


@dataclass(frozen=True)
class AgreementTerms:
    reference: str
    feeds: frozenset[str]
    about: frozenset[About]
    purposes: frozenset[Purpose]
    fields: Mapping[str, frozenset[str]] = field(default_factory=dict)
    """Per feed, the only fields the agreement shows (a feed not named shows all)."""


class Facts(Protocol):
    """What the resolver reads from the store; a fake in tests, :class:`StoreFacts` in the service."""

    def agreements_in_force(self, *, organisation_id: int, at: dt.datetime) -> Sequence[AgreementTerms]: ...

    def relationships(self, *, person_id: str, organisation_id: int, at: dt.datetime) -> frozenset[About]: ...

    def relationships_of_each(
        self, *, person_ids: Sequence[str], organisation_id: int, at: dt.datetime
    ) -> dict[str, frozenset[About]]: ...

    def shares(self, *, person_id: str, organisation_id: int, at: dt.datetime) -> SharedRecords: ...


class StoreFacts:
    """Facts read from the operational store, fresh on every call: an ended agreement stops access at once."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def agreements_in_force(self, *, organisation_id: int, at: dt.datetime) -> Sequence[AgreementTerms]:
        rows = self.session.connection().execute(_agreements_statement(), {"organisation_id": organisation_id})
        return terms_in_force(rows, at=at)

    def relationships(self, *, person_id: str, organisation_id: int, at: dt.datetime) -> frozenset[About]:
        return relationships_of(self.session, person_id=person_id, organisation_id=organisation_id, at=at)

    def relationships_of_each(
        self, *, person_ids: Sequence[str], organisation_id: int, at: dt.datetime
    ) -> dict[str, frozenset[About]]:
        return relationships_of_each(self.session, person_ids=person_ids, organisation_id=organisation_id, at=at)

    def shares(self, *, person_id: str, organisation_id: int, at: dt.datetime) -> SharedRecords:
        return shared_with(self.session, person_id=person_id, organisation_id=organisation_id, at=at)


class AgreementRow(Protocol):
    """An agreement as the resolver reads it from the store (the columns of :func:`agreement_columns`)."""

    reference: str
    feeds: list[str]
    fields: dict[str, list[str]] | None
    about: list[str]
    purposes: list[str]
    valid_from: dt.date
    valid_until: dt.date | None
    ended_at: dt.datetime | None


def terms_in_force(rows: Iterable[AgreementRow], *, at: dt.datetime) -> list[AgreementTerms]:
    """The terms of the agreements among ``rows`` that are in force at ``at``."""
    return [
        AgreementTerms(
            reference=row.reference,
            feeds=frozenset(row.feeds),
            about=frozenset(About(a) for a in row.about),
            purposes=frozenset(Purpose(p) for p in row.purposes),
            fields={f: frozenset(n) for f, n in (row.fields or {}).items()},
        )
        for row in rows
        if in_force_between(valid_from=row.valid_from, valid_until=row.valid_until, ended_at=row.ended_at, at=at)
    ]


def agreement_columns() -> tuple[ColumnElement[Any], ...]:
    """The columns of ``agreements`` the resolver reads; the sign-in statement reads them too (one statement for
    who is asking and what their organisation's agreements allow)."""
    table = cast(Table, Agreement.__table__)
    return (
        table.c.reference,
        table.c.feeds,
        table.c.fields,
        table.c.about,
        table.c.purposes,
        table.c.valid_from,
        table.c.valid_until,
        table.c.ended_at,
    )


@cache
def _agreements_statement() -> Select[str, list[str], list[str], list[str], dt.date, dt.date | None, Any]:
    """An organisation's agreements, the columns the resolver reads: built once, with a bound parameter (every
    identifiable request runs it, and building a statement costs more CPU than running it)."""
    table = cast(Table, Agreement.__table__)
    return select(*agreement_columns()).where(table.c.organisation_id == bindparam("organisation_id"))


class RequestFacts:
    """Facts read once per request and kept for that request only (a request is one moment, ``at``): the resolver
    and the route it let through see the same agreements and relationships without reading them twice, and the
    next request reads them afresh, so an agreement ended between two requests stops the second. A request that
    changes agreements or relationships (the DPO's, a referral) does not read them back for an identifiable check
    afterwards; one that did would need its own :class:`StoreFacts`."""

    def __init__(self, facts: Facts) -> None:
        self._facts = facts
        self._agreements: dict[tuple[int, dt.datetime], Sequence[AgreementTerms]] = {}
        self._relationships: dict[tuple[str, int, dt.datetime], frozenset[About]] = {}
        self._shares: dict[tuple[str, int, dt.datetime], SharedRecords] = {}

    def know_agreements(self, *, organisation_id: int, at: dt.datetime, terms: Sequence[AgreementTerms]) -> None:
        """Agreements read with the sign-in, in this request's transaction: not read again."""
        self._agreements[(organisation_id, at)] = terms

    def agreements_in_force(self, *, organisation_id: int, at: dt.datetime) -> Sequence[AgreementTerms]:
        key = (organisation_id, at)
        if key not in self._agreements:
            self._agreements[key] = self._facts.agreements_in_force(organisation_id=organisation_id, at=at)
        return self._agreements[key]

    def relationships(self, *, person_id: str, organisation_id: int, at: dt.datetime) -> frozenset[About]:
        key = (person_id, organisation_id, at)
        if key not in self._relationships:
            self._relationships[key] = self._facts.relationships(
                person_id=person_id, organisation_id=organisation_id, at=at
            )
        return self._relationships[key]

    def relationships_of_each(
        self, *, person_ids: Sequence[str], organisation_id: int, at: dt.datetime
    ) -> dict[str, frozenset[About]]:
        missing = [p for p in person_ids if (p, organisation_id, at) not in self._relationships]
        if missing:
            found = self._facts.relationships_of_each(person_ids=missing, organisation_id=organisation_id, at=at)
            for person_id in missing:
                self._relationships[(person_id, organisation_id, at)] = found.get(person_id, frozenset())
        return {p: self._relationships[(p, organisation_id, at)] for p in person_ids}

    def shares(self, *, person_id: str, organisation_id: int, at: dt.datetime) -> SharedRecords:
        key = (person_id, organisation_id, at)
        if key not in self._shares:
            self._shares[key] = self._facts.shares(person_id=person_id, organisation_id=organisation_id, at=at)
        return self._shares[key]


def _refuse(act: Action, reason: str, refusal: Refusal, status: int = 403) -> Decision:
    return Decision(allowed=False, action=act.name, reason=reason, status=status, refusal=refusal)


def _role_level(principal: Principal, act: Action) -> Decision:
    """Steps 3 and 4, for the action and every action it also requires."""
    current: Action | None = act
    while current is not None:
        denial = denial_for(principal.role, current)
        if denial is not None:
            return _refuse(act, f"{principal.role.label}: {denial.reason}", Refusal.ROLE)
        if current.name not in ROLE_GRANTS[principal.role]:
            return _refuse(act, f"the role {principal.role.label} is not granted '{current.name}'", Refusal.ROLE)
        current = action(current.also_requires) if current.also_requires else None
    return Decision(allowed=True, action=act.name, reason=f"granted to {principal.role.label}")


def _own_organisation(principal: Principal, act: Action, subject: Subject) -> Decision | None:
    """Step 5: a refusal, or None when the subject is the person's own organisation's (or the role is wide)."""
    if not act.own_organisation or principal.role in act.partnership_wide:
        return None
    if subject.organisation_id != principal.organisation_id:
        return _refuse(act, "it belongs to another organisation", Refusal.OTHER_ORGANISATION)
    if subject.role is not None and subject.role != principal.role:
        return _refuse(act, f"it is routed to the role {subject.role.label}", Refusal.OTHER_ROLE)
    return None


def resolve(
    name: str,
    *,
    principal: Principal | None,
    facts: Facts,
    at: dt.datetime,
    subject: Subject | None = None,
    purpose: Purpose | None = None,
    break_glass_reason: str | None = None,
) -> Decision:
    """Decide whether ``principal`` may take the action ``name`` (on ``subject``, for ``purpose``), in words.

    Without a subject, only steps 1-4 apply (may this person take this kind of action at all?); a route then
    resolves again for each subject it shows or changes.
    """
    act = action(name)
    if act.public:
        return Decision(allowed=True, action=name, reason="open to everyone")
    if principal is None:
        return _refuse(act, "sign in first", Refusal.SIGN_IN, status=401)
    if principal.password_change_due and name not in WHILE_PASSWORD_CHANGE_DUE:
        return _refuse(act, CHANGE_PASSWORD_FIRST, Refusal.CHANGE_PASSWORD_FIRST)
    decision = _role_level(principal, act)
    if decision.allowed and principal.access_pending and (act.identifiable or act.name == BREAK_GLASS):
        return _refuse(act, ACCESS_PENDING, Refusal.ACCESS_PENDING)
    if not decision.allowed or subject is None:
        return decision
    refusal = _own_organisation(principal, act, subject)
    if refusal is not None:
        return refusal
    if not act.identifiable:
        return decision
    return _identifiable(
        principal, act, subject, facts=facts, at=at, purpose=purpose, break_glass_reason=break_glass_reason
    )


def _identifiable(
    principal: Principal,
    act: Action,
    subject: Subject,
    *,
    facts: Facts,
    at: dt.datetime,
    purpose: Purpose | None,
    break_glass_reason: str | None,
) -> Decision:
    """Steps 6-8."""
    if subject.person_id is None:
        raise ValueError(f"'{act.name}' opens identifiable records: its subject must name the person")
    if purpose is None:
        return _refuse(act, "say for which purpose you are opening this record", Refusal.NO_PURPOSE)
    candidates = [
        terms
        for terms in facts.agreements_in_force(organisation_id=principal.organisation_id, at=at)
        if purpose in terms.purposes and subject.feeds <= terms.feeds
    ]
    about = _about(facts, candidates, person_id=subject.person_id, organisation_id=principal.organisation_id, at=at)
    covering = agreements_covering(
        facts, organisation_id=principal.organisation_id, purpose=purpose, feeds=subject.feeds, about=about, at=at
    )
    if covering:
        return Decision(
            allowed=True, action=act.name, reason=f"under agreement {', '.join(covering)}", agreements=covering
        )
    shared = _covering_shared(facts, candidates, principal=principal, subject=subject, purpose=purpose, at=at)
    if shared:
        reason = f"under agreement {', '.join(shared)}, for the records a referral shared"
        return Decision(allowed=True, action=act.name, reason=reason, agreements=shared)
    if break_glass_reason is not None:
        glass = _role_level(principal, action(BREAK_GLASS))
        if not glass.allowed:
            return _refuse(act, glass.reason, Refusal.BREAK_GLASS)
        problem = reason_problem(break_glass_reason)
        if problem is not None:
            return _refuse(act, f"break-glass needs a reason: {problem}", Refusal.BREAK_GLASS)
        return Decision(allowed=True, action=act.name, reason="break-glass, reported to the DPO", break_glass=True)
    return _refuse(act, _why_no_agreement(facts, principal, subject, purpose, at=at), Refusal.NO_AGREEMENT)


def _own_case_terms(candidates: Sequence[AgreementTerms]) -> list[AgreementTerms]:
    return [terms for terms in candidates if About.OWN_CASES in terms.about]


def _covering_shared(
    facts: Facts,
    candidates: Sequence[AgreementTerms],
    *,
    principal: Principal,
    subject: Subject,
    purpose: Purpose,
    at: dt.datetime,
) -> tuple[str, ...]:
    """The agreements about own cases that cover the subject through records shared with the organisation for
    ``purpose`` (a referral's): the subject's feeds must be among the shared records' feeds the agreement covers,
    and at least one shared record must be covered (#16). The shares are read only when such an agreement exists."""
    own = _own_case_terms(candidates)
    if not own or subject.person_id is None:
        return ()
    records = facts.shares(person_id=subject.person_id, organisation_id=principal.organisation_id, at=at).get(
        purpose, frozenset()
    )
    found: list[str] = []
    for terms in own:
        covered = {feed for feed, _ in records if feed in terms.feeds}
        if covered and subject.feeds <= covered:
            found.append(terms.reference)
    return tuple(found)


def records_shared_to(
    principal: Principal, *, person_id: str, purpose: Purpose, facts: Facts, at: dt.datetime
) -> frozenset[tuple[str, str]]:
    """The records ``(feed, record_id)`` of ``person_id`` that referrals with the person's organisation share for
    ``purpose`` and that an agreement of it about its own cases, in force at ``at``, lets it open for that purpose:
    opened one by one, beside the feeds :func:`feeds_open_to` opens whole (#16, #17)."""
    in_force = facts.agreements_in_force(organisation_id=principal.organisation_id, at=at)
    own = _own_case_terms([terms for terms in in_force if purpose in terms.purposes])
    if not own:
        return frozenset()
    records = facts.shares(person_id=person_id, organisation_id=principal.organisation_id, at=at).get(
        purpose, frozenset()
    )
    feeds = {feed for terms in own for feed in terms.feeds}
    return frozenset(r for r in records if r[0] in feeds)


def _why_no_agreement(
    facts: Facts, principal: Principal, subject: Subject, purpose: Purpose, *, at: dt.datetime
) -> str:
    """The refusal in words, naming what is missing: the purpose altogether, or the kinds of records no agreement
    for the purpose covers (#17: a referral refused for its mental-health evidence said the purpose was the cause)."""
    for_purpose = [
        terms
        for terms in facts.agreements_in_force(organisation_id=principal.organisation_id, at=at)
        if purpose in terms.purposes
    ]
    about = _about(
        facts, for_purpose, person_id=subject.person_id or "", organisation_id=principal.organisation_id, at=at
    )
    covered = {f for terms in for_purpose if terms.about & about for f in terms.feeds}
    missing = sorted(subject.feeds - covered)
    if for_purpose and covered and missing:
        kinds = ", ".join(FEEDS[f].title.lower() if f in FEEDS else f for f in missing)
        return (
            f"no agreement of your organisation in force covers {purpose.value} for records of these kinds "
            f"about this person: {kinds}"
        )
    return f"no agreement of your organisation in force covers {purpose.value} for these records about this person"


def _about(
    facts: Facts, candidates: Sequence[AgreementTerms], *, person_id: str, organisation_id: int, at: dt.datetime
) -> frozenset[About]:
    """Everyone, and the person's relationships to the organisation (own pupil, own case) in force at ``at``. The
    relationships are read only when one of the ``candidates`` (the agreements that could decide) is about fewer
    people than everyone: otherwise they cannot change the answer, and not reading them saves a query."""
    if all(About.EVERYONE in terms.about for terms in candidates):
        return frozenset({About.EVERYONE})
    return facts.relationships(person_id=person_id, organisation_id=organisation_id, at=at) | {About.EVERYONE}


def agreements_covering(
    facts: Facts,
    *,
    organisation_id: int,
    purpose: Purpose,
    feeds: frozenset[str],
    about: frozenset[About] | set[About],
    at: dt.datetime,
) -> tuple[str, ...]:
    """The references of the organisation's agreements in force at ``at`` that allow ``purpose``, cover every feed
    of ``feeds`` and are about people related to it as ``about`` says (step 6 of the precedence above)."""
    return tuple(
        terms.reference
        for terms in facts.agreements_in_force(organisation_id=organisation_id, at=at)
        if purpose in terms.purposes and feeds <= terms.feeds and terms.about & about
    )


def feeds_open_to(
    principal: Principal, *, person_id: str, purpose: Purpose, facts: Facts, at: dt.datetime
) -> frozenset[str]:
    """The feeds whose records about ``person_id`` the person may see for ``purpose``: the union of the feeds of
    every agreement of their organisation in force at ``at`` that allows the purpose and is about people like
    this one. A page that has been let through ``view-person`` shows only records from these feeds."""
    candidates = [
        terms
        for terms in facts.agreements_in_force(organisation_id=principal.organisation_id, at=at)
        if purpose in terms.purposes
    ]
    about = _about(facts, candidates, person_id=person_id, organisation_id=principal.organisation_id, at=at)
    feeds: set[str] = set()
    for terms in candidates:
        if terms.about & about:
            feeds |= terms.feeds
    return frozenset(feeds)


def feeds_open_to_each(
    principal: Principal, *, person_ids: Sequence[str], purpose: Purpose, facts: Facts, at: dt.datetime
) -> dict[str, frozenset[str]]:
    """:func:`feeds_open_to` for each of several people (the others a person's inferences rest on), reading the
    agreements once and, only when an agreement that could decide is about fewer people than everyone, the
    relationships of all of them in one statement."""
    candidates = [
        terms
        for terms in facts.agreements_in_force(organisation_id=principal.organisation_id, at=at)
        if purpose in terms.purposes
    ]
    if all(About.EVERYONE in terms.about for terms in candidates):
        related: dict[str, frozenset[About]] = {}
    else:
        related = facts.relationships_of_each(person_ids=person_ids, organisation_id=principal.organisation_id, at=at)
    opened: dict[str, frozenset[str]] = {}
    for person_id in person_ids:
        about = related.get(person_id, frozenset()) | {About.EVERYONE}
        opened[person_id] = frozenset(f for terms in candidates if terms.about & about for f in terms.feeds)
    return opened


def fields_open_to(
    principal: Principal, *, person_id: str, purpose: Purpose, facts: Facts, at: dt.datetime
) -> dict[str, frozenset[str]]:
    """The feeds whose records about ``person_id`` show only some fields for ``purpose``, with those fields: a feed
    some agreement in force opens whole is not restricted; one opened only by agreements that name fields shows the
    union of the fields they name (#16)."""
    candidates = [
        terms
        for terms in facts.agreements_in_force(organisation_id=principal.organisation_id, at=at)
        if purpose in terms.purposes
    ]
    about = _about(facts, candidates, person_id=person_id, organisation_id=principal.organisation_id, at=at)
    if records_shared_to(principal, person_id=person_id, purpose=purpose, facts=facts, at=at):
        about |= {About.OWN_CASES}  # the fields an agreement shows apply to the records shared under it too
    whole: set[str] = set()
    some: dict[str, set[str]] = {}
    for terms in candidates:
        if not terms.about & about:
            continue
        for feed in terms.feeds:
            if feed in terms.fields:
                some.setdefault(feed, set()).update(terms.fields[feed])
            else:
                whole.add(feed)
    return {feed: frozenset(names) for feed, names in sorted(some.items()) if feed not in whole}


def purposes_open_to(principal: Principal, *, person_id: str, facts: Facts, at: dt.datetime) -> list[Purpose]:
    """The purposes for which an agreement in force lets the person open this person's record (for the question
    "why are you opening this record?")."""
    about = facts.relationships(person_id=person_id, organisation_id=principal.organisation_id, at=at)
    about |= {About.EVERYONE}
    in_force = facts.agreements_in_force(organisation_id=principal.organisation_id, at=at)
    found: set[Purpose] = set()
    for terms in in_force:
        if terms.about & about:
            found |= terms.purposes
    if _own_case_terms(in_force):  # a purpose a referral shared records for, that an agreement opens them for
        shares = facts.shares(person_id=person_id, organisation_id=principal.organisation_id, at=at)
        for purpose in shares:
            if records_shared_to(principal, person_id=person_id, purpose=purpose, facts=facts, at=at):
                found.add(purpose)
    return sorted(found, key=list(Purpose).index)
