"""The administrator's pages: partner organisations (list, add) and accounts (list, add with a one-time password,
deactivate and reactivate, unlock, change role). The operations of :mod:`commonground.cases.accounts` and
:mod:`commonground.cases.organisations` do the work, with their history rows and audit events, and the JSON API
calls the same ones: this module reads forms and renders templates.

Administrators run the service and never open people's records: nothing here shows anything about a person.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from commonground.access.models import User
from commonground.access.roles import ROLE_ORGANISATION_TYPES, Role
from commonground.cases import accounts as account_work
from commonground.cases import organisations as organisation_work
from commonground.cases.organisations import list_organisations, organisation_by_code
from commonground.errors import UserError
from commonground.store.models import Organisation
from commonground.store.organisation_types import OrganisationType
from commonground.web.deps import Access, require
from commonground.web.params import IdPath
from commonground.web.render import page, redirect

router = APIRouter(include_in_schema=False)

DONE: dict[str, str] = {
    "organisation-added": "The organisation has been added.",
    "account-deactivated": "The account is deactivated and its sessions have ended.",
    "account-activated": "The account can sign in again.",
    "account-unlocked": "The account is unlocked.",
    "role-changed": "The role has been changed and the account's sessions have ended.",
    "nothing-changed": "Nothing needed changing.",
}
"""What this area's forms confirm after a redirect (``?done=CODE``); gathered by ``pages.done_messages()``."""


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


# --- organisations ----------------------------------------------------------------------------------------------


def _organisations_page(
    access: Access, *, errors: dict[str, str], values: dict[str, str], status: int = 200
) -> HTMLResponse:
    return page(
        access,
        "admin_organisations.html",
        title="Partner organisations",
        status=status,
        error_title=bool(errors),
        organisations=organisation_work.organisations(access),
        errors=errors,
        values=values,
        type_options=[("", "Choose a kind")] + [(t.value, t.label) for t in OrganisationType],
    )


@router.get("/organisations", response_class=HTMLResponse)
def organisations_page(access: Annotated[Access, Depends(require("manage-organisations"))]) -> HTMLResponse:
    return _organisations_page(access, errors={}, values={})


@router.post("/organisations", response_class=HTMLResponse)
def add_organisation(
    access: Annotated[Access, Depends(require("manage-organisations"))],
    code: Annotated[str, Form(max_length=40)] = "",
    name: Annotated[str, Form(max_length=200)] = "",
    type: Annotated[str, Form(max_length=40)] = "",
    urn: Annotated[str, Form(max_length=6)] = "",
) -> Response:
    values = {"code": code.strip(), "name": name.strip(), "type": type, "urn": urn.strip()}
    errors: dict[str, str] = {}
    if not values["code"]:
        errors["code"] = "Enter the organisation's code (ODS or force code; a school's URN will do)"
    if not values["name"]:
        errors["name"] = "Enter the organisation's name"
    if type not in {t.value for t in OrganisationType}:
        errors["type"] = "Choose what kind of organisation it is"
    if not errors:
        try:
            organisation_work.add_organisation(
                access, code=values["code"], name=values["name"], type=OrganisationType(type), urn=values["urn"] or None
            )
        except UserError as error:
            errors[error.field or "code"] = _capital(str(error))
        else:
            return redirect("/organisations", done="organisation-added")
    return _organisations_page(access, errors=errors, values=values, status=400)


# --- accounts ---------------------------------------------------------------------------------------------------


def _role_options() -> list[tuple[str, str]]:
    return [(r.value, r.label) for r in Role]


def _accounts_page(
    access: Access, *, errors: dict[str, str], values: dict[str, str], status: int = 200, **extra: Any
) -> HTMLResponse:
    users = list(access.db.scalars(select(User).order_by(User.organisation_id, User.display_name)))
    return page(
        access,
        "admin_accounts.html",
        title="Accounts",
        status=status,
        error_title=bool(errors),
        users=users,
        errors=errors,
        values=values,
        organisation_options=[("", "Choose an organisation")]
        + [(o.code, o.name) for o in list_organisations(access.db)],
        role_options=[("", "Choose a role"), *_role_options()],
        **extra,
    )


