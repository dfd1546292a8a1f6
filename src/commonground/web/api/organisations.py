"""``/api/organisations``: the partner organisations. The operations are :mod:`commonground.cases.organisations`,
which the administrator's pages call too."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from commonground.cases import organisations as organisation_work
from commonground.store.models import Organisation
from commonground.web.api.common import ERRORS
from commonground.web.api.schemas import OrganisationIn, OrganisationOut
from commonground.web.deps import Access, require
from commonground.web.params import IdPath

router = APIRouter(prefix="/api/organisations", tags=["organisations"], responses=ERRORS)


@router.get("", response_model=list[OrganisationOut], summary="List the partner organisations")
def organisations(access: Annotated[Access, Depends(require("view-organisations"))]) -> list[Organisation]:
    return organisation_work.organisations(access)


@router.get("/{organisation_id}", response_model=OrganisationOut, summary="One partner organisation")
def organisation(
    organisation_id: IdPath, access: Annotated[Access, Depends(require("view-organisations"))]
) -> Organisation:
    return organisation_work.organisation(access, organisation_id=organisation_id)


@router.post("", response_model=OrganisationOut, status_code=201, summary="Add a partner organisation")
def add_organisation(
    body: OrganisationIn, access: Annotated[Access, Depends(require("manage-organisations"))]
) -> Organisation:
    return organisation_work.add_organisation(access, code=body.code, name=body.name, type=body.type, urn=body.urn)
