"""OIDC sign-in through Authlib, against our own local provider over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from oidc_provider import CLIENT_ID, CLIENT_SECRET, Provider, running_provider
from service_support import SETUP
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from commonground.access.accounts import create_user
from commonground.access.models import User
from commonground.access.roles import Role
from commonground.cases.organisations import create_organisation
from commonground.store.organisation_types import OrganisationType
from commonground.store.settings import HubSettings
from commonground.web.app import create_app


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    with running_provider() as running:
        yield running


@pytest.fixture
def oidc_client(
    provider: Provider, settings: HubSettings, engine: Engine, sessions: sessionmaker[Session]
) -> TestClient:
    with sessions() as db:
        pol = create_organisation(
            db, code="POL", name="Northshire Police", type=OrganisationType.POLICE_FORCE, by=SETUP
        )
        create_user(
            db,
            email="officer@pol.example",
            display_name="Officer",
            organisation=pol,
            role=Role.POLICE_OFFICER,
            by=SETUP,
        )
        db.commit()
    configured = HubSettings.model_validate(
        settings.model_dump()
        | {"oidc_issuer": provider.issuer, "oidc_client_id": CLIENT_ID, "oidc_client_secret": CLIENT_SECRET}
    )
    return TestClient(create_app(configured, engine=engine), base_url="https://testserver")


def _sign_in_through_provider(client: TestClient, provider: Provider, user: dict[str, object]) -> httpx.Response:
    provider.next_user = user
    start = client.get("/sign-in/oidc", follow_redirects=False)
    assert start.status_code == 302 and start.headers["location"].startswith(provider.issuer)
    back = httpx.get(start.headers["location"], follow_redirects=False)
    assert back.status_code == 302
    callback = urlsplit(back.headers["location"])
    return client.get(f"{callback.path}?{callback.query}", follow_redirects=False)


def test_a_verified_email_links_the_account_then_the_subject_signs_in(
    oidc_client: TestClient, provider: Provider, sessions: sessionmaker[Session]
) -> None:
    claims = {"sub": "entra-123", "email": "Officer@pol.example", "email_verified": True}
    done = _sign_in_through_provider(oidc_client, provider, claims)
    assert done.status_code == 303, done.text
    me = oidc_client.get("/api/me").json()
    assert (me["user"]["email"], me["user"]["role"], me["user"]["oidc_linked"]) == (
        "officer@pol.example",
        "police_officer",
        True,
    )
    with sessions() as db:
        user = db.query(User).filter_by(email="officer@pol.example").one()
        assert (user.oidc_issuer, user.oidc_subject) == (provider.issuer, "entra-123")
    again = TestClient(oidc_client.app, base_url="https://testserver")
    assert _sign_in_through_provider(again, provider, {"sub": "entra-123"}).status_code == 303


@pytest.mark.parametrize(
    "claims",
    [
        {"sub": "x-1", "email": "stranger@pol.example", "email_verified": True},
        {"sub": "x-2", "email": "officer@pol.example", "email_verified": False},
    ],
    ids=["no-account", "unverified-email"],
)
def test_no_account_no_entry(oidc_client: TestClient, provider: Provider, claims: dict[str, object]) -> None:
    refused = _sign_in_through_provider(oidc_client, provider, claims)
    assert refused.status_code == 403
    assert oidc_client.get("/api/me").status_code == 401


def test_a_forged_state_is_refused(oidc_client: TestClient, provider: Provider) -> None:
    provider.next_user = {"sub": "entra-123", "email": "officer@pol.example", "email_verified": True}
    start = oidc_client.get("/sign-in/oidc", follow_redirects=False)
    back = urlsplit(httpx.get(start.headers["location"], follow_redirects=False).headers["location"])
    forged = back.query.replace("state=", "state=forged")
    assert oidc_client.get(f"{back.path}?{forged}", follow_redirects=False).status_code == 400
    assert oidc_client.get("/api/me").status_code == 401
