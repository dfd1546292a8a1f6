"""The street-triage log: a mental-health professional working with the police (in the control room, in a street
triage car, or by phone) records a contact: the advice given and its outcome, whether a section 136 detention was
avoided or used, conveyance, and whether the crisis team was asked to help.

A log names the person by the pseudonymous id of the person view when they were found there, or by the identity
typed in (name, date of birth, sex, postcode) when they were not. Each log is audited when recorded, shows on the
person's page, and feeds the rules: :func:`export_triage` writes the logs as a ``street_triage.csv`` in the feed
contract's exact columns, for ``commonground ingest`` (then link and flag) to read like any partner's file.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import Counter
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, ValidationError, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError
from sqlalchemy import Date, ForeignKey, Index, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from commonground.access import audit
from commonground.access.actions import SubjectKind
from commonground.access.audit import Actor
from commonground.access.context import Context
from commonground.access.models import User
from commonground.access.purposes import Purpose
from commonground.access.resolver import Decision, Subject, resolve
from commonground.contracts.codes import TRIAGE_OUTCOMES, TRIAGE_SETTINGS
from commonground.contracts.feeds import STREET_TRIAGE
from commonground.errors import NotFound, UserError
from commonground.store.db import Base, utcnow
from commonground.store.models import str_enum

if TYPE_CHECKING:
    from commonground.cases.person_view import Identity

LOCAL = ZoneInfo("Europe/London")
MAX_ADVICE = 10_000
FEED_FILE = "street_triage.csv"
RECORD_PREFIX = "HUB-T"
"""Record ids of exported logs: ``HUB-T`` and the log's id, stable across exports."""
SEXES = frozenset({"F", "M", "X", "U"})
PURPOSE = Purpose.MENTAL_HEALTH_CRISIS_CARE
"""The purpose of every triage log, and of opening a person's record to log one."""


S136_USED_WITHOUT_DETENTION = (
    "You chose 'Used' for section 136, but the outcome is not a section 136 detention: change one of them"
)
S136_DETENTION_NOT_USED = "The outcome is a section 136 detention: choose 'Used' for section 136"


class S136(StrEnum):
    AVOIDED = "avoided"
    USED = "used"
    NOT_CONSIDERED = "not_considered"

    @property
    def label(self) -> str:
        return {
            "avoided": "Avoided: a detention was likely and did not happen",
            "used": "Used: the person was detained under section 136",
            "not_considered": "Not considered",
        }[self.value]


class Conveyance(StrEnum):
    NONE = "none"
    ED = "ed"
    PLACE_OF_SAFETY = "place_of_safety"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {
            "none": "None",
            "ed": "Emergency department",
            "place_of_safety": "Health-based place of safety",
            "other": "Somewhere else",
        }[self.value]


