"""``POST /api/me/password``: change one's own password. Every other session of the account ends."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from commonground.access.accounts import change_own_password
from commonground.errors import UserError
from commonground.web.api.common import ERRORS
from commonground.web.api.schemas import In
from commonground.web.deps import Access, require
from commonground.web.security import session_cookie_name

router = APIRouter(prefix="/api/me", tags=["service"], responses=ERRORS)


class PasswordChange(In):
    current_password: str = Field(min_length=1, max_length=200)
    new_password: str = Field(min_length=1, max_length=200)


class PasswordChanged(BaseModel):
    changed: bool = Field(description="Always true; a refusal is a 400 saying why.")
    other_sessions_ended: bool = Field(description="Every other session of the account was signed out.")


def change_password_of(access: Access, request: Request, *, current: str, new: str) -> None:
    """Check and change the signed-in person's password, keeping this session; a refusal is audited."""
    user = access.user
    assert user is not None  # change-own-password is never public
    token = request.cookies.get(session_cookie_name(request.app.state.settings))
    try:
        change_own_password(access.db, user=user, current=current, new=new, keep_token=token)
    except UserError:
        access.db.commit()  # keeps the audit event of a wrong current password
        raise
    access.db.commit()


@router.post("/password", response_model=PasswordChanged, summary="Change your own password")
def change_password(
    body: PasswordChange, request: Request, access: Annotated[Access, Depends(require("change-own-password"))]
) -> PasswordChanged:
    change_password_of(access, request, current=body.current_password, new=body.new_password)
    return PasswordChanged(changed=True, other_sessions_ended=True)
