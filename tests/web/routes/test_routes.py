"""Every route declares an action; every route x every role x with and without agreements: nothing leaks.

The matrix is assembled from one module per area (``route_cases_<area>.py`` beside this file: sign-in and your
account, the administrator, the data protection officer, work items, people, referrals, notices and triage, what
works), each declaring the probes of its routes; ``route_matrix.py`` holds the oracle and the common builders. A
route of the app that no area declares fails the matrix, and so does a route two areas declare.

For each account, the areas' probes run in the order of :data:`AREAS` and, within an area, in the order declared:
a probe may find what an earlier one of its area left (the API ends the spare agreement before the page tries to).
"""

from __future__ import annotations

import itertools
from types import ModuleType
from typing import Any

import pytest
import route_cases_admin
import route_cases_dpo
import route_cases_notices
import route_cases_people
import route_cases_referrals
import route_cases_signin
import route_cases_what_works
import route_cases_work_items
from fastapi import FastAPI
from fastapi.testclient import TestClient
from notice_support import add_route_notices
from person_view_fixture import write_test_view
from route_cases_dpo import AUDIT_READERS
from route_matrix import VIEW_NAMES, VIEW_PEOPLE, Builder, Oracle, Probe, declared_actions, routes_of
from service_support import SESSION_COOKIE
from service_world import ACCOUNTS, build_world
from sqlalchemy.orm import Session, sessionmaker

from commonground.access import accounts
from commonground.access.actions import ACTIONS
from commonground.access.models import User
from commonground.store.db import utcnow
from commonground.web.security import csrf_token

AREAS: tuple[ModuleType, ...] = (
    route_cases_signin,
    route_cases_admin,
    route_cases_dpo,
    route_cases_work_items,
    route_cases_people,
    route_cases_referrals,
    route_cases_notices,
    route_cases_what_works,
)
counter = itertools.count()


def assemble(areas: tuple[ModuleType, ...]) -> dict[tuple[str, str], Builder]:
    """The matrix: every area's ``ROUTES``, in order; a route declared by two areas is an error."""
    table: dict[tuple[str, str], Builder] = {}
    owner: dict[tuple[str, str], str] = {}
    for area in areas:
        for key, build in area.ROUTES.items():
            if key in table:
                raise ValueError(f"{key} is declared by {owner[key]} and {area.__name__}")
            table[key], owner[key] = build, area.__name__
    return table


ROUTE_TABLE = assemble(AREAS)


def test_every_route_declares_exactly_one_known_action(app: FastAPI) -> None:
    for route in routes_of(app):
        actions = declared_actions(route)
        assert len(actions) == 1, f"{sorted(route.methods)} {route.path} declares {actions or 'no action'}"
        assert actions[0] in ACTIONS


def test_the_route_check_fails_on_a_route_without_an_action(app: FastAPI) -> None:
    @app.get("/unguarded")
    def unguarded() -> dict[str, str]:
        return {}

    offenders = [r.path for r in routes_of(app) if not declared_actions(r)]
    assert offenders == ["/unguarded"]


def test_a_route_declared_by_two_areas_is_refused() -> None:
    with pytest.raises(ValueError, match="route_cases_signin and route_cases_signin"):
        assemble((route_cases_signin, route_cases_signin))


def _session_for(client: TestClient, sessions: sessionmaker[Session], user_id: int) -> tuple[str, str]:
    with sessions() as db:
        user = db.get_one(User, user_id)
        token = accounts.start_session(
            db,
            user=user,
            method="test",
            settings=client.app.state.settings,
            now=utcnow(),  # type: ignore[attr-defined]
        )
        db.commit()
    return token, csrf_token(client.app.state.secret, token)  # type: ignore[attr-defined]


def _send(client: TestClient, probe: Probe, cookie: tuple[str, str] | None) -> Any:
    headers = {"Accept": "application/json"}
    if cookie is not None:
        headers["Cookie"] = f"{SESSION_COOKIE}={cookie[0]}"
        headers["X-CSRF-Token"] = cookie[1]
    kwargs: dict[str, Any] = {"headers": headers, "follow_redirects": False}
    if probe.json is not None:
        kwargs["json"] = probe.json
    if probe.form is not None:
        kwargs["data"] = {**probe.form, "csrf_token": cookie[1] if cookie else ""}
    return client.request(probe.method, probe.url, **kwargs)


@pytest.mark.parametrize("with_agreements", [True, False], ids=["with-agreements", "without-agreements"])
def test_route_matrix_nobody_reads_what_they_should_not(
    app: FastAPI, client: TestClient, sessions: sessionmaker[Session], with_agreements: bool
) -> None:
    world = build_world(sessions, with_agreements=with_agreements)
    write_test_view(app.state.settings.data_dir, VIEW_PEOPLE)
    setattr(world, "notices", add_route_notices(sessions, world, VIEW_NAMES))  # noqa: B010 (#6: notices to probe)
    oracle = Oracle(world)
    app_routes = {(m, r.path) for r in routes_of(app) for m in r.methods}
    missing, extra = app_routes - set(ROUTE_TABLE), set(ROUTE_TABLE) - app_routes
    assert not missing, f"routes of the app that no area of the matrix declares: {sorted(missing)}"
    assert not extra, f"routes in the matrix that the app does not have: {sorted(extra)}"
    failures: list[str] = []
    probes = 0
    cookies: dict[str, tuple[str, str]] = {}
    for email in [*(a[0] for a in ACCOUNTS), None]:
        for (_method, path), build in ROUTE_TABLE.items():
            for probe in build(oracle, email, next(counter)):
                probes += 1
                cookie = None
                if email is not None:  # sign-out ends its session, so it gets a fresh one
                    fresh = path == "/sign-out" or email not in cookies
                    cookie = _session_for(client, sessions, world.users[email]) if fresh else cookies[email]
                    cookies.setdefault(email, cookie)
                response = _send(client, probe, cookie)
                expected = probe.allowed_status if probe.allowed else probe.denied_status
                who = email or "anonymous"
                if response.status_code not in expected:
                    failures.append(
                        f"{who} {probe.method} {probe.url}: {response.status_code}, expected {set(expected)}"
                    )
                    continue
                body = response.text
                if (probe.method, path) == ("POST", "/api/agreements") and response.status_code == 201:
                    created = response.json()
                    world.agreements[created["spec"]["reference"]] = (created["id"], "PHT")
                if (probe.method, path) == ("POST", "/agreements") and response.status_code == 303 and probe.form:
                    made = response.headers["location"].split("?")[0].rsplit("/", 1)[1]  # the page made one too
                    world.agreements[probe.form["reference"]] = (int(made), "PHT")
                if path not in AUDIT_READERS:
                    hidden = oracle.hidden_people(email)
                    if probe.echo is not None:
                        shown_ok = {probe.echo, VIEW_NAMES[probe.echo]} if probe.allowed else {probe.echo}
                        hidden = tuple(h for h in hidden if h not in shown_ok)
                    leaked = [p for p in hidden if p in body]
                    leaked += [r for r in oracle.hidden_agreements(email) if f'"{r}"' in body]
                    if leaked:
                        failures.append(f"LEAK {who} {probe.method} {probe.url}: {leaked}")
                if probe.allowed and probe.check is not None:
                    try:
                        probe.check(response.json())
                    except AssertionError as error:
                        failures.append(f"{who} {probe.method} {probe.url}: {error}")
    assert probes > 300
    assert not failures, "\n".join(failures)
