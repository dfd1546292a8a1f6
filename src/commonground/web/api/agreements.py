"""``/api/agreements``: data-sharing agreements, their history; made, changed and ended by the DPO.

Everyone signed in can read their own organisation's agreements; the DPO and administrators read all of them.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException

from commonground.access.actions import SubjectKind
from commonground.access.agreements import (
    AgreementSpec,
    change_agreement,
    create_agreement,
    end_agreement,
    history_of,
    in_force,
    spec_of,
)
from commonground.access.models import Agreement, AgreementVersion
from commonground.access.resolver import Subject
from commonground.store.db import utcnow
from commonground.web.api.common import ERRORS
from commonground.web.api.schemas import AgreementChange, AgreementOut, AgreementVersionOut, EndAgreement
from commonground.web.deps import NOT_FOUND, Access, require
from commonground.web.params import IdPath

router = APIRouter(prefix="/api/agreements", tags=["agreements"], responses=ERRORS)


def _subject(agreement: Agreement) -> Subject:
    return Subject(kind=SubjectKind.AGREEMENT, id=str(agreement.id), organisation_id=agreement.organisation_id)


def _out(access: Access, agreement: Agreement) -> AgreementOut:
    return AgreementOut(
        id=agreement.id,
        version=agreement.version,
        spec=spec_of(access.db, agreement),
        in_force=in_force(agreement, at=utcnow()),
        ended_at=agreement.ended_at,
        end_reason=agreement.end_reason,
    )


def _visible(access: Access, agreement_id: int) -> Agreement:
    agreement = access.db.get(Agreement, agreement_id)
    if agreement is None or not access.check("view-agreements", _subject(agreement)).allowed:
        raise HTTPException(404, NOT_FOUND)
    return agreement


@router.get("", response_model=list[AgreementOut], summary="Agreements you may read")
def agreements(access: Annotated[Access, Depends(require("view-agreements"))]) -> list[AgreementOut]:
    rows = access.db.query(Agreement).order_by(Agreement.id).all()
    return [_out(access, a) for a in rows if access.check("view-agreements", _subject(a)).allowed]


@router.get("/{agreement_id}", response_model=AgreementOut, summary="One agreement")
def agreement(agreement_id: IdPath, access: Annotated[Access, Depends(require("view-agreements"))]) -> AgreementOut:
    return _out(access, _visible(access, agreement_id))


@router.get(
    "/{agreement_id}/history", response_model=list[AgreementVersionOut], summary="Every version of an agreement"
)
def agreement_history(
    agreement_id: IdPath, access: Annotated[Access, Depends(require("view-agreements"))]
) -> list[AgreementVersion]:
    return history_of(access.db, agreement_id=_visible(access, agreement_id).id)


@router.post("", response_model=AgreementOut, status_code=201, summary="Make an agreement")
def make_agreement(
    spec: AgreementSpec, access: Annotated[Access, Depends(require("manage-agreements"))]
) -> AgreementOut:
    created = create_agreement(access.db, spec=spec, by=access.me().actor)
    access.db.commit()
    return _out(access, created)


@router.put("/{agreement_id}", response_model=AgreementOut, summary="Change an agreement's terms")
def replace_agreement(
    agreement_id: IdPath, body: AgreementChange, access: Annotated[Access, Depends(require("manage-agreements"))]
) -> AgreementOut:
    changed = change_agreement(
        access.db, agreement=_visible(access, agreement_id), spec=body.spec, by=access.me().actor, reason=body.reason
    )
    access.db.commit()
    return _out(access, changed)


@router.post("/{agreement_id}/end", response_model=AgreementOut, summary="End an agreement now")
def finish_agreement(
    agreement_id: IdPath, body: EndAgreement, access: Annotated[Access, Depends(require("manage-agreements"))]
) -> AgreementOut:
    ended = end_agreement(access.db, agreement=_visible(access, agreement_id), by=access.me().actor, reason=body.reason)
    access.db.commit()
    return _out(access, ended)
