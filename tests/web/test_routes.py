"""Every route declares an action; every route x every role x with and without agreements: nothing leaks.

The expectations here are written out independently of the resolver (an oracle in plain terms: "a work item is
seen only by its own organisation's role it is routed to, and only under an agreement"), so a resolver bug fails
the matrix rather than being copied into it.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from notice_support import add_route_notices
from person_view_fixture import ViewPerson, write_test_view
from service_support import SESSION_COOKIE
from service_world import ACCOUNTS, ITEMS, World, build_world
from sqlalchemy.orm import Session, sessionmaker

from commonground.access import accounts
from commonground.access.actions import ACTIONS
from commonground.access.models import User
from commonground.access.purposes import Purpose
from commonground.access.roles import Role
from commonground.store.db import utcnow
from commonground.web.deps import ACTION_ATTRIBUTE
from commonground.web.security import csrf_token

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


def _people_found(o: Oracle, email: str | None, person: str) -> Callable[[Any], None]:
    def check(body: Any) -> None:
        shown = [p["person_id"] for p in body["people"]]
        assert shown == ([person] if o.person_visible(email, person) else []), (email, shown)

    return check


def _each_queue_item(method: str, **extra: Any) -> Builder:
    def build(o: Oracle, email: str | None, n: int) -> list[Probe]:
        return [
            Probe(method, f"/queue/{o.world.items[p]}", allowed=o.item_visible(email, p), echo=p, **extra)
            for p, *_ in ITEMS
        ]

    return build


def _each_person(method: str, suffix: str, allowed: Callable[[Oracle, str | None, str], bool], **extra: Any) -> Builder:
    def build(o: Oracle, email: str | None, n: int) -> list[Probe]:
        probes = []
        for p, *_ in ITEMS:
            purpose = o.world.item_purposes[p].value
            url = f"/people/{p}{suffix}" + ("" if method == "POST" else f"?purpose={purpose}")
            form = {k: (purpose if v == "<purpose>" else v) for k, v in extra.get("form", {}).items()} or None
            kw = {k: v for k, v in extra.items() if k != "form"}
            probes.append(Probe(method, url, allowed=allowed(o, email, p), echo=p, form=form, **kw))
        return probes

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


# --- referrals (api/routers/referrals.py, web/pages/referrals.py) ---
REFERRERS = CASEWORK - {Role.SCHOOL_SAFEGUARDING_LEAD}
NO_REFERRAL = 2_147_483_647


def _may_refer(o: Oracle, email: str | None, person: str) -> bool:
    """A referral is made from a work item one may read, by a role that makes referrals."""
    return o.item_visible(email, person) and o.role(email) in REFERRERS


def _referral_target(o: Oracle, person: str) -> int:
    return o.world.organisations["LA" if o.world.item_routes[person][0] == "DAS" else "DAS"]


def _referral_fields(o: Oracle, person: str) -> dict[str, Any]:
    return {
        "summary": "Repeated incidents at home; please offer support.",
        "consent": "not_needed",
        "consent_note": "safeguarding: consent would place the child at risk",
        "lawful_basis": "UK GDPR 6(1)(e); DPA 2018 Sch 1 para 18",
        "purpose": o.world.item_purposes[person].value,
    }


def _referral_id(o: Oracle) -> int:
    """No referral is made in the matrix (the partners it targets have no agreement to open one, so sending is
    refused; tests/hub/test_referrals.py covers the whole workflow): reading one is a 404 for everyone."""
    return NO_REFERRAL


def _referral_seen(o: Oracle, email: str | None) -> bool:
    return False


def _make_referrals_api(o: Oracle, email: str | None, n: int) -> list[Probe]:
    return [
        Probe(
            "POST",
            "/api/referrals",
            allowed=_may_refer(o, email, p),
            json={
                "work_item_id": o.world.items[p],
                "to_organisation_id": _referral_target(o, p),
                **_referral_fields(o, p),
            },
            allowed_status=frozenset({400}),  # the receiver has no agreement to open it: refused, in words
        )
        for p, *_ in ITEMS
    ]


def _make_referrals_page(o: Oracle, email: str | None, n: int) -> list[Probe]:
    return [
        Probe(
            "POST",
            "/referrals",
            allowed=_may_refer(o, email, p),
            form={
                "work_item": str(o.world.items[p]),
                "to_organisation": str(_referral_target(o, p)),
                **_referral_fields(o, p),
            },
            allowed_status=frozenset({400}),
            echo=p,
        )
        for p, *_ in ITEMS
    ]


def _referral_list(o: Oracle, email: str | None) -> Callable[[Any], None]:
    def check(body: Any) -> None:
        shown = {r["person_id"] for r in body["items"]}
        assert shown == set(), (email, shown)  # none was sent: no partner of the matrix could open one

    return check


# --- school notices, the outbox and the street-triage log (web/pages/notices.py, triage.py, api/routers/notices.py)
SCHOOL_PUPILS = [p for p, _code, role, *_ in ITEMS if role is Role.SCHOOL_SAFEGUARDING_LEAD]
TRIAGE_ROLES = (Role.CONTROL_ROOM_MH_PROFESSIONAL,)


def _notice_id(o: Oracle, person: str, use: str) -> int:
    """A notice made for the matrix by notice_support.add_route_notices (kept on the world by the test)."""
    return int(getattr(o.world, "notices")[(person, use)])  # noqa: B009


def _notice_list(o: Oracle, email: str | None) -> Callable[[Any], None]:
    def check(body: Any) -> None:
        shown = {n["person_id"] for n in body["notices"]}
        assert shown == {p for p in SCHOOL_PUPILS if o.item_visible(email, p)}, (email, shown)

    return check


def _each_notice(method: str, suffix: str, use: str, **extra: Any) -> Builder:
    def build(o: Oracle, email: str | None, n: int) -> list[Probe]:
        return [
            Probe(
                method,
                f"{suffix.split('{id}')[0]}{_notice_id(o, p, use)}{suffix.split('{id}')[1]}",
                allowed=o.item_visible(email, p),
                echo=p,
                **extra,
            )
            for p in SCHOOL_PUPILS
        ]

    return build


def _triage_form(person: str = "") -> dict[str, str]:
    identity = (
        {"person_id": person}
        if person
        else {"given_name": "Matrixgiven", "family_name": "Matrixfamily", "date_of_birth": "1980-01-01", "sex": "U"}
    )
    return {
        **identity,
        "contacted_date": "2026-10-02",
        "contacted_time": "23:15",
        "setting": "phone",
        "advice": "Advised the officers by phone.",
        "outcome": "no_further_action",
        "s136": "not_considered",
        "conveyance": "none",
        "crisis_team_referral": "no",
    }


def _triage_for_people(method: str) -> Builder:
    def build(o: Oracle, email: str | None, n: int) -> list[Probe]:
        triage = o.role(email) in TRIAGE_ROLES
        probes = [
            Probe(
                method,
                "/triage/new",
                allowed=triage,
                form=_triage_form() if method == "POST" else None,
                allowed_status=frozenset({303 if method == "POST" else 200}),
            )
        ]
        for p, *_ in ITEMS:  # a named person: only under the trust's agreement
            allowed = triage and o.world.with_agreements
            if method == "GET":
                probes.append(Probe("GET", f"/triage/new?person={p}", allowed=allowed, echo=p))
            else:
                probes.append(
                    Probe(
                        "POST",
                        "/triage/new",
                        allowed=allowed,
                        form=_triage_form(p),
                        echo=p,
                        allowed_status=frozenset({303}),
                    )
                )
        return probes

    return build


# --- what works (#7): the library, the landscape review, the work plan (web/pages/library.py, landscape.py) ---
# Nothing there is about a person. A role without the action is refused by require() (403, anonymous 401); a role
# with it passes and is answered 404 for an id that does not exist (MISSING), 200 or 303 elsewhere.
WW_SUBMIT = set(Role) - {Role.DATA_PROTECTION_OFFICER, Role.ADMINISTRATOR}
WW_REVIEW = {Role.HUB_PRACTITIONER, Role.PUBLIC_HEALTH_ANALYST}
WW_MODERATE = {Role.ADMINISTRATOR, Role.PUBLIC_HEALTH_ANALYST}
WW_MISSING = 2_000_000
WW_REFUSED = frozenset({401, 403})


def _ww(method: str, path: str, allowed: Callable[[Oracle, str | None], bool], status: int = 200, **kw: Any) -> Builder:
    url = path.replace("{entry_id}", str(WW_MISSING)).replace("{comment_id}", str(WW_MISSING))
    url = url.replace("{survey_id}", str(WW_MISSING)).replace("{item_id}", str(WW_MISSING))
    status = 404 if url != path else status
    return _one(method, _fixed(url), allowed, allowed_status=frozenset({status}), denied_status=WW_REFUSED, **kw)


def _ww_entry_form(o: Oracle, e: str | None, n: int) -> dict[str, str]:
    return {
        "title": f"Entry {n}",
        "summary": "A summary.",
        "problem": "violence",
        "age_band": "adults",
        "setting": "community",
        "need_level": "universal",
        "eif_level": "not_rated",
    }


def _ww_plan_form(o: Oracle, e: str | None, n: int) -> dict[str, str]:
    return {"title": f"Item {n}", "owner": str(o.world.organisations["NHS"]), "due_on": "2027-03-31"}


WHAT_WORKS_ROUTES: dict[tuple[str, str], Builder] = {
    ("GET", "/library"): _ww("GET", "/library", _signed_in),
    ("GET", "/library/new"): _ww("GET", "/library/new", _roles(*WW_SUBMIT)),
    ("POST", "/library/new"): _ww("POST", "/library/new", _roles(*WW_SUBMIT), 303, form=_ww_entry_form),
    ("GET", "/library/reviews"): _ww("GET", "/library/reviews", _roles(*WW_REVIEW)),
    ("GET", "/library/moderation"): _ww("GET", "/library/moderation", _roles(*WW_MODERATE)),
    ("POST", "/library/comments/{comment_id}"): _ww(
        "POST", "/library/comments/{comment_id}", _roles(*WW_MODERATE), form={"do": "approve"}
    ),
    ("GET", "/library/{entry_id}"): _ww("GET", "/library/{entry_id}", _signed_in),
    ("GET", "/library/{entry_id}/edit"): _ww("GET", "/library/{entry_id}/edit", _roles(*WW_SUBMIT)),
    ("POST", "/library/{entry_id}/edit"): _ww(
        "POST", "/library/{entry_id}/edit", _roles(*WW_SUBMIT), form=_ww_entry_form
    ),
    ("POST", "/library/{entry_id}/submit"): _ww("POST", "/library/{entry_id}/submit", _roles(*WW_SUBMIT), form={}),
    ("POST", "/library/{entry_id}/review"): _ww(
        "POST", "/library/{entry_id}/review", _roles(*WW_REVIEW), form={"decision": "approve"}
    ),
    ("POST", "/library/{entry_id}/comments"): _ww(
        "POST", "/library/{entry_id}/comments", _signed_in, form={"text": "A comment."}
    ),
    ("POST", "/library/{entry_id}/evaluations"): _ww(
        "POST",
        "/library/{entry_id}/evaluations",
        _roles(*WW_REVIEW),
        form={"title": "Local result", "evaluated_on": "2026-11-01"},
    ),
    # evaluations (#7, web/pages/evaluations.py): hub practitioners and public-health analysts; with no build in
    # this world an allowed run is answered 400 with the page's "no build yet" message; linking a result to an entry
    # that does not exist is 404
    ("GET", "/evaluations"): _ww("GET", "/evaluations", _roles(*WW_REVIEW)),
    ("POST", "/evaluations"): _ww(
        "POST", "/evaluations", _roles(*WW_REVIEW), 400, form={"source": "file", "outcome": "ed_assault"}
    ),
    ("POST", "/evaluations/link"): _ww(
        "POST",
        "/evaluations/link",
        _roles(*WW_REVIEW),
        404,
        form={"entry_id": str(WW_MISSING), "title": "Local result", "evaluated_on": "2026-11-01"},
    ),
    ("GET", "/landscape"): _ww("GET", "/landscape", _signed_in),
    ("GET", "/landscape/surveys"): _ww("GET", "/landscape/surveys", _signed_in),
    ("POST", "/landscape/surveys"): _ww(
        "POST", "/landscape/surveys", _roles(Role.ADMINISTRATOR), 303, form=lambda o, e, n: {"title": f"Survey {n}"}
    ),
    ("GET", "/landscape/surveys/{survey_id}"): _ww("GET", "/landscape/surveys/{survey_id}", _signed_in),
    ("POST", "/landscape/surveys/{survey_id}/questions"): _ww(
        "POST",
        "/landscape/surveys/{survey_id}/questions",
        _roles(Role.ADMINISTRATOR),
        form={"text": "Why?", "kind": "text"},
    ),
    ("POST", "/landscape/surveys/{survey_id}/send"): _ww(
        "POST", "/landscape/surveys/{survey_id}/send", _roles(Role.ADMINISTRATOR), form={"forces": "CLE"}
    ),
    ("POST", "/landscape/surveys/{survey_id}/close"): _ww(
        "POST", "/landscape/surveys/{survey_id}/close", _roles(Role.ADMINISTRATOR), form={}
    ),
    ("GET", "/landscape/surveys/{survey_id}/answer"): _ww("GET", "/landscape/surveys/{survey_id}/answer", _signed_in),
    ("POST", "/landscape/surveys/{survey_id}/answer"): _ww(
        "POST", "/landscape/surveys/{survey_id}/answer", _signed_in, form={}
    ),
    ("GET", "/landscape/surveys/{survey_id}/report.csv"): _ww(
        "GET", "/landscape/surveys/{survey_id}/report.csv", _signed_in
    ),
    ("GET", "/landscape/surveys/{survey_id}/report.pdf"): _ww(
        "GET", "/landscape/surveys/{survey_id}/report.pdf", _signed_in
    ),
    ("GET", "/landscape/plan"): _ww("GET", "/landscape/plan", _signed_in),
    ("POST", "/landscape/plan"): _ww("POST", "/landscape/plan", _roles(Role.ADMINISTRATOR), 303, form=_ww_plan_form),
    ("GET", "/landscape/plan/{item_id}"): _ww("GET", "/landscape/plan/{item_id}", _signed_in),
    ("POST", "/landscape/plan/{item_id}"): _ww(
        "POST", "/landscape/plan/{item_id}", _roles(Role.ADMINISTRATOR), form=_ww_plan_form
    ),
    ("POST", "/landscape/plan/{item_id}/comments"): _ww(
        "POST", "/landscape/plan/{item_id}/comments", _signed_in, form={"text": "A comment."}
    ),
}


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
    # --- pages: assets, queue, people (web/pages/queue.py, people.py) ---
    ("GET", "/assets/{name}"): _one("GET", _fixed("/assets/commonground.css"), _public),
    ("GET", "/rule-packs"): _one("GET", _fixed("/rule-packs"), _roles(Role.DATA_PROTECTION_OFFICER)),
    ("GET", "/queue"): _one("GET", _fixed("/queue"), _roles(*CASEWORK)),
    ("GET", "/queue/{item_id}"): _each_queue_item("GET"),
    ("POST", "/queue/{item_id}"): _each_queue_item("POST", form={"do": "claim"}, allowed_status=frozenset({303})),
    ("GET", "/people"): _one("GET", _fixed("/people"), _roles(*NOTE_ROLES)),
    ("GET", "/api/people"): lambda o, e, n: [
        Probe(
            "GET",
            f"/api/people?family_name={VIEW_NAMES[p]}&purpose={o.world.item_purposes[p].value}",
            allowed=o.role(e) in NOTE_ROLES,
            echo=p,
            check=_people_found(o, e, p),
        )
        for p, *_ in ITEMS
    ],
    ("GET", "/api/people/{person_id}"): lambda o, e, n: [
        Probe(
            "GET",
            f"/api/people/{p}?purpose={o.world.item_purposes[p].value}",
            allowed=o.person_visible(e, p),
            echo=p,
        )
        for p, *_ in ITEMS
    ],
    ("GET", "/people/{person_id}"): _each_person("GET", "", lambda o, e, p: o.person_visible(e, p)),
    ("POST", "/people/{person_id}/break-glass"): _each_person(
        "POST",
        "/break-glass",
        lambda o, e, p: o.person_visible(e, p) or o.role(e) in GLASS_ROLES,
        form={"purpose": "<purpose>", "reason": "Child at immediate risk; the agreement is being renewed"},
    ),
    ("POST", "/people/{person_id}/notes"): _each_person(
        "POST",
        "/notes",
        lambda o, e, p: o.person_visible(e, p) and o.role(e) in NOTE_ROLES,
        form={"purpose": "<purpose>", "text": "Spoke to the school; no further concerns today."},
        allowed_status=frozenset({303}),
    ),
    ("PATCH", "/api/work-items/{item_id}"): _each_item("PATCH", json={"status": "in_progress"}),
    # --- referrals (api/routers/referrals.py, web/pages/referrals.py): made first, so later probes can find one ---
    ("POST", "/api/referrals"): _make_referrals_api,
    ("POST", "/referrals"): _make_referrals_page,
    ("GET", "/api/referrals"): lambda o, e, n: [
        Probe("GET", "/api/referrals", allowed=o.role(e) in REFERRERS, check=_referral_list(o, e))
    ],
    ("GET", "/api/referrals/{referral_id}"): lambda o, e, n: [
        Probe("GET", f"/api/referrals/{_referral_id(o)}", allowed=_referral_seen(o, e))
    ],
    ("POST", "/api/referrals/{referral_id}/transitions"): lambda o, e, n: [
        Probe("POST", f"/api/referrals/{_referral_id(o)}/transitions", allowed=False, json={"step": "accept"})
    ],
    ("GET", "/referrals"): _one("GET", _fixed("/referrals"), _roles(*REFERRERS)),
    ("GET", "/referrals/new"): lambda o, e, n: [
        Probe("GET", f"/referrals/new?work_item={o.world.items[p]}", allowed=_may_refer(o, e, p), echo=p)
        for p, *_ in ITEMS
    ],
    ("GET", "/referrals/{referral_id}"): lambda o, e, n: [
        Probe("GET", f"/referrals/{_referral_id(o)}", allowed=_referral_seen(o, e))
    ],
    ("POST", "/referrals/{referral_id}"): lambda o, e, n: [
        Probe("POST", f"/referrals/{_referral_id(o)}", allowed=False, form={"step": "accept"})
    ],
    # --- data protection officer, subject access, your account, administrator (web/pages/dpo.py, subject_access.py,
    # account.py, admin.py; api/routers/password.py) ---
    ("GET", "/agreements"): _one("GET", _fixed("/agreements"), _signed_in),  # each sees the agreements it may read
    ("GET", "/agreements/new"): _one("GET", _fixed("/agreements/new"), _roles(Role.DATA_PROTECTION_OFFICER)),
    ("POST", "/agreements"): _one(
        "POST",
        _fixed("/agreements"),
        _roles(Role.DATA_PROTECTION_OFFICER),
        form=lambda o, e, n: {
            **{k: v for k, v in _agreement_body(f"DSA-PAGE-{n}").items() if k not in ("feeds", "about", "purposes")},
            "feeds": "ed_attendances",
            "about": "everyone",
            "purposes": "direct_care",
        },
        allowed_status=frozenset({303}),
    ),
    ("GET", "/agreements/{agreement_id}"): lambda o, e, n: [
        Probe("GET", f"/agreements/{aid}", allowed=o.agreement_visible(e, ref))
        for ref, (aid, _) in o.world.agreements.items()
    ],
    # the API's probe has ended the spare agreement already: the DPO is answered 400 "already ended"
    ("POST", "/agreements/{agreement_id}/end"): _one(
        "POST",
        lambda o: f"/agreements/{o.world.spare_agreement}/end",
        _roles(Role.DATA_PROTECTION_OFFICER),
        form=lambda o, e, n: {"reason": "the service was decommissioned"},
        allowed_status=frozenset({400}),
    ),
    ("GET", "/audit"): _one("GET", _fixed("/audit"), _roles(Role.DATA_PROTECTION_OFFICER)),
    ("GET", "/audit/verify"): _one("GET", _fixed("/audit/verify"), _roles(Role.DATA_PROTECTION_OFFICER)),
    ("GET", "/audit/break-glass"): _one("GET", _fixed("/audit/break-glass"), _roles(Role.DATA_PROTECTION_OFFICER)),
    # reviewed already by the API's probe: the page says so (303 with done=already-reviewed)
    ("POST", "/audit/break-glass/{report_id}/review"): _one(
        "POST",
        lambda o: f"/audit/break-glass/{o.world.break_glass_report}/review",
        _roles(Role.DATA_PROTECTION_OFFICER),
        form=lambda o, e, n: {"note": "justified: child at risk"},
        allowed_status=frozenset({303}),
    ),
    ("GET", "/subject-access"): _one("GET", _fixed("/subject-access"), _roles(Role.DATA_PROTECTION_OFFICER)),
    ("POST", "/subject-access"): _one(
        "POST",
        _fixed("/subject-access"),
        _roles(Role.DATA_PROTECTION_OFFICER),
        form=lambda o, e, n: {"person_id": "P-NOBODY", "confirm": "yes"},
    ),
    ("GET", "/account"): _one("GET", _fixed("/account"), _signed_in),
    ("POST", "/account/password"): _one(  # a wrong current password: 400 for anyone signed in
        "POST",
        _fixed("/account/password"),
        _signed_in,
        form=lambda o, e, n: {
            "current_password": "not the password",
            "new_password": "a long enough new one",
            "confirm_password": "a long enough new one",
        },
        allowed_status=frozenset({400}),
    ),
    ("POST", "/api/me/password"): _one(
        "POST",
        _fixed("/api/me/password"),
        _signed_in,
        json=lambda o, e, n: {"current_password": "not the password", "new_password": "a long enough new one"},
        allowed_status=frozenset({400}),
    ),
    ("GET", "/organisations"): _one("GET", _fixed("/organisations"), _roles(Role.ADMINISTRATOR)),
    ("POST", "/organisations"): _one(
        "POST",
        _fixed("/organisations"),
        _roles(Role.ADMINISTRATOR),
        form=lambda o, e, n: {"code": f"PAGE{n}", "name": "A new partner", "type": "nhs_trust"},
        allowed_status=frozenset({303}),
    ),
    ("GET", "/accounts"): _one("GET", _fixed("/accounts"), _roles(Role.ADMINISTRATOR)),
    ("POST", "/accounts"): _one(  # the page showing the one-time password once
        "POST",
        _fixed("/accounts"),
        _roles(Role.ADMINISTRATOR),
        form=lambda o, e, n: {
            "email": f"page{n}@das.example",
            "display_name": "new",
            "organisation": "DAS",
            "role": "partner_team_member",
        },
    ),
    ("GET", "/accounts/{user_id}"): _one(
        "GET", lambda o: f"/accounts/{o.world.spare_user}", _roles(Role.ADMINISTRATOR)
    ),
    ("POST", "/accounts/{user_id}"): _one(
        "POST",
        lambda o: f"/accounts/{o.world.spare_user}",
        _roles(Role.ADMINISTRATOR),
        form=lambda o, e, n: {"do": "unlock"},
        allowed_status=frozenset({303}),
    ),
    # --- school notices, the outbox and the street-triage log (#6): a school reads and acknowledges its own ---
    ("GET", "/notices"): _one("GET", _fixed("/notices"), _roles(Role.SCHOOL_SAFEGUARDING_LEAD)),
    ("GET", "/notices/{notice_id}"): _each_notice("GET", "/notices/{id}", "page"),
    ("POST", "/notices/{notice_id}/acknowledge"): _each_notice(
        "POST", "/notices/{id}/acknowledge", "page", form={}, allowed_status=frozenset({303})
    ),
    ("GET", "/api/notices"): lambda o, e, n: [
        Probe("GET", "/api/notices", allowed=o.role(e) is Role.SCHOOL_SAFEGUARDING_LEAD, check=_notice_list(o, e))
    ],
    ("GET", "/api/notices/{notice_id}"): _each_notice("GET", "/api/notices/{id}", "api"),
    ("POST", "/api/notices/{notice_id}/acknowledge"): _each_notice("POST", "/api/notices/{id}/acknowledge", "api"),
    ("POST", "/api/outbox/send"): _one("POST", _fixed("/api/outbox/send"), _roles(Role.ADMINISTRATOR)),
    ("GET", "/triage"): _one("GET", _fixed("/triage"), _roles(*TRIAGE_ROLES)),
    ("GET", "/triage/new"): _triage_for_people("GET"),
    ("POST", "/triage/new"): _triage_for_people("POST"),
    **WHAT_WORKS_ROUTES,  # what works (#7)
}

AUDIT_READERS = {"/api/audit", "/api/break-glass", "/audit", "/audit/break-glass"}


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
