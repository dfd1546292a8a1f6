"""The route matrix's common parts: what a probe is, the oracle, and the builders each area's module uses.

The matrix (``test_routes.py``) is every route x every role and anonymous x with and without agreements; each
area declares the probes of its routes in its own module (``route_cases_<area>.py``) and the test assembles them.
The expectations are written out independently of the resolver (an oracle in plain terms: "a work item is seen
only by its own organisation's role it is routed to, and only under an agreement"), so a resolver bug fails the
matrix rather than being copied into it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from person_view_fixture import ViewPerson
from service_world import ITEMS, World

from commonground.access.purposes import Purpose
from commonground.access.roles import Role
from commonground.web.deps import ACTION_ATTRIBUTE

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
    echo: str | None = None
    """The person id the URL itself names: a page may say it back (it is not a leak); nothing else may show."""


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
        hidden = [p for p, *_ in ITEMS if not self.item_visible(email, p)]
        return (*hidden, *(VIEW_NAMES[p] for p in hidden), "P-GLASS")

    def person_visible(self, email: str | None, person: str) -> bool:
        """A person's page opens, for the purpose of the person's own work item, to the organisation that item is
        routed to (its agreement covers that purpose; other organisations' agreements are for other purposes, and
        the schools' cover only their own cases)."""
        role = self.role(email)
        if email is None or role not in CASEWORK or not self.world.with_agreements:
            return False
        return self.world.item_routes[person][0] == self.world.user_orgs[email]

    def hidden_agreements(self, email: str | None) -> tuple[str, ...]:
        return tuple(ref for ref in self.world.agreements if not self.agreement_visible(email, ref))

    def purpose_for(self, email: str | None) -> Purpose:
        for person, (code, role) in self.world.item_routes.items():
            if email and (self.world.user_orgs[email], self.world.roles[email]) == (code, role):
                return self.world.item_purposes[person]
        return Purpose.SAFEGUARDING_CHILDREN


VIEW_NAMES = {p: f"Zed{p.replace('-', '')}" for p, *_ in ITEMS}
"""A family name for each person of the world, unique, so that a page showing it can be caught."""
VIEW_PEOPLE = [
    ViewPerson(p, "Testgiven", VIEW_NAMES[p], dt.date(2012, 5, 1), e.split(":")[0], e.split(":")[1])
    for p, _code, _role, e, _purpose in ITEMS
]
GLASS_ROLES = {Role.HUB_PRACTITIONER, Role.POLICE_OFFICER, Role.CONTROL_ROOM_MH_PROFESSIONAL}
NOTE_ROLES = CASEWORK - {Role.SCHOOL_SAFEGUARDING_LEAD}

Builder = Callable[[Oracle, "str | None", int], list[Probe]]


def one(method: str, url: Callable[[Oracle], str], allowed: Callable[[Oracle, str | None], bool], **kw: Any) -> Builder:
    def build(o: Oracle, email: str | None, n: int) -> list[Probe]:
        extra = {k: (v(o, email, n) if callable(v) else v) for k, v in kw.items()}
        return [Probe(method, url(o), allowed=allowed(o, email), **extra)]

    return build


def fixed(path: str) -> Callable[[Oracle], str]:
    return lambda o: path


def public(o: Oracle, email: str | None) -> bool:
    return True


def signed_in(o: Oracle, email: str | None) -> bool:
    return email is not None


def roles(*allowed: Role) -> Callable[[Oracle, str | None], bool]:
    return lambda o, email: o.role(email) in allowed
