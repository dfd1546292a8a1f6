"""Data-sharing agreements as data: a typed spec that validates when built and round-trips to YAML and JSON,
kept in the operational store with a history row for every change.

An agreement lets one organisation see the records of some feeds, about some people (everyone in the area, its
own pupils, or its own cases), for some purposes, under a stated lawful basis, between two dates. It is in force
from the start of ``valid_from`` to the end of ``valid_until`` (UK time), and not after it has been ended:
``end_agreement`` stops access at once, because the resolver reads agreements on every request.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any, Self
from zoneinfo import ZoneInfo

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from commonground.access import audit
from commonground.access.audit import Actor
from commonground.access.models import Agreement, AgreementVersion
from commonground.access.purposes import Purpose
from commonground.contracts import FEEDS
from commonground.errors import UserError
from commonground.store.db import refuse_nul, utcnow
from commonground.store.models import Organisation
from commonground.store.organisation_types import OrganisationType

UK = ZoneInfo("Europe/London")


HOUSEHOLD_FEEDS = frozenset({"police_incidents"})
"""Feeds that name no one but are about people all the same: a police incident at a child's home is evidence of
the child's exposure (Operation Encompass). An agreement may cover them; reference data (schools, postcodes) is
not shared under agreements because it is about no one."""


def shown_fields(feed: str) -> frozenset[str]:
    """The fields of a feed's records that pages and the API show, which an agreement may restrict: the feed's own
    columns but its identity and record id (a person's record about a police incident also shows the incident's)."""
    names = {c.name for c in FEEDS[feed].columns if not c.identity and c.name != "record_id"}
    if feed == "police_incident_persons":
        names |= {c.name for c in FEEDS["police_incidents"].columns if not c.identity and c.name != "record_id"}
    return frozenset(names)


class About(StrEnum):
    """About whom an agreement lets an organisation see records."""

    EVERYONE = "everyone"
    """Anyone in the partnership's area."""
    OWN_PUPILS = "own_pupils"
    """Children on the organisation's school roll."""
    OWN_CASES = "own_cases"
    """People with a work item or referral routed to the organisation."""


class AgreementSpec(BaseModel):
    """The terms of one data-sharing agreement, as kept under version control and sent to the API."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reference: str = Field(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_./-]*$")
    title: str = Field(min_length=3, max_length=200)
    organisation: str = Field(min_length=1, max_length=40, description="Code of the organisation that may see.")
    feeds: tuple[str, ...] = Field(min_length=1, description="Feeds whose records it may see.")
    fields: dict[str, tuple[str, ...]] = Field(
        default_factory=dict,
        description="Per feed, the only fields it may see (say, of a police incident: when, that police attended, "
        "that a child was present; never the account). A feed not named here shows every field.",
    )
    about: tuple[About, ...] = Field(min_length=1)
    purposes: tuple[Purpose, ...] = Field(min_length=1)
    lawful_basis: str = Field(
        min_length=10, max_length=2_000, description="e.g. 'UK GDPR 6(1)(e); DPA 2018 Sch 1 para 18'."
    )
    valid_from: dt.date
    valid_until: dt.date | None = None

    _no_nul = model_validator(mode="before")(refuse_nul)

    @field_validator("feeds")
    @classmethod
    def _known_person_feeds(cls, feeds: tuple[str, ...]) -> tuple[str, ...]:
        for feed in feeds:
            contract = FEEDS.get(feed)
            if contract is None or not (contract.person_level or feed in HOUSEHOLD_FEEDS):
                raise ValueError(f"{feed!r} is not a feed of records about people")
        return tuple(sorted(set(feeds)))

    @field_validator("about", "purposes")
    @classmethod
    def _sorted_unique(cls, values: tuple[StrEnum, ...]) -> tuple[StrEnum, ...]:
        return tuple(sorted(set(values)))

    @model_validator(mode="after")
    def _fields_of_its_feeds(self) -> Self:
        for feed, names in self.fields.items():
            if feed not in self.feeds:
                raise ValueError(f"fields are given for {feed!r}, which the agreement does not cover")
            known = shown_fields(feed)
            unknown = sorted(set(names) - known)
            if unknown:
                raise ValueError(f"{feed!r} has no field {', '.join(map(repr, unknown))}; it has {sorted(known)}")
            if not names:
                raise ValueError(f"fields for {feed!r} name none: leave the feed out of the agreement instead")
        object.__setattr__(self, "fields", {f: tuple(sorted(set(n))) for f, n in sorted(self.fields.items())})
        return self

    @model_validator(mode="after")
    def _dates_in_order(self) -> Self:
        if self.valid_until is not None and self.valid_until < self.valid_from:
            raise ValueError("valid_until is before valid_from")
        return self

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.model_dump(mode="json"), sort_keys=False, allow_unicode=True)

    @classmethod
    def from_yaml(cls, text: str) -> Self:
        return cls.model_validate(yaml.safe_load(text))


def spec_of(session: Session, agreement: Agreement) -> AgreementSpec:
    organisation = session.get_one(Organisation, agreement.organisation_id)
    return AgreementSpec(
        reference=agreement.reference,
        title=agreement.title,
        organisation=organisation.code,
        feeds=tuple(agreement.feeds),
        fields={f: tuple(n) for f, n in (agreement.fields or {}).items()},
        about=tuple(About(a) for a in agreement.about),
        purposes=tuple(Purpose(p) for p in agreement.purposes),
        lawful_basis=agreement.lawful_basis,
        valid_from=agreement.valid_from,
        valid_until=agreement.valid_until,
    )


def in_force(agreement: Agreement, *, at: dt.datetime) -> bool:
    """Whether the agreement allows access at the moment ``at`` (dates are read as UK calendar days)."""
    return in_force_between(
        valid_from=agreement.valid_from, valid_until=agreement.valid_until, ended_at=agreement.ended_at, at=at
    )


def in_force_between(
    *, valid_from: dt.date, valid_until: dt.date | None, ended_at: dt.datetime | None, at: dt.datetime
) -> bool:
    """:func:`in_force` on an agreement's dates alone."""
    if ended_at is not None and ended_at <= at:
        return False
    today = at.astimezone(UK).date()
    return valid_from <= today and (valid_until is None or today <= valid_until)


