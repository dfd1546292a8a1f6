"""``/api/users``: the people who can sign in (administrators only). The operations are
:mod:`commonground.cases.accounts`, which the administrator's pages call too."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends

from commonground.access.models import User
from commonground.cases import accounts as account_work
from commonground.web.api.common import ERRORS
from commonground.web.api.schemas import UserIn, UserOut, UserPatch
from commonground.web.deps import Access, require
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
        access_pending=user.access_pending,
    )


@router.get("", response_model=list[UserOut], summary="Everyone who can sign in")
def users(access: Annotated[Access, Depends(require("view-users"))]) -> list[UserOut]:
    return [user_out(u, now=access.now) for u in account_work.accounts(access)]


@router.get("/{user_id}", response_model=UserOut, summary="One account")
def user(user_id: IdPath, access: Annotated[Access, Depends(require("view-users"))]) -> UserOut:
    return user_out(account_work.account(access, user_id=user_id), now=access.now)


@router.post("", response_model=UserOut, status_code=201, summary="Add an account")
def add_user(body: UserIn, access: Annotated[Access, Depends(require("manage-users"))]) -> UserOut:
    created = account_work.add_account(
        access,
        email=body.email,
        display_name=body.display_name,
        organisation=body.organisation,
        role=body.role,
        password=body.password,
    )
    return user_out(created, now=access.now)


@router.patch("/{user_id}", response_model=UserOut, summary="Change, deactivate or unlock an account")
def patch_user(
    user_id: IdPath, body: UserPatch, access: Annotated[Access, Depends(require("manage-users"))]
) -> UserOut:
    changed, _ = account_work.change_account(
        access,
        user_id=user_id,
        role=body.role,
        organisation=body.organisation,
        active=body.active,
        display_name=body.display_name,
        unlock=body.unlock,
    )
    return user_out(changed, now=access.now)


@router.post(
    "/{user_id}/approve-access", response_model=UserOut, summary="Approve an account's record access (second person)"
)
def approve_access(user_id: IdPath, access: Annotated[Access, Depends(require("approve-access"))]) -> UserOut:
    return user_out(account_work.approve_access(access, user_id=user_id), now=access.now)
