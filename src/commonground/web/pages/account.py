"""Your account: who you are signed in as, and changing your own password (every other session then ends)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form
from fastapi.responses import HTMLResponse, Response

from commonground.access.accounts import MIN_PASSWORD_LENGTH, password_problem
from commonground.cases.accounts import change_own_password
from commonground.errors import UserError
from commonground.web.deps import Access, require, settings_of
from commonground.web.render import page, redirect
from commonground.web.security import session_cookie_name

router = APIRouter(include_in_schema=False)

DONE: dict[str, str] = {"password-changed": "Your password has been changed."}
"""What this area's forms confirm after a redirect (``?done=CODE``); gathered by ``pages.done_messages()``."""


def _account(access: Access, *, errors: dict[str, str], status: int = 200) -> HTMLResponse:
    user = access.user
    return page(
        access,
        "account.html",
        title="Your account",
        status=status,
        error_title=bool(errors),
        errors=errors,
        min_length=MIN_PASSWORD_LENGTH,
        has_password=user is not None and user.password_hash is not None,
    )


@router.get("/account", response_class=HTMLResponse)
def account_page(access: Annotated[Access, Depends(require("view-self"))]) -> HTMLResponse:
    return _account(access, errors={})


@router.post("/account/password", response_class=HTMLResponse)
def change_password_form(
    access: Annotated[Access, Depends(require("change-own-password"))],
    current_password: Annotated[str, Form(max_length=200)] = "",
    new_password: Annotated[str, Form(max_length=200)] = "",
    confirm_password: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    user = access.user
    assert user is not None
    errors: dict[str, str] = {}
    if not current_password:
        errors["current_password"] = "Enter your current password"  # noqa: S105  (a message, not a password)
    problem = password_problem(user, new_password)
    if problem:
        errors["new_password"] = problem[:1].upper() + problem[1:]
    elif new_password != confirm_password:
        errors["confirm_password"] = "The two new passwords are not the same"  # noqa: S105
    if not errors:
        token = access.request.cookies.get(session_cookie_name(settings_of(access.request)))
        try:
            change_own_password(access, current=current_password, new=new_password, keep_token=token)
        except UserError as error:
            errors[error.field or "new_password"] = str(error)[:1].upper() + str(error)[1:]
    if errors:
        return _account(access, errors=errors, status=400)
    return redirect("/account", done="password-changed")
