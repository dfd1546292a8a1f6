"""``/api/users``: the people who can sign in (administrators only)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException
from sqlalchemy import select

from commonground.access.accounts import change_user, create_user, unlock_user
from commonground.access.models import User
from commonground.cases.organisations import organisation_by_code
from commonground.errors import UserError
from commonground.store.models import Organisation
from commonground.web.api.common import ERRORS
from commonground.web.api.schemas import UserIn, UserOut, UserPatch
from commonground.web.deps import NOT_FOUND, Access, require
from commonground.web.params import IdPath

router = APIRouter(prefix="/api/users", tags=["users"], responses=ERRORS)


def user_out(user: User, *, now: dt.datetime) -> UserOut:
    return UserOut(
        id=user.id,
        email=user.email,
        display_name=user.display_name,
        organisation_id=user.organisation_id,
        role=user.role,
        active=user.active,
        locked=user.locked_until is not None and user.locked_until > now,
        oidc_linked=user.oidc_subject is not None,
        last_sign_in_at=user.last_sign_in_at,
    )


def _organisation(access: Access, code: str) -> Organisation:
    organisation = organisation_by_code(access.db, code)
    if organisation is None:
        raise UserError(f"no organisation has the code {code!r}")
    return organisation


@router.get("", response_model=list[UserOut], summary="Everyone who can sign in")
def users(access: Annotated[Access, Depends(require("view-users"))]) -> list[UserOut]:
    return [user_out(u, now=access.now) for u in access.db.scalars(select(User).order_by(User.id))]


@router.get("/{user_id}", response_model=UserOut, summary="One account")
def user(user_id: IdPath, access: Annotated[Access, Depends(require("view-users"))]) -> UserOut:
    found = access.db.get(User, user_id)
    if found is None:
        raise HTTPException(404, NOT_FOUND)
    return user_out(found, now=access.now)


@router.post("", response_model=UserOut, status_code=201, summary="Add an account")
def add_user(body: UserIn, access: Annotated[Access, Depends(require("manage-users"))]) -> UserOut:
    created = create_user(
        access.db,
        email=body.email,
        display_name=body.display_name,
        organisation=_organisation(access, body.organisation),
        role=body.role,
        password=body.password,
        one_time=True,
        by=access.me().actor,
    )
    access.db.commit()
    return user_out(created, now=access.now)


@router.patch("/{user_id}", response_model=UserOut, summary="Change, deactivate or unlock an account")
def patch_user(
    user_id: IdPath, body: UserPatch, access: Annotated[Access, Depends(require("manage-users"))]
) -> UserOut:
    found = access.db.get(User, user_id)
    if found is None:
        raise HTTPException(404, NOT_FOUND)
    by = access.me().actor
    change_user(
        access.db,
        user=found,
        by=by,
        role=body.role,
        organisation=_organisation(access, body.organisation) if body.organisation else None,
        active=body.active,
        display_name=body.display_name,
    )
    if body.unlock:
        unlock_user(access.db, user=found, by=by)
    access.db.commit()
    return user_out(found, now=access.now)
