"""Every route declares an action; every route x every role x with and without agreements: nothing leaks.

The expectations here are written out independently of the resolver (an oracle in plain terms: "a work item is
seen only by its own organisation's role it is routed to, and only under an agreement"), so a resolver bug fails
the matrix rather than being copied into it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from hub_support import SESSION_COOKIE
from hub_world import ACCOUNTS, ITEMS, World, build_world
from sqlalchemy.orm import Session, sessionmaker

from commonground.access.actions import ACTIONS
from commonground.access.purposes import Purpose
from commonground.access.roles import Role
from commonground.api.deps import ACTION_ATTRIBUTE
from commonground.api.security import csrf_token
from commonground.hub import accounts
from commonground.hub.db import utcnow
from commonground.hub.models import User

CASEWORK = {
    Role.HUB_PRACTITIONER,
    Role.POLICE_OFFICER,
    Role.CONTROL_ROOM_MH_PROFESSIONAL,
    Role.SCHOOL_SAFEGUARDING_LEAD,
    Role.PARTNER_TEAM_MEMBER,
}
WIDE = {Role.DATA_PROTECTION_OFFICER, Role.ADMINISTRATOR}


@dataclass(frozen=True)
class Route:
    methods: frozenset[str]
    path: str
    route: APIRoute


def declared_actions(route: Route) -> list[str]:
    found: list[str] = []
    pending = list(route.route.dependant.dependencies)
    while pending:
        dependant = pending.pop()
        name = getattr(dependant.call, ACTION_ATTRIBUTE, None)
        if name is not None:
            found.append(name)
        pending.extend(dependant.dependencies)
    return found


def routes_of(app: FastAPI) -> list[Route]:
    """Every route of the app, included routers flattened (FastAPI's own route contexts)."""
    routes = []
    for context in iter_route_contexts(app.routes):
        original = context.original_route
        assert isinstance(original, APIRoute), f"{context.path} is not an APIRoute and escapes the action check"
        assert context.path is not None and context.methods
        routes.append(Route(methods=frozenset(context.methods), path=context.path, route=original))
    assert len(routes) > 20
    return routes


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


@dataclass
class Probe:
    method: str
    url: str
    allowed: bool
    json: Any = None
    form: dict[str, str] | None = None
    allowed_status: frozenset[int] = frozenset({200})
    denied_status: frozenset[int] = frozenset({401, 403, 404})
    must_not_contain: tuple[str, ...] = ()
    check: Callable[[Any], None] | None = None
    notes: list[str] = field(default_factory=list)


class Oracle:
    """What each account should be able to do, in plain terms."""

    def __init__(self, world: World) -> None:
        self.world = world

    def role(self, email: str | None) -> Role | None:
        return self.world.roles[email] if email else None

    def item_visible(self, email: str | None, person: str) -> bool:
        role = self.role(email)
        if email is None or role not in CASEWORK:
            return False
        return (self.world.user_orgs[email], role) == self.world.item_routes[person] and self.world.with_agreements

    def agreement_visible(self, email: str | None, reference: str) -> bool:
        role = self.role(email)
        if email is None or role is None:
            return False
        return role in WIDE or self.world.agreements[reference][1] == self.world.user_orgs[email]

    def hidden_people(self, email: str | None) -> tuple[str, ...]:
        return (*(p for p, *_ in ITEMS if not self.item_visible(email, p)), "P-GLASS")

    def hidden_agreements(self, email: str | None) -> tuple[str, ...]:
        return tuple(ref for ref in self.world.agreements if not self.agreement_visible(email, ref))

    def purpose_for(self, email: str | None) -> Purpose:
        for person, (code, role) in self.world.item_routes.items():
            if email and (self.world.user_orgs[email], self.world.roles[email]) == (code, role):
                return self.world.item_purposes[person]
        return Purpose.SAFEGUARDING_CHILDREN


Builder = Callable[[Oracle, "str | None", int], list[Probe]]
counter = itertools.count()


def _is(o: Oracle, email: str | None, *roles: Role) -> bool:
    return o.role(email) in roles


def _signed(email: str | None) -> bool:
    return email is not None


def _agreement_body(reference: str, title: str = "A test agreement") -> dict[str, Any]:
    return {
        "reference": reference,
        "title": title,
        "organisation": "PHT",
        "feeds": ["ed_attendances"],
        "about": ["everyone"],
        "purposes": ["direct_care"],
        "lawful_basis": "UK GDPR 6(1)(e); DPA 2018 Sch 1 para 18",
        "valid_from": "2020-01-01",
    }


def _work_item_list(o: Oracle, email: str | None) -> Callable[[Any], None]:
    def check(body: Any) -> None:
        shown = {item["person_id"] for item in body["items"]}
        expected = {p for p, *_ in ITEMS if o.item_visible(email, p)}
        assert shown == expected, (email, shown, expected)

    return check


def _agreement_list(o: Oracle, email: str | None) -> Callable[[Any], None]:
    def check(body: Any) -> None:
        shown = {a["spec"]["reference"] for a in body}
        expected = {ref for ref in o.world.agreements if o.agreement_visible(email, ref)}
        assert shown == expected, (email, shown, expected)

    return check


def _each_item(method: str, suffix: str = "", **extra: Any) -> Builder:
    def build(o: Oracle, email: str | None, n: int) -> list[Probe]:
        return [
            Probe(
                method,
                f"/api/work-items/{o.world.items[p]}{suffix}?purpose={o.world.item_purposes[p].value}",
                allowed=o.item_visible(email, p),
                **extra,
            )
            for p, *_ in ITEMS
        ]

    return build


def _each_agreement(suffix: str) -> Builder:
    def build(o: Oracle, email: str | None, n: int) -> list[Probe]:
        return [
            Probe("GET", f"/api/agreements/{aid}{suffix}", allowed=o.agreement_visible(email, ref))
            for ref, (aid, _) in o.world.agreements.items()
        ]

    return build


def _one(
    method: str, url: Callable[[Oracle], str], allowed: Callable[[Oracle, str | None], bool], **kw: Any
) -> Builder:
    def build(o: Oracle, email: str | None, n: int) -> list[Probe]:
        extra = {k: (v(o, email, n) if callable(v) else v) for k, v in kw.items()}
        return [Probe(method, url(o), allowed=allowed(o, email), **extra)]

    return build


def _fixed(path: str) -> Callable[[Oracle], str]:
    return lambda o: path


def _public(o: Oracle, email: str | None) -> bool:
    return True


def _signed_in(o: Oracle, email: str | None) -> bool:
    return email is not None


def _roles(*roles: Role) -> Callable[[Oracle, str | None], bool]:
    return lambda o, email: o.role(email) in roles


ROUTE_TABLE: dict[tuple[str, str], Builder] = {
    ("GET", "/sign-in"): _one("GET", _fixed("/sign-in"), _public),
    # a wrong password (401) for anyone with a CSRF basis; the anonymous probe has none (403)
    ("POST", "/sign-in"): _one(
        "POST",
        _fixed("/sign-in"),
        _signed_in,
        form=lambda o, e, n: {"email": "nobody@x.example", "password": "not the password"},
        allowed_status=frozenset({401}),
    ),
    ("POST", "/sign-out"): _one("POST", _fixed("/sign-out"), _signed_in, allowed_status=frozenset({303})),
    ("GET", "/"): _one("GET", _fixed("/"), _signed_in),
    ("GET", "/sign-in/oidc"): _one("GET", _fixed("/sign-in/oidc"), lambda o, e: False),  # not configured: 404
    ("GET", "/sign-in/oidc/callback"): _one("GET", _fixed("/sign-in/oidc/callback"), lambda o, e: False),
    ("GET", "/health"): _one("GET", _fixed("/health"), _public),
    ("GET", "/api/me"): _one("GET", _fixed("/api/me"), _signed_in),
    ("GET", "/api/openapi.json"): _one("GET", _fixed("/api/openapi.json"), _public),
    ("GET", "/api/docs"): _one("GET", _fixed("/api/docs"), _public),
    ("GET", "/api/organisations"): _one("GET", _fixed("/api/organisations"), _signed_in),
    ("GET", "/api/organisations/{organisation_id}"): _one(
        "GET", lambda o: f"/api/organisations/{o.world.organisations['SCHB']}", _signed_in
    ),
    ("POST", "/api/organisations"): _one(
        "POST",
        _fixed("/api/organisations"),
        _roles(Role.ADMINISTRATOR),
        json=lambda o, e, n: {"code": f"NEW{n}", "name": "A new partner", "type": "nhs_trust"},
        allowed_status=frozenset({201}),
    ),
    ("GET", "/api/agreements"): lambda o, e, n: [
        Probe("GET", "/api/agreements", allowed=_signed(e), check=_agreement_list(o, e))
    ],
    ("GET", "/api/agreements/{agreement_id}"): _each_agreement(""),
    ("GET", "/api/agreements/{agreement_id}/history"): _each_agreement("/history"),
    ("POST", "/api/agreements"): _one(
        "POST",
        _fixed("/api/agreements"),
        _roles(Role.DATA_PROTECTION_OFFICER),
        json=lambda o, e, n: _agreement_body(f"DSA-NEW-{n}"),
        allowed_status=frozenset({201}),
    ),
    ("PUT", "/api/agreements/{agreement_id}"): _one(
        "PUT",
        lambda o: f"/api/agreements/{o.world.spare_agreement}",
        _roles(Role.DATA_PROTECTION_OFFICER),
        json=lambda o, e, n: {"spec": _agreement_body("DSA-PHT", f"Renamed {n}"), "reason": "annual review"},
    ),
    ("POST", "/api/agreements/{agreement_id}/end"): _one(
        "POST",
        lambda o: f"/api/agreements/{o.world.spare_agreement}/end",
        _roles(Role.DATA_PROTECTION_OFFICER),
        json=lambda o, e, n: {"reason": "the service was decommissioned"},
    ),
    ("GET", "/api/users"): _one("GET", _fixed("/api/users"), _roles(Role.ADMINISTRATOR)),
    ("GET", "/api/users/{user_id}"): _one(
        "GET", lambda o: f"/api/users/{o.world.spare_user}", _roles(Role.ADMINISTRATOR)
    ),
    ("POST", "/api/users"): _one(
        "POST",
        _fixed("/api/users"),
        _roles(Role.ADMINISTRATOR),
        json=lambda o, e, n: {
            "email": f"new{n}@das.example",
            "display_name": "new",
            "organisation": "DAS",
            "role": "partner_team_member",
        },
        allowed_status=frozenset({201}),
    ),
    ("PATCH", "/api/users/{user_id}"): _one(
        "PATCH",
        lambda o: f"/api/users/{o.world.spare_user}",
        _roles(Role.ADMINISTRATOR),
        json=lambda o, e, n: {"display_name": f"spare {n}"},
    ),
    ("GET", "/api/audit"): _one("GET", _fixed("/api/audit"), _roles(Role.DATA_PROTECTION_OFFICER)),
    ("GET", "/api/audit/verify"): _one("GET", _fixed("/api/audit/verify"), _roles(Role.DATA_PROTECTION_OFFICER)),
    ("GET", "/api/break-glass"): _one("GET", _fixed("/api/break-glass"), _roles(Role.DATA_PROTECTION_OFFICER)),
    ("POST", "/api/break-glass/{report_id}/review"): _one(
        "POST",
        lambda o: f"/api/break-glass/{o.world.break_glass_report}/review",
        _roles(Role.DATA_PROTECTION_OFFICER),
        json=lambda o, e, n: {"note": "justified: child at risk"},
    ),
    ("GET", "/api/work-items"): lambda o, e, n: [
        Probe(
            "GET",
            f"/api/work-items?purpose={o.purpose_for(e).value}",
            allowed=o.role(e) in CASEWORK,
            check=_work_item_list(o, e),
        )
    ],
    ("GET", "/api/work-items/{item_id}"): _each_item("GET"),
    ("PATCH", "/api/work-items/{item_id}"): _each_item("PATCH", json={"status": "in_progress"}),
}

AUDIT_READERS = {"/api/audit", "/api/break-glass"}


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
    oracle = Oracle(world)
    app_routes = {(m, r.path) for r in routes_of(app) for m in r.methods}
    assert app_routes == set(ROUTE_TABLE), "every route of the app must be in the matrix, and only those"
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
                if path not in AUDIT_READERS:
                    leaked = [p for p in oracle.hidden_people(email) if p in body]
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