@router.get("/accounts", response_class=HTMLResponse)
def accounts_page(access: Annotated[Access, Depends(require("view-users"))]) -> HTMLResponse:
    return _accounts_page(access, errors={}, values={})


def one_time_password() -> str:
    """A password to pass on once: four groups of five letters and digits (about 100 bits)."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(5)) for _ in range(4))


@router.post("/accounts", response_class=HTMLResponse)
def add_account(
    access: Annotated[Access, Depends(require("manage-users"))],
    email: Annotated[str, Form(max_length=320)] = "",
    display_name: Annotated[str, Form(max_length=200)] = "",
    organisation: Annotated[str, Form(max_length=40)] = "",
    role: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    values = {"email": email.strip(), "display_name": display_name.strip(), "organisation": organisation, "role": role}
    errors: dict[str, str] = {}
    if not values["email"]:
        errors["email"] = "Enter the person's work email address"
    if not values["display_name"]:
        errors["display_name"] = "Enter the person's name"
    found = organisation_by_code(access.db, organisation) if organisation else None
    if found is None:
        errors["organisation"] = "Choose the person's organisation"
    if role not in {r.value for r in Role}:
        errors["role"] = "Choose the person's role"
    password = one_time_password()
    if not errors and found is not None:
        try:
            created = account_work.add_account(
                access,
                email=values["email"],
                display_name=values["display_name"],
                organisation=found.code,
                role=Role(role),
                password=password,
            )
        except UserError as error:
            errors[error.field or "display_name"] = _capital(str(error))
        else:
            return page(
                access,
                "admin_account_created.html",
                title="Account added",
                created=created,
                password=password,
            )
    return _accounts_page(access, errors=errors, values=values, status=400)


def _account_page(access: Access, found: User, *, errors: dict[str, str], status: int = 200) -> HTMLResponse:
    history = account_work.account_history(access, user_id=found.id)
    names = {u.id: u.display_name for u in access.db.scalars(select(User))}
    organisation = access.db.get_one(Organisation, found.organisation_id)
    return page(
        access,
        "admin_account.html",
        title=f"Account: {found.display_name}",
        status=status,
        error_title=bool(errors),
        account=found,
        account_organisation=organisation,
        locked=found.locked_until is not None and found.locked_until > access.now,
        history=history,
        names=names,
        errors=errors,
        role_options=[(r.value, r.label) for r in Role if organisation.type in ROLE_ORGANISATION_TYPES[r]],
        is_me=access.user is not None and access.user.id == found.id,
    )


@router.get("/accounts/{user_id}", response_class=HTMLResponse)
def account_page(user_id: IdPath, access: Annotated[Access, Depends(require("view-users"))]) -> HTMLResponse:
    return _account_page(access, account_work.account(access, user_id=user_id), errors={})


CHANGES: dict[str, tuple[str, dict[str, Any]]] = {
    "deactivate": ("account-deactivated", {"active": False}),
    "activate": ("account-activated", {"active": True}),
    "unlock": ("account-unlocked", {"unlock": True}),
}
"""The account page's buttons (besides the change of role): what each changes, and its confirmation."""


@router.post("/accounts/{user_id}", response_class=HTMLResponse)
def change_account(
    user_id: IdPath,
    access: Annotated[Access, Depends(require("manage-users"))],
    do: Annotated[str, Form(max_length=20)] = "",
    role: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    found = account_work.account(access, user_id=user_id)
    change: dict[str, Any]
    if do == "role":
        if role not in {r.value for r in Role}:
            return _account_page(access, found, errors={"role": "Choose a role"}, status=400)
        done, change = "role-changed", {"role": Role(role)}
    elif do in CHANGES:
        done, change = CHANGES[do]
    else:
        raise HTTPException(400, "unknown change")
    try:
        _, changed = account_work.change_account(access, user_id=user_id, **change)
    except UserError as error:
        found = account_work.account(access, user_id=user_id)
        return _account_page(access, found, errors={"do": _capital(str(error))}, status=400)
    return redirect(f"/accounts/{user_id}", done=done if changed else "nothing-changed")
