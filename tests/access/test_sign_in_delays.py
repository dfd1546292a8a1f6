"""Failed sign-ins slow down, by email address and by client address; nothing locks an account, and a known
address is answered as an unknown one is (``sign_in_with_password``, with the clock passed in)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from service_support import PASSWORD, SETUP
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from commonground.access.accounts import create_user, sign_in_with_password
from commonground.access.roles import Role
from commonground.cases.organisations import create_organisation
from commonground.store.db import utcnow
from commonground.store.models import Organisation
from commonground.store.organisation_types import OrganisationType
from commonground.store.settings import HubSettings

EMAIL = "dsl@school.example"
UNKNOWN = "nobody@school.example"


@pytest.fixture
def db(sessions: sessionmaker[Session]) -> Iterator[Session]:
    session = sessions()
    school = create_organisation(
        session, code="SCH", name="Hill School", type=OrganisationType.SCHOOL, urn="123456", by=SETUP
    )
    create_user(
        session,
        email=EMAIL,
        display_name="Lead",
        organisation=school,
        role=Role.SCHOOL_SAFEGUARDING_LEAD,
        password=PASSWORD,
        by=SETUP,
    )
    session.commit()
    yield session
    session.close()


def _try(
    db: Session, settings: HubSettings, email: str, password: str, at: dt.datetime, client: str
) -> tuple[str, int]:
    result = sign_in_with_password(db, email=email, password=password, client=client, settings=settings, now=at)
    db.commit()
    return result.outcome, result.retry_after_seconds


def test_five_wrong_passwords_slow_the_account_down_but_do_not_lock_it(db: Session, settings: HubSettings) -> None:
    now = utcnow()
    for i in range(5):
        assert _try(db, settings, EMAIL, "wrong password!!", now + dt.timedelta(seconds=i), f"198.51.100.{i}")[0] == (
            "refused"
        )
    last = now + dt.timedelta(seconds=4)
    waiting = _try(db, settings, EMAIL, PASSWORD, last + dt.timedelta(seconds=1), "192.0.2.1")
    assert waiting == ("rate_limited", 29)  # whoever sends it, from wherever
    assert _try(db, settings, EMAIL, PASSWORD, last + dt.timedelta(seconds=31), "192.0.2.1")[0] == "signed_in"


def test_the_delay_grows_with_each_further_failure_up_to_its_limit(db: Session, settings: HubSettings) -> None:
    at = utcnow()
    for _ in range(5):
        _try(db, settings, EMAIL, "wrong password!!", at, "198.51.100.1")
    wait, waits = 30, []
    for _ in range(5):  # each failure just after the wait has passed (all within the window of 15 minutes)
        at += dt.timedelta(seconds=wait + 1)
        assert _try(db, settings, EMAIL, "wrong password!!", at, "198.51.100.1")[0] == "refused"
        wait = _try(db, settings, EMAIL, PASSWORD, at, "198.51.100.1")[1]
        waits.append(wait)
    assert waits == [60, 120, 240, 300, 300]


def test_a_known_and_an_unknown_address_are_answered_alike(db: Session, settings: HubSettings) -> None:
    now = utcnow()
    known = [_try(db, settings, EMAIL, "wrong password!!", now, "198.51.100.1") for _ in range(7)]
    unknown = [_try(db, settings, UNKNOWN, "wrong password!!", now, "198.51.100.2") for _ in range(7)]
    assert known == unknown
    assert [outcome for outcome, _ in known] == ["refused"] * 5 + ["rate_limited"] * 2


def test_twelve_colleagues_at_one_address_sign_in_within_a_minute(db: Session, settings: HubSettings) -> None:
    school = db.scalars(select(Organisation)).one()
    colleagues = [
        create_user(
            db,
            email=f"teacher{i}@school.example",
            display_name=f"Teacher {i}",
            organisation=school,
            role=Role.SCHOOL_SAFEGUARDING_LEAD,
            password=PASSWORD,
            by=SETUP,
        ).email
        for i in range(12)
    ]
    db.commit()
    now = utcnow()
    outcomes = [_try(db, settings, email, PASSWORD, now, "192.0.2.50")[0] for email in colleagues]
    assert outcomes == ["signed_in"] * 12
