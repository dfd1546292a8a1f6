"""``/api/organisations``: the partner organisations."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException

from commonground.cases.organisations import create_organisation, list_organisations
from commonground.store.models import Organisation
from commonground.web.api.common import ERRORS
from commonground.web.api.schemas import OrganisationIn, OrganisationOut
from commonground.web.deps import NOT_FOUND, Access, require
from commonground.web.params import IdPath

router = APIRouter(prefix="/api/organisations", tags=["organisations"], responses=ERRORS)


@router.get("", response_model=list[OrganisationOut], summary="List the partner organisations")
def organisations(access: Annotated[Access, Depends(require("view-organisations"))]) -> list[Organisation]:
    return list_organisations(access.db)


@router.get("/{organisation_id}", response_model=OrganisationOut, summary="One partner organisation")
def organisation(
    organisation_id: IdPath, access: Annotated[Access, Depends(require("view-organisations"))]
) -> Organisation:
    found = access.db.get(Organisation, organisation_id)
    if found is None:
        raise HTTPException(404, NOT_FOUND)
    return found


@router.post("", response_model=OrganisationOut, status_code=201, summary="Add a partner organisation")
def add_organisation(
    body: OrganisationIn, access: Annotated[Access, Depends(require("manage-organisations"))]
) -> Organisation:
    created = create_organisation(
        access.db, code=body.code, name=body.name, type=body.type, urn=body.urn, by=access.me().actor
    )
    access.db.commit()
    return created
