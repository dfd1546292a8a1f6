"""The administrator's operations and the change of one's own password, called directly with a Context (no
HTTP): each refusal names its field as data, nothing refused is kept, and whoever may not is refused and
audited."""

from __future__ import annotations

import pytest
from service_support import PASSWORD, context_of
from service_world import World, build_world
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from commonground.access.models import AuditEvent, User
from commonground.access.roles import Role
from commonground.cases import accounts as account_work
from commonground.cases import organisations as organisation_work
from commonground.errors import NotFound, Refused, UserError
from commonground.store.models import Organisation
from commonground.store.organisation_types import OrganisationType


@pytest.fixture
def world(sessions: sessionmaker[Session]) -> World:
    return build_world(sessions, with_agreements=False)


def _denied(db: Session, action: str) -> list[AuditEvent]:
    return list(db.scalars(select(AuditEvent).where(AuditEvent.action == action, AuditEvent.outcome == "denied")))


def test_a_refused_admin_action_is_audited_and_changes_nothing(sessions: sessionmaker[Session], world: World) -> None:
    with sessions() as db:
        hub = context_of(db, world.users["hub@la.example"])
        with pytest.raises(Refused) as refused:
            account_work.add_account(
                hub,
                email="new@la.example",
                display_name="New",
                organisation="LA",
                role=Role.HUB_PRACTITIONER,
                password=None,
            )
        assert refused.value.status == 403
        with pytest.raises(Refused):
            organisation_work.add_organisation(hub, code="NEW", name="New", type=OrganisationType.NHS_TRUST)
    with sessions() as db:
        assert db.scalar(select(User).where(User.email == "new@la.example")) is None
        assert db.scalar(select(Organisation).where(Organisation.code == "NEW")) is None
        [denied] = _denied(db, "manage-users")
        assert denied.actor_user_id == world.users["hub@la.example"]
        assert _denied(db, "manage-organisations")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"email": "not an address"}, "email"),
        ({"email": "hub@la.example"}, "email"),
        ({"display_name": " "}, "display_name"),
        ({"organisation": "NOPE"}, "organisation"),
        ({"role": Role.SCHOOL_SAFEGUARDING_LEAD}, "role"),
    ],
)
def test_an_account_refused_names_its_field(
    sessions: sessionmaker[Session], world: World, changes: dict[str, object], field: str
) -> None:
    fields: dict[str, object] = {
        "email": "new@la.example",
        "display_name": "New",
        "organisation": "LA",
        "role": Role.HUB_PRACTITIONER,
        "password": None,
        **changes,
    }
    with sessions() as db:
        admin = context_of(db, world.users["admin@la.example"])
        with pytest.raises(UserError) as refused:
            account_work.add_account(admin, **fields)  # type: ignore[arg-type]
        assert refused.value.field == field


@pytest.mark.parametrize(
    ("code", "urn", "kind", "field"),
    [
        ("bad code!", None, OrganisationType.NHS_TRUST, "code"),
        ("POL", None, OrganisationType.NHS_TRUST, "code"),
        ("NEWSCH", None, OrganisationType.SCHOOL, "urn"),
        ("NEWSCH", "100001", OrganisationType.SCHOOL, "urn"),
        ("NEWNHS", "123456", OrganisationType.NHS_TRUST, "urn"),
    ],
)
def test_an_organisation_refused_names_its_field(
    sessions: sessionmaker[Session], world: World, code: str, urn: str | None, kind: OrganisationType, field: str
) -> None:
    with sessions() as db:
        admin = context_of(db, world.users["admin@la.example"])
        with pytest.raises(UserError) as refused:
            organisation_work.add_organisation(admin, code=code, name="A name", type=kind, urn=urn)
        assert refused.value.field == field


def test_accounts_are_changed_once_and_never_ones_own(sessions: sessionmaker[Session], world: World) -> None:
    with sessions() as db:
        admin = context_of(db, world.users["admin@la.example"])
        with pytest.raises(UserError, match="nobody can change their own"):
            account_work.change_account(admin, user_id=world.users["admin@la.example"], active=False)
        _, changed = account_work.change_account(admin, user_id=world.spare_user, active=False)
        _, again = account_work.change_account(admin, user_id=world.spare_user, active=False)
        assert (changed, again) == (True, False)
        with pytest.raises(NotFound):
            account_work.account(admin, user_id=world.spare_user + 1000)
    with sessions() as db:
        assert db.get_one(User, world.spare_user).active is False


def test_a_wrong_current_password_is_audited_and_named(sessions: sessionmaker[Session], world: World) -> None:
    with sessions() as db:
        me = context_of(db, world.users["team@das.example"])
        with pytest.raises(UserError) as wrong:
            account_work.change_own_password(me, current="not it", new="a long enough new one", keep_token=None)
        assert wrong.value.field == "current_password"
        with pytest.raises(UserError) as same:
            account_work.change_own_password(me, current=PASSWORD, new=PASSWORD, keep_token=None)
        assert same.value.field == "new_password"
        account_work.change_own_password(me, current=PASSWORD, new="a long enough new one", keep_token=None)
    with sessions() as db:
        assert _denied(db, "change-own-password")
        changed = db.scalars(
            select(AuditEvent).where(AuditEvent.action == "change-own-password", AuditEvent.outcome == "allowed")
        ).all()
        assert len(changed) == 1
