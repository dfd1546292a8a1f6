"""What the JSON API reads and returns. Field names are the API's contract; models are converted at the edge."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from commonground.access.agreements import AgreementSpec
from commonground.access.purposes import Purpose
from commonground.access.roles import Role
from commonground.cases.work_items import Outcome, Rating, WorkItemStatus
from commonground.store.db import refuse_nul
from commonground.store.organisation_types import OrganisationType
from commonground.web.params import MAX_ID


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class In(BaseModel):
    """A request body: unknown fields and NUL characters are refused (422)."""

    model_config = ConfigDict(extra="forbid")

    _no_nul = model_validator(mode="before")(refuse_nul)


class OrganisationOut(Out):
    id: int
    code: str
    name: str
    type: OrganisationType
    urn: str | None
    active: bool


class OrganisationIn(In):
    code: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
    name: str = Field(min_length=1, max_length=200)
    type: OrganisationType
    urn: str | None = Field(default=None, pattern=r"^\d{6}$")


class AgreementOut(Out):
    id: int
    version: int
    spec: AgreementSpec
    in_force: bool
    ended_at: dt.datetime | None
    end_reason: str | None


class AgreementChange(In):
    spec: AgreementSpec
    reason: str = Field(min_length=3, max_length=2_000)


class EndAgreement(In):
    reason: str = Field(min_length=3, max_length=2_000)


class AgreementVersionOut(Out):
    version: int
    change: str
    snapshot: dict[str, Any]
    reason: str | None
    changed_at: dt.datetime
    changed_by_user_id: int | None


class UserOut(Out):
    id: int
    email: str
    display_name: str
    organisation_id: int
    role: Role
    active: bool
    locked: bool
    oidc_linked: bool
    last_sign_in_at: dt.datetime | None
    access_pending: bool = Field(
        description="Record access waits for a second person's approval (POST /api/users/{id}/approve-access)"
    )


class UserIn(In):
    email: str = Field(min_length=3, max_length=320)
    display_name: str = Field(min_length=1, max_length=200)
    organisation: str = Field(min_length=1, max_length=40, description="The organisation's code.")
    role: Role
    password: str | None = Field(default=None, min_length=12, max_length=200, description="Omit for OIDC only.")


class UserPatch(In):
    display_name: str | None = Field(default=None, min_length=1, max_length=200)
    organisation: str | None = Field(default=None, min_length=1, max_length=40)
    role: Role | None = None
    active: bool | None = None
    unlock: bool = False


class MeOut(BaseModel):
    user: UserOut
    organisation: OrganisationOut
    csrf_token: str
    actions: list[str] = Field(description="The actions this person's role may take (agreements decide the rest).")


class AuditEventOut(Out):
    seq: int
    chain: int
    chain_seq: int = Field(description="The entry's place in its hash chain")
    occurred_at: dt.datetime
    actor: str
    actor_user_id: int | None
    organisation_id: int | None
    role: str | None
    purpose: str | None
    action: str
    outcome: str
    subject_type: str
    subject_id: str | None
    person_id: str | None
    break_glass: bool
    reason: str | None
    detail: dict[str, Any]
    hash: str


class ChainHeadOut(BaseModel):
    chain: int
    seq: int = Field(description="The place of the chain's last entry (0: none yet)")
    hash: str


class VerificationOut(BaseModel):
    ok: bool
    checked: int
    heads: list[ChainHeadOut]
    anchor: str = Field(description="Keep it outside the service; `commonground audit verify --expect` checks it")
    problems: list[str]


class BreakGlassOut(Out):
    id: int
    audit_seq: int
    user_id: int
    organisation_id: int
    action: str
    subject_type: str
    subject_id: str | None
    reason: str
    occurred_at: dt.datetime
    reviewed_at: dt.datetime | None
    reviewed_by_user_id: int | None
    review_note: str | None


class ReviewIn(In):
    note: str = Field(min_length=3, max_length=2_000)


class WorkItemOut(Out):
    id: int
    person_id: str
    rule_id: str
    rule_version: str
    episode: str
    organisation_id: int
    role: Role
    purpose: Purpose
    due_by: dt.datetime
    rating: Rating | None = Field(default=None, description="The RAG rating (priority) the rules gave the flag")
    rating_reason: str | None = Field(default=None, description="Why it has that rating, in words")
    evidence: list[str]
    status: WorkItemStatus
    assigned_to_user_id: int | None
    outcome: str | None
    outcome_code: Outcome | None = Field(description="What came of a closed item, coded")
    created_at: dt.datetime
    updated_at: dt.datetime
    closed_at: dt.datetime | None


class WorkItemList(BaseModel):
    items: list[WorkItemOut]
    withheld: int = Field(description="Items routed to you that no agreement in force lets you see now.")


class WorkItemPatch(In):
    status: WorkItemStatus | None = None
    assigned_to_user_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    outcome: str | None = Field(default=None, max_length=5_000)
    outcome_code: Outcome | None = Field(
        default=None,
        description="Needed to close: action_taken, already_known, no_concern, wrong_person (raises a link review) "
        "or not_enough_information",
    )


class Health(BaseModel):
    status: str
    database: str
