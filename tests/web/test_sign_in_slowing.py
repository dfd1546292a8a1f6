"""The sign-in page under repeated failures: slowed down, never locked; a real account answered as an unknown one
is; and a team behind one address signs in at once (#17)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from fastapi.testclient import TestClient
from service_support import PASSWORD, SETUP, form_csrf
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from commonground.access.accounts import create_user
from commonground.access.models import SignInAttempt
from commonground.access.roles import Role
from commonground.cases.organisations import create_organisation
from commonground.store.organisation_types import OrganisationType

EMAIL = "dsl@school.example"


@pytest.fixture
def school(sessions: sessionmaker[Session]) -> int:
    with sessions() as db:
        organisation = create_organisation(
            db, code="SCH", name="Hill School", type=OrganisationType.SCHOOL, urn="123456", by=SETUP
        )
        db.commit()
        return organisation.id


def _add(sessions: sessionmaker[Session], school: int, email: str) -> None:
    from commonground.store.models import Organisation

    with sessions() as db:
        create_user(
            db,
            email=email,
            display_name=email.split("@")[0],
            organisation=db.get_one(Organisation, school),
            role=Role.SCHOOL_SAFEGUARDING_LEAD,
            password=PASSWORD,
            by=SETUP,
        )
        db.commit()


def _sign_in(client: TestClient, email: str, password: str) -> tuple[int, str, str | None]:
    token = form_csrf(client.get("/sign-in").text)
    answer = client.post(
        "/sign-in", data={"email": email, "password": password, "csrf_token": token}, follow_redirects=False
    )
    text = re.sub(r'name="csrf_token" value="[^"]+"', "", answer.text)
    return answer.status_code, text, answer.headers.get("retry-after")


def test_a_real_account_and_an_unknown_one_get_the_same_answers(
    app: object, sessions: sessionmaker[Session], school: int
) -> None:
    _add(sessions, school, EMAIL)
    real = TestClient(app, base_url="https://testserver")  # type: ignore[arg-type]
    unknown = TestClient(app, base_url="https://testserver")  # type: ignore[arg-type]
    real_answers = [_sign_in(real, EMAIL, "wrong password!!") for _ in range(7)]
    with sessions() as db:  # another address for the unknown one, so that only the email differs
        db.execute(update(SignInAttempt).values(client="198.51.100.1"))
        db.commit()
    unknown_answers = [_sign_in(unknown, "nobody@school.example", "wrong password!!") for _ in range(7)]
    assert real_answers == unknown_answers
    assert [status for status, _, _ in real_answers] == [401] * 5 + [429] * 2


def test_the_right_password_works_once_the_wait_has_passed(
    client: TestClient, sessions: sessionmaker[Session], school: int
) -> None:
    _add(sessions, school, EMAIL)
    for _ in range(5):
        assert _sign_in(client, EMAIL, "wrong password!!")[0] == 401
    status, text, retry_after = _sign_in(client, EMAIL, PASSWORD)
    assert status == 429 and retry_after is not None and "locked" not in text
    with sessions() as db:  # the wait passes
        for attempt in db.scalars(select(SignInAttempt)):
            attempt.at -= dt.timedelta(seconds=int(retry_after) + 1)
        db.commit()
    assert _sign_in(client, EMAIL, PASSWORD)[0] == 303


def test_twelve_colleagues_at_one_address_sign_in_within_a_minute(
    app: object, sessions: sessionmaker[Session], school: int
) -> None:
    for i in range(12):
        _add(sessions, school, f"teacher{i}@school.example")
    answers = []
    for i in range(12):
        browser = TestClient(app, base_url="https://testserver")  # type: ignore[arg-type]
        answers.append(_sign_in(browser, f"teacher{i}@school.example", PASSWORD)[0])
    assert answers == [303] * 12
