"""``POST /api/me/password``: change one's own password. Every other session of the account ends. The operation is
:func:`commonground.cases.accounts.change_own_password`, which the account page calls too."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from commonground.cases.accounts import change_own_password
from commonground.web.api.common import ERRORS
from commonground.web.api.schemas import In
from commonground.web.deps import Access, require, settings_of
from commonground.web.security import session_cookie_name

router = APIRouter(prefix="/api/me", tags=["service"], responses=ERRORS)


class PasswordChange(In):
    current_password: str = Field(min_length=1, max_length=200)
    new_password: str = Field(min_length=1, max_length=200)


class PasswordChanged(BaseModel):
    changed: bool = Field(description="Always true; a refusal is a 400 saying why.")
    other_sessions_ended: bool = Field(description="Every other session of the account was signed out.")


@router.post("/password", response_model=PasswordChanged, summary="Change your own password")
def change_password(
    body: PasswordChange, access: Annotated[Access, Depends(require("change-own-password"))]
) -> PasswordChanged:
    token = access.request.cookies.get(session_cookie_name(settings_of(access.request)))
    change_own_password(access, current=body.current_password, new=body.new_password, keep_token=token)
    return PasswordChanged(changed=True, other_sessions_ended=True)
