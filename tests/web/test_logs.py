"""Personal data never reaches the logs: sign in, open records, write notes with synthetic names in them, and
scan everything every logger printed (the service's, uvicorn's, SQLAlchemy's, at DEBUG)."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient
from service_support import PASSWORD
from service_world import build_world
from sqlalchemy.orm import Session, sessionmaker

NAMES = ("Amara Okonkwo-Bellingham", "Tobias Wrenfield")  # synthetic, and unlike anything else in the tests


def test_synthetic_names_never_appear_in_logs(
    client: TestClient, sessions: sessionmaker[Session], caplog: pytest.LogCaptureFixture
) -> None:
    world = build_world(sessions, with_agreements=True)
    caplog.set_level(logging.DEBUG)
    page = client.get("/sign-in").text
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    # a failed sign-in that carries a name, then the real one
    client.post("/sign-in", data={"email": NAMES[0], "password": NAMES[1], "csrf_token": token})
    signed = client.post("/sign-in", data={"email": "hub@la.example", "password": PASSWORD, "csrf_token": token})
    assert signed.status_code == 200  # followed to the home page
    csrf = client.get("/api/me").json()["csrf_token"]
    item = world.items["P-LA-1"]
    url = f"/api/work-items/{item}?purpose=safeguarding_children"
    assert client.get(url).status_code == 200
    changed = client.patch(
        url,
        json={
            "status": "closed",
            "outcome": f"Spoke with {NAMES[0]} and her son {NAMES[1]}; referred.",
            "outcome_code": "action_taken",
        },
        headers={"X-CSRF-Token": csrf},
    )
    assert changed.status_code == 200
    refused = client.patch(url, json={"outcome": NAMES[0], "assigned_to_user_id": 999}, headers={"X-CSRF-Token": csrf})
    assert refused.status_code in {400, 422}
    assert (
        client.get(url, headers={"Commonground-Break-Glass-Reason": f"{NAMES[1]} is at risk tonight"}).status_code
        == 200
    )
    assert NAMES[0] in client.get(url).text  # the name is stored and shown to who may see it...
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "GET /api/work-items/{item_id} 200" in logged  # ... the request log ran, with route templates only
    for name in NAMES:
        assert name not in logged
        assert name.split()[0] not in logged