def _organisation(session: Session, code: str) -> Organisation:
    organisation = session.scalar(select(Organisation).where(Organisation.code == code))
    if organisation is None:
        raise UserError(f"no organisation has the code {code!r}", field="organisation")
    return organisation


def _check_fit(spec: AgreementSpec, organisation: Organisation) -> None:
    if About.OWN_PUPILS in spec.about and organisation.type is not OrganisationType.SCHOOL:
        raise UserError("only a school can have an agreement about its own pupils", field="about")
    if organisation.type is OrganisationType.SCHOOL and About.EVERYONE in spec.about:
        raise UserError("a school's agreement can cover its own pupils and cases, never everyone", field="about")


def _snapshot(spec: AgreementSpec, agreement: Agreement) -> dict[str, Any]:
    return {
        **spec.model_dump(mode="json"),
        "ended_at": agreement.ended_at.isoformat() if agreement.ended_at else None,
        "end_reason": agreement.end_reason,
    }


def _history(
    session: Session, agreement: Agreement, spec: AgreementSpec, *, change: str, by: Actor, reason: str | None
) -> None:
    session.add(
        AgreementVersion(
            agreement_id=agreement.id,
            version=agreement.version,
            change=change,
            snapshot=_snapshot(spec, agreement),
            reason=reason,
            changed_at=agreement.updated_at,
            changed_by_user_id=by.user_id,
        )
    )
    audit.record(
        session,
        audit.Event(
            actor=by,
            action="manage-agreements",
            subject_type="agreement",
            subject_id=str(agreement.id),
            reason=reason,
            detail={"change": change, "reference": agreement.reference, "version": agreement.version},
        ),
    )


def create_agreement(session: Session, *, spec: AgreementSpec, by: Actor) -> Agreement:
    """Add an agreement (version 1) with its first history row and an audit event, in the caller's transaction."""
    organisation = _organisation(session, spec.organisation)
    _check_fit(spec, organisation)
    if session.scalar(select(Agreement.id).where(Agreement.reference == spec.reference)) is not None:
        raise UserError(f"an agreement with reference {spec.reference!r} already exists", field="reference")
    now = utcnow()
    agreement = Agreement(organisation_id=organisation.id, version=1, created_at=now, updated_at=now)
    _apply(agreement, spec)
    session.add(agreement)
    session.flush()
    _history(session, agreement, spec, change="created", by=by, reason=None)
    return agreement


def _apply(agreement: Agreement, spec: AgreementSpec) -> None:
    agreement.reference = spec.reference
    agreement.title = spec.title
    agreement.feeds = list(spec.feeds)
    agreement.fields = {f: list(n) for f, n in spec.fields.items()} or None
    agreement.about = [a.value for a in spec.about]
    agreement.purposes = [p.value for p in spec.purposes]
    agreement.lawful_basis = spec.lawful_basis
    agreement.valid_from = spec.valid_from
    agreement.valid_until = spec.valid_until


def change_agreement(
    session: Session, *, agreement: Agreement, spec: AgreementSpec, by: Actor, reason: str
) -> Agreement:
    """Replace an agreement's terms (not its reference or organisation); the old terms stay in its history."""
    if agreement.ended_at is not None:
        raise UserError("an ended agreement cannot be changed; make a new one")
    if spec.reference != agreement.reference:
        raise UserError("an agreement's reference cannot change", field="reference")
    organisation = session.get_one(Organisation, agreement.organisation_id)
    if spec.organisation != organisation.code:
        raise UserError("an agreement's organisation cannot change; end it and make a new one", field="organisation")
    _check_fit(spec, organisation)
    _apply(agreement, spec)
    agreement.version += 1
    agreement.updated_at = utcnow()
    _history(session, agreement, spec, change="changed", by=by, reason=reason)
    return agreement


def end_agreement(session: Session, *, agreement: Agreement, by: Actor, reason: str) -> Agreement:
    """End an agreement now: from this moment the resolver finds it no longer in force."""
    if agreement.ended_at is not None:
        raise UserError("this agreement has already ended", field="reason")
    now = utcnow()
    agreement.ended_at = now
    agreement.end_reason = reason
    agreement.version += 1
    agreement.updated_at = now
    _history(session, agreement, spec_of(session, agreement), change="ended", by=by, reason=reason)
    return agreement


def agreements_of(session: Session, *, organisation_id: int) -> list[Agreement]:
    return list(
        session.scalars(select(Agreement).where(Agreement.organisation_id == organisation_id).order_by(Agreement.id))
    )


def history_of(session: Session, *, agreement_id: int) -> list[AgreementVersion]:
    return list(
        session.scalars(
            select(AgreementVersion)
            .where(AgreementVersion.agreement_id == agreement_id)
            .order_by(AgreementVersion.version)
        )
    )
