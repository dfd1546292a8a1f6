"""``/api/agreements``: data-sharing agreements, their history; made, changed and ended by the DPO.

Everyone signed in can read their own organisation's agreements; the DPO and administrators read all of them. The
operations are :mod:`commonground.cases.agreements`, which the DPO's pages call too.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from commonground.access.agreements import AgreementSpec, in_force, spec_of
from commonground.access.models import Agreement, AgreementVersion
from commonground.cases import agreements as agreement_work
from commonground.store.db import utcnow
from commonground.web.api.common import ERRORS
from commonground.web.api.schemas import AgreementChange, AgreementOut, AgreementVersionOut, EndAgreement
from commonground.web.deps import Access, require
from commonground.web.params import IdPath

router = APIRouter(prefix="/api/agreements", tags=["agreements"], responses=ERRORS)


def _out(access: Access, agreement: Agreement) -> AgreementOut:
    return AgreementOut(
        id=agreement.id,
        version=agreement.version,
        spec=spec_of(access.db, agreement),
        in_force=in_force(agreement, at=utcnow()),
        ended_at=agreement.ended_at,
        end_reason=agreement.end_reason,
    )


@router.get("", response_model=list[AgreementOut], summary="Agreements you may read")
def agreements(access: Annotated[Access, Depends(require("view-agreements"))]) -> list[AgreementOut]:
    return [_out(access, a) for a in agreement_work.visible_agreements(access)]


@router.get("/{agreement_id}", response_model=AgreementOut, summary="One agreement")
def agreement(agreement_id: IdPath, access: Annotated[Access, Depends(require("view-agreements"))]) -> AgreementOut:
    return _out(access, agreement_work.visible_agreement(access, agreement_id=agreement_id))


@router.get(
    "/{agreement_id}/history", response_model=list[AgreementVersionOut], summary="Every version of an agreement"
)
def agreement_history(
    agreement_id: IdPath, access: Annotated[Access, Depends(require("view-agreements"))]
) -> list[AgreementVersion]:
    return agreement_work.agreement_history(access, agreement_id=agreement_id)


@router.post("", response_model=AgreementOut, status_code=201, summary="Make an agreement")
def make_agreement(
    spec: AgreementSpec, access: Annotated[Access, Depends(require("manage-agreements"))]
) -> AgreementOut:
    return _out(access, agreement_work.make_agreement(access, spec=spec))


@router.put("/{agreement_id}", response_model=AgreementOut, summary="Change an agreement's terms")
def replace_agreement(
    agreement_id: IdPath, body: AgreementChange, access: Annotated[Access, Depends(require("manage-agreements"))]
) -> AgreementOut:
    changed = agreement_work.change_agreement(access, agreement_id=agreement_id, spec=body.spec, reason=body.reason)
    return _out(access, changed)


@router.post("/{agreement_id}/end", response_model=AgreementOut, summary="End an agreement now")
def finish_agreement(
    agreement_id: IdPath, body: EndAgreement, access: Annotated[Access, Depends(require("manage-agreements"))]
) -> AgreementOut:
    return _out(access, agreement_work.end_agreement(access, agreement_id=agreement_id, reason=body.reason))
