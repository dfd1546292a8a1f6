"""Accounts as the administrator keeps them (list, add with a password to pass on once, change role or
organisation, deactivate, reactivate, unlock) and as their owner does (change one's own password).

Each operation takes the operation :class:`~commonground.access.context.Context`, authorises through the
resolver, acts through :mod:`commonground.access.accounts` (which writes the history row and the audit event) and
commits: the API (``/api/users``, ``/api/me/password``) and the pages (``/accounts``, ``/account``) both call
these. A wrong change is a :class:`~commonground.errors.UserError` whose ``field`` names the input it is about.
"""

from __future__ import annotations

from sqlalchemy import select

from commonground.access import accounts as store
from commonground.access.actions import SubjectKind
from commonground.access.context import Context
from commonground.access.models import User, UserVersion
from commonground.access.resolver import Subject
from commonground.access.roles import Role
from commonground.cases.organisations import organisation_by_code
from commonground.errors import NotFound, UserError
from commonground.store.models import Organisation


def _subject(user_id: int | None = None) -> Subject:
    return Subject(kind=SubjectKind.USER, id=None if user_id is None else str(user_id))


def _organisation(ctx: Context, code: str) -> Organisation:
    organisation = organisation_by_code(ctx.db, code)
    if organisation is None:
        raise UserError(f"no organisation has the code {code!r}", field="organisation")
    return organisation


def accounts(ctx: Context) -> list[User]:
    """Everyone who can sign in, by id."""
    ctx.require("view-users", _subject())
    return list(ctx.db.scalars(select(User).order_by(User.id)))


def account(ctx: Context, *, user_id: int) -> User:
    """One account, or :class:`~commonground.errors.NotFound`."""
    ctx.require("view-users", _subject(user_id))
    found = ctx.db.get(User, user_id)
    if found is None:
        raise NotFound()
    return found


def account_history(ctx: Context, *, user_id: int) -> list[UserVersion]:
    """Every version of an account, oldest first."""
    found = account(ctx, user_id=user_id)
    query = select(UserVersion).where(UserVersion.user_id == found.id).order_by(UserVersion.version)
    return list(ctx.db.scalars(query))


def add_account(
    ctx: Context, *, email: str, display_name: str, organisation: str, role: Role, password: str | None
) -> User:
    """Add an account in the organisation with the code ``organisation``. A password is one to pass on once: signing
    in with it opens only the change of password (without one, the account signs in through OIDC only)."""
    ctx.require("manage-users", _subject())
    try:
        created = store.create_user(
            ctx.db,
            email=email,
            display_name=display_name,
            organisation=_organisation(ctx, organisation),
            role=role,
            password=password,
            one_time=True,
            by=ctx.me().actor,
            second_person=True,
        )
    except UserError:
        ctx.db.rollback()
        raise
    ctx.db.commit()
    return created


def change_account(
    ctx: Context,
    *,
    user_id: int,
    role: Role | None = None,
    organisation: str | None = None,
    active: bool | None = None,
    display_name: str | None = None,
    unlock: bool = False,
) -> tuple[User, bool]:
    """Change, deactivate, reactivate or unlock an account (a new role, organisation or status ends its sessions):
    the account, and whether anything changed. Nobody changes their own role, organisation or status."""
    found = account(ctx, user_id=user_id)
    ctx.require("manage-users", _subject(user_id))
    by = ctx.me().actor
    before = found.version
    try:
        store.change_user(
            ctx.db,
            user=found,
            by=by,
            role=role,
            organisation=_organisation(ctx, organisation) if organisation else None,
            active=active,
            display_name=display_name,
            second_person=True,
        )
        if unlock:
            store.unlock_user(ctx.db, user=found, by=by)
    except UserError:
        ctx.db.rollback()
        raise
    ctx.db.commit()
    return found, found.version != before


def awaiting_approval(ctx: Context) -> list[User]:
    """The accounts whose record access waits for a second person, oldest change first."""
    ctx.require("approve-access", _subject())
    return list(ctx.db.scalars(select(User).where(User.access_pending.is_(True)).order_by(User.id)))


def changed_by(ctx: Context, waiting: list[User]) -> dict[int, str]:
    """Who made each waiting change, as their email."""
    ctx.require("approve-access", _subject())
    found: dict[int, str] = {}
    for user in waiting:
        changer = ctx.db.get(User, user.access_changed_by_user_id) if user.access_changed_by_user_id else None
        found[user.id] = changer.email if changer else "not recorded"
    return found


def approve_access(ctx: Context, *, user_id: int) -> User:
    """Approve an account's record access, as the second person (never who made the change, nor its owner)."""
    ctx.require("approve-access", _subject(user_id))
    found = ctx.db.get(User, user_id)
    if found is None:
        raise NotFound()
    try:
        store.approve_access(ctx.db, user=found, by=ctx.me().actor)
    except UserError:
        ctx.db.rollback()
        raise
    ctx.db.commit()
    return found


def change_own_password(ctx: Context, *, current: str, new: str, keep_token: str | None) -> None:
    """Check and change the signed-in person's password; every other session of the account ends (``keep_token``,
    the session asking, stays). A wrong current password is audited, and that is kept, before it is refused."""
    ctx.require("change-own-password", _subject(ctx.me().user_id))
    user = ctx.user
    if user is None:
        raise NotFound()
    try:
        store.change_own_password(ctx.db, user=user, current=current, new=new, keep_token=keep_token)
    except UserError:
        ctx.db.commit()  # keeps the audit event of a wrong current password
        raise
    ctx.db.commit()