class TriageLog(Base):
    __tablename__ = "triage_logs"
    __table_args__ = (Index("ix_triage_logs_organisation_contacted", "organisation_id", "contacted_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    person_id: Mapped[str | None] = mapped_column(String(64), index=True)
    """The person view's pseudonymous id, when the person was found there."""
    given_name: Mapped[str | None] = mapped_column(String(100))
    family_name: Mapped[str | None] = mapped_column(String(100))
    date_of_birth: Mapped[dt.date | None] = mapped_column(Date)
    sex: Mapped[str | None] = mapped_column(String(1))
    postcode: Mapped[str | None] = mapped_column(String(10))
    incident_reference: Mapped[str | None] = mapped_column(String(64))
    contacted_at: Mapped[dt.datetime]
    duration_minutes: Mapped[int | None]
    setting: Mapped[str] = mapped_column(String(40))
    advice: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(40))
    s136: Mapped[S136] = mapped_column(str_enum(S136))
    conveyance: Mapped[Conveyance] = mapped_column(str_enum(Conveyance))
    crisis_team_referral: Mapped[bool]
    recorded_by_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    recorded_by: Mapped[User] = relationship(lazy="joined")

    @property
    def record_id(self) -> str:
        return f"{RECORD_PREFIX}{self.id}"

    @property
    def typed_name(self) -> str:
        return " ".join(p for p in (self.given_name, self.family_name) if p)


def _problem(message: str) -> PydanticCustomError:
    """A wrong field, in the words shown beside it."""
    return PydanticCustomError("triage", message)


def _now(info: ValidationInfo) -> dt.datetime:
    context = info.context if isinstance(info.context, dict) else {}
    now = context.get("now")
    return now if isinstance(now, dt.datetime) else utcnow()


def _linked(info: ValidationInfo) -> bool:
    return bool(info.data.get("person_id"))


class TriageEntry(BaseModel):
    """A triage contact as it is recorded, checked when it is made: each wrong field is an error about that field,
    in the words a form shows beside it. The person is the person view's ``person_id`` (found in the linked
    records), or else the identity typed in (given and family name and date of birth needed). Checked against the
    moment ``now`` of the validation context (by default the clock): a contact cannot be in the future.

    The fields are in the order of the form, so that its errors are too."""

    model_config = ConfigDict(frozen=True, validate_default=True)

    person_id: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    date_of_birth: dt.date | None = None
    sex: str | None = None
    postcode: str | None = None
    contacted_at: dt.datetime
    duration_minutes: int | None = None
    incident_reference: str | None = None
    setting: str
    advice: str
    outcome: str
    s136: S136
    conveyance: Conveyance
    crisis_team_referral: bool

    @field_validator("given_name")
    @classmethod
    def _given_name(cls, value: str | None, info: ValidationInfo) -> str | None:
        if not _linked(info) and not (value or "").strip():
            raise _problem("Enter the person's given name, or start from their record")
        return value

    @field_validator("family_name")
    @classmethod
    def _family_name(cls, value: str | None, info: ValidationInfo) -> str | None:
        if not _linked(info) and not (value or "").strip():
            raise _problem("Enter the person's family name")
        return value

    @field_validator("date_of_birth")
    @classmethod
    def _date_of_birth(cls, value: dt.date | None, info: ValidationInfo) -> dt.date | None:
        if _linked(info):
            return value
        if value is None:
            raise _problem("Enter the person's date of birth, like 1990-04-27")
        if value > _now(info).date():
            raise _problem("The date of birth must be in the past")
        return value

    @field_validator("sex")
    @classmethod
    def _sex(cls, value: str | None) -> str | None:
        if value is not None and value not in SEXES:
            raise _problem("Select the person's sex as recorded, or not known")
        return value

    @field_validator("contacted_at")
    @classmethod
    def _contacted_at(cls, value: dt.datetime, info: ValidationInfo) -> dt.datetime:
        if value > _now(info) + dt.timedelta(minutes=5):
            raise _problem("The contact cannot be in the future")
        return value

    @field_validator("duration_minutes")
    @classmethod
    def _duration(cls, value: int | None) -> int | None:
        if value is not None and not 0 <= value <= 24 * 60:
            raise _problem("Enter the length of the contact in minutes, up to 1440")
        return value

    @field_validator("incident_reference")
    @classmethod
    def _incident_reference(cls, value: str | None) -> str | None:
        if value is not None and len(value) > 64:
            raise _problem("The incident reference is at most 64 characters")
        return value

    @field_validator("setting")
    @classmethod
    def _setting(cls, value: str) -> str:
        if value not in TRIAGE_SETTINGS:
            raise _problem("Select where the advice was given")
        return value

    @field_validator("advice")
    @classmethod
    def _advice(cls, value: str) -> str:
        if not value.strip():
            raise _problem("Describe the advice given")
        if len(value) > MAX_ADVICE or "\x00" in value:
            raise _problem(f"The advice is at most {MAX_ADVICE:,} characters of text")
        return value

    @field_validator("outcome")
    @classmethod
    def _outcome(cls, value: str) -> str:
        if value not in TRIAGE_OUTCOMES:
            raise _problem("Select the outcome")
        return value

    @field_validator("s136")
    @classmethod
    def _s136(cls, value: S136, info: ValidationInfo) -> S136:
        detained = info.data.get("outcome") == "s136_detention"
        if value is S136.USED and not detained:
            raise _problem(S136_USED_WITHOUT_DETENTION)
        if detained and value is not S136.USED:
            raise _problem(S136_DETENTION_NOT_USED)
        return value


def problems_of(error: ValidationError) -> dict[str, str]:
    """Field name -> what is wrong with it, in words, in the order of the fields."""
    found: dict[str, str] = {}
    for problem in error.errors():
        found.setdefault(str(problem["loc"][0]) if problem["loc"] else "", problem["msg"])
    return found


def log_triage(session: Session, *, entry: TriageEntry, organisation_id: int, by: Actor) -> TriageLog:
    """Record a triage contact (checked when the entry was made), audited in the same transaction."""
    if by.user_id is None:
        raise UserError("only a signed-in person can record a triage contact")
    log = TriageLog(
        organisation_id=organisation_id,
        person_id=entry.person_id or None,
        given_name=_clean(entry.given_name) if not entry.person_id else None,
        family_name=_clean(entry.family_name) if not entry.person_id else None,
        date_of_birth=entry.date_of_birth if not entry.person_id else None,
        sex=entry.sex if not entry.person_id else None,
        postcode=(_clean(entry.postcode) or "").upper() or None if not entry.person_id else None,
        incident_reference=_clean(entry.incident_reference),
        contacted_at=entry.contacted_at,
        duration_minutes=entry.duration_minutes,
        setting=entry.setting,
        advice=entry.advice.strip(),
        outcome=entry.outcome,
        s136=entry.s136,
        conveyance=entry.conveyance,
        crisis_team_referral=entry.crisis_team_referral,
        recorded_by_user_id=by.user_id,
    )
    session.add(log)
    session.flush()
    audit.record(
        session,
        audit.Event(
            actor=by,
            action="log-triage",
            subject_type="triage_log",
            subject_id=str(log.id),
            person_id=log.person_id,
            purpose=PURPOSE.value,
            detail={"outcome": log.outcome, "s136": log.s136.value, "linked": log.person_id is not None},
        ),
    )
    return log


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    text = value.replace("\x00", "").strip()
    return text or None


def logs_of_organisation(session: Session, *, organisation_id: int, limit: int = 200) -> list[TriageLog]:
    return list(
        session.scalars(
            select(TriageLog)
            .where(TriageLog.organisation_id == organisation_id)
            .order_by(TriageLog.contacted_at.desc(), TriageLog.id.desc())
            .limit(limit)
        )
    )


def logs_of_person(session: Session, *, person_id: str, organisation_id: int) -> list[TriageLog]:
    """The logs about a person recorded by one organisation, newest first."""
    return list(
        session.scalars(
            select(TriageLog)
            .where(TriageLog.person_id == person_id, TriageLog.organisation_id == organisation_id)
            .order_by(TriageLog.contacted_at.desc(), TriageLog.id.desc())
        )
    )


# --- the checked operations -------------------------------------------------------------------------------------


def subject_of(person_id: str) -> Subject:
    """A triage log about a person found in the linked records (the street-triage feed's records of them)."""
    return Subject(kind=SubjectKind.TRIAGE_LOG, person_id=person_id, feeds=frozenset({"street_triage"}))


def _may_log(ctx: Context) -> Decision:
    """May the person record triage contacts at all (for someone typed in, or to read their organisation's log)?"""
    decision = resolve("log-triage", principal=ctx.principal, facts=ctx.facts, at=ctx.now)
    if not decision.allowed:
        raise ctx.refuse(decision, Subject(kind=SubjectKind.TRIAGE_LOG))
    return decision


def _linked_person(ctx: Context, view: IdentitySource | None, person_id: str) -> Identity:
    """The person found in the linked records, if the organisation may record a triage contact about them (an
    agreement for the purpose): the look is audited as a read. Not in the records: not found."""
    identity: Identity | None = view.identity(person_id) if view is not None else None
    if identity is None:
        raise NotFound()
    subject = subject_of(person_id)
    decision = ctx.require("log-triage", subject, purpose=PURPOSE)
    ctx.audit_reads([(decision, subject)], purpose=PURPOSE)
    return identity


def open_form(ctx: Context, *, view: IdentitySource | None, person_id: str = "") -> Identity | None:
    """Start recording a contact: for a person of the linked records (``person_id``; the look is audited and
    committed), or for someone to be typed in."""
    identity = _linked_person(ctx, view, person_id) if person_id else None
    if identity is None:
        _may_log(ctx)
    ctx.db.commit()
    return identity


def record(ctx: Context, *, view: IdentitySource | None, entry: TriageEntry) -> TriageLog:
    """Record a checked contact for the person's organisation, audited and committed (with the audited look at a
    linked person's record)."""
    if entry.person_id:
        _linked_person(ctx, view, entry.person_id)
    else:
        _may_log(ctx)
    me = ctx.me()
    log = log_triage(ctx.db, entry=entry, organisation_id=me.organisation_id, by=me.actor)
    ctx.db.commit()
    return log


@dataclass(frozen=True)
class LoggedContact:
    """A line of the organisation's log as the reader may see it: the log, and the linked person as linked (name,
    date of birth) when an agreement of the reader's organisation covers them for the triage purpose; ``None`` when
    none does (or the person view does not hold them): then only the pseudonymous id is shown."""

    log: TriageLog
    identity: Identity | None = None


def organisation_contacts(ctx: Context, *, view: IdentitySource | None, limit: int = 200) -> list[LoggedContact]:
    """The contacts the person's organisation recorded, newest first, each about a linked person with their
    identity where the resolver lets the reader record a contact about them (``log-triage`` for the triage
    purpose, as opening the form from their record does). Each line about a linked person is audited as a read
    (under the agreement that named them, when one did), and committed."""
    allowed = _may_log(ctx)
    logs = logs_of_organisation(ctx.db, organisation_id=ctx.me().organisation_id, limit=limit)
    decisions: dict[str, Decision] = {}
    identities: dict[str, Identity | None] = {}
    shown: list[LoggedContact] = []
    read: list[tuple[Decision, Subject]] = []
    for log in logs:
        if log.person_id is None:
            shown.append(LoggedContact(log))
            continue
        subject = subject_of(log.person_id)
        if log.person_id not in decisions:
            decisions[log.person_id] = ctx.check("log-triage", subject, purpose=PURPOSE)
            named = decisions[log.person_id].allowed and view is not None
            identities[log.person_id] = view.identity(log.person_id) if named and view is not None else None
        decision = decisions[log.person_id]
        shown.append(LoggedContact(log, identities[log.person_id]))
        read.append((decision if decision.allowed else allowed, subject))
    if read:
        ctx.audit_reads(read, purpose=PURPOSE)
    ctx.db.commit()
    return shown


def organisation_log(ctx: Context, *, limit: int = 200) -> list[TriageLog]:
    """The contacts the person's organisation recorded, newest first (without the people's names); each about a
    linked person is audited as a read, and committed."""
    return [line.log for line in organisation_contacts(ctx, view=None, limit=limit)]


# --- feeding the rules ------------------------------------------------------------------------------------------


class IdentitySource(Protocol):
    """What the export reads from the person view (:class:`commonground.cases.person_view.PersonView`)."""

    def identity(self, person_id: str) -> Any: ...

    def feeds_of(self, person_id: str) -> frozenset[str]: ...

    def records(self, person_id: str, *, feeds: frozenset[str]) -> list[Any]: ...


@dataclass(frozen=True)
class ExportResult:
    path: Path
    rows: int
    skipped: int
    """Logs of a person no longer in the person view (their identity cannot be written)."""


def _common(values: list[str | None]) -> str:
    found = Counter(v for v in values if v)
    return found.most_common(1)[0][0] if found else ""


def export_triage(session: Session, *, out_dir: Path, person_view: IdentitySource | None) -> ExportResult:
    """Write every log as ``out_dir/street_triage.csv`` in the contract's columns, in order."""
    columns = [c.name for c in STREET_TRIAGE.columns]
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / FEED_FILE
    partial = out_dir / f".{FEED_FILE}.partial"
    rows = skipped = 0
    with partial.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        for log in session.scalars(select(TriageLog).order_by(TriageLog.id)):
            identity = _identity_of(log, person_view)
            if identity is None:
                skipped += 1
                continue
            row = {
                "record_id": log.record_id,
                "contacted_at": log.contacted_at.astimezone(LOCAL).strftime("%Y-%m-%dT%H:%M:%S"),
                "setting": log.setting,
                "outcome": log.outcome,
                "incident_id": log.incident_reference or "",
                "duration_minutes": "" if log.duration_minutes is None else str(log.duration_minutes),
                "known_to_services": "",
                "substances_involved": "",
                "s136_avoided": {S136.AVOIDED: "true", S136.USED: "false"}.get(log.s136, ""),
                "police_attendance_avoided": "",
                **identity,
            }
            writer.writerow({c: row.get(c, "") for c in columns})
            rows += 1
    partial.replace(path)
    return ExportResult(path=path, rows=rows, skipped=skipped)


def _identity_of(log: TriageLog, view: IdentitySource | None) -> dict[str, str] | None:
    if log.person_id is None:
        return {
            "given_name": log.given_name or "",
            "family_name": log.family_name or "",
            "date_of_birth": log.date_of_birth.isoformat() if log.date_of_birth else "",
            "sex": log.sex or "U",
            "postcode": log.postcode or "",
            "address": "",
            "nhs_number": "",
            "uprn": "",
        }
    if view is None:
        return None
    identity = view.identity(log.person_id)
    if identity is None:
        return None
    records = view.records(log.person_id, feeds=view.feeds_of(log.person_id))
    return {
        "given_name": identity.given_name or "",
        "family_name": identity.family_name or "",
        "date_of_birth": identity.date_of_birth.isoformat() if identity.date_of_birth else "",
        "sex": identity.sex or "U",
        "postcode": _common([r.identity.get("postcode") for r in records]),
        "address": _common([r.identity.get("address") for r in records]),
        "nhs_number": identity.nhs_number or "",
        "uprn": "",
    }
