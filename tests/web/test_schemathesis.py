"""schemathesis against the OpenAPI document: generated requests from three kinds of signed-in person
(administrator, DPO, hub practitioner): never a 5xx, and every response matches the schema."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance
from service_world import build_world
from sqlalchemy.orm import Session, sessionmaker

from commonground.access import accounts
from commonground.access.models import User
from commonground.store.db import utcnow
from commonground.web.security import csrf_token

PEOPLE = ("admin@la.example", "dpo@la.example", "hub@la.example")


@pytest.fixture
def api(app: FastAPI, sessions: sessionmaker[Session]) -> Any:
    world = build_world(sessions, with_agreements=True)
    identities = []
    with sessions() as db:
        for email in PEOPLE:
            user = db.get_one(User, world.users[email])
            token = accounts.start_session(db, user=user, method="test", settings=app.state.settings, now=utcnow())
            identities.append(
                {"Cookie": f"__Host-cg_session={token}", "X-CSRF-Token": csrf_token(app.state.secret, token)}
            )
        db.commit()
    app.state.test_identities = identities
    assert TestClient(app).get("/api/openapi.json").status_code == 200
    return schemathesis.openapi.from_asgi("/api/openapi.json", app)


def test_api_conforms_to_its_schema(api: Any, app: FastAPI) -> None:
    operations = [result.ok() for result in api.get_all_operations()]
    assert len(operations) >= 20
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
        def conforms(case: Any) -> None:
            for headers in app.state.test_identities:
                # valid data may still be refused (403/404) by the resolver, so that one check does not apply
                case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])

        conforms()
