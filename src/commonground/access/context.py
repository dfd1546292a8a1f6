"""The context every checked operation takes: who is asking, in which session, at what moment, with the facts
(agreements, relationships) read once for the request. Each operation in :mod:`commonground.cases` (and
:mod:`commonground.whatworks`) authorises through it, acts, and audits in the same transaction; the web layer
only builds one (:class:`commonground.web.deps.Access`) and turns a :class:`~commonground.errors.Refused` into
an answer.

A refusal about one subject is audited and committed alone (the operation's own changes are rolled back first),
then raised; a refusal of a subject that belongs or is routed elsewhere is raised as "not found".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from commonground.access import audit
from commonground.access.models import User
from commonground.access.purposes import Purpose
from commonground.access.resolver import Decision, Principal, Refusal, RequestFacts, Subject, resolve
from commonground.errors import NotFound, Refused


@dataclass
class Context:
    """A request the resolver has let through (``decision``): the session, who is asking, and its facts."""

    db: Session
    principal: Principal | None
    decision: Decision
    now: dt.datetime
    facts: RequestFacts

    @property
    def user(self) -> User | None:
        """The signed-in account as a stored object, for the operations that show or change it (read when asked:
        most need only :attr:`principal`)."""
        return None if self.principal is None else self.db.get(User, self.principal.user_id)

    def me(self) -> Principal:
        if self.principal is None:
            raise Refused("sign in first", status=401, refusal=Refusal.SIGN_IN)
        return self.principal

    def check(
        self,
        name: str,
        subject: Subject,
        *,
        purpose: Purpose | None = None,
        break_glass_reason: str | None = None,
    ) -> Decision:
        """The resolver's decision on taking ``name`` on ``subject`` (nothing audited)."""
        return resolve(
            name,
            principal=self.principal,
            facts=self.facts,
            at=self.now,
            subject=subject,
            purpose=purpose,
            break_glass_reason=break_glass_reason,
        )

    def require(
        self,
        name: str,
        subject: Subject,
        *,
        purpose: Purpose | None = None,
        break_glass_reason: str | None = None,
        not_found: bool = False,
    ) -> Decision:
        """The resolver's decision if it allows ``name`` on ``subject``; otherwise the refusal is audited and
        raised (as "not found" with ``not_found``, or when the subject is another organisation's or role's)."""
        decision = self.check(name, subject, purpose=purpose, break_glass_reason=break_glass_reason)
        if not decision.allowed:
            raise self.refuse(decision, subject, not_found=not_found)
        return decision

    def refuse(self, decision: Decision, subject: Subject, *, not_found: bool = False) -> Refused:
        """Audit a refusal about one subject, commit that alone, and give the error to raise."""
        self.db.rollback()
        if self.principal is not None:
            record_refusal(self.db, self.principal, decision, subject)
        if not_found or (decision.refusal is not None and decision.refusal.hides):
            return NotFound()
        return Refused.of(decision)

    def refuse_because(self, name: str, reason: str, subject: Subject) -> Refused:
        """A refusal by the operation's own rule (not the resolver's), audited like the resolver's."""
        return self.refuse(
            Decision(allowed=False, action=name, reason=reason, status=403, refusal=Refusal.WORKFLOW), subject
        )

    def audit_reads(
        self, decisions: Sequence[tuple[Decision, Subject]], *, purpose: Purpose | None, reason: str | None = None
    ) -> None:
        """Record allowed reads (one event per subject) in the session's transaction."""
        principal = self.me()
        audit.record_many(
            self.db,
            [
                allowed_event(principal, d, s, purpose=purpose, reason=reason if d.break_glass else None)
                for d, s in decisions
            ],
        )


def allowed_event(
    principal: Principal, decision: Decision, subject: Subject, *, purpose: Purpose | None, reason: str | None
) -> audit.Event:
    return audit.Event(
        actor=principal.actor,
        action=decision.action,
        subject_type=subject.kind.value,
        subject_id=subject.id,
        person_id=subject.person_id,
        outcome="allowed",
        purpose=purpose.value if purpose else None,
        break_glass=decision.break_glass,
        reason=reason,
        detail={"agreements": list(decision.agreements)},
    )


def record_refusal(db: Session, principal: Principal, decision: Decision, subject: Subject) -> None:
    """Audit a refusal and commit it alone (whatever else the request did is rolled back by its caller)."""
    audit.record(db, refusal_event(principal, decision, subject))
    db.commit()


def refusal_event(principal: Principal, decision: Decision, subject: Subject) -> audit.Event:
    return audit.Event(
        actor=principal.actor,
        action=decision.action,
        subject_type=subject.kind.value,
        subject_id=subject.id,
        person_id=subject.person_id,
        outcome="denied",
        purpose=None,
        break_glass=decision.break_glass,
        reason=None,
        detail={"why": decision.reason},
    )
