"""The route matrix: school notices, the outbox and the street-triage log (web/api/notices.py, web/pages/notices.py,
web/pages/triage.py). A school reads and acknowledges its own notices."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from route_matrix import Builder, Oracle, Probe, fixed, one, roles
from service_world import ITEMS

from commonground.access.roles import Role

SCHOOL_PUPILS = [p for p, _code, role, *_ in ITEMS if role is Role.SCHOOL_SAFEGUARDING_LEAD]
TRIAGE_ROLES = (Role.CONTROL_ROOM_MH_PROFESSIONAL,)


def _notice_id(o: Oracle, person: str, use: str) -> int:
    """A notice made for the matrix by notice_support.add_route_notices (kept on the world by the test)."""
    return int(getattr(o.world, "notices")[(person, use)])  # noqa: B009


def _notice_list(o: Oracle, email: str | None) -> Callable[[Any], None]:
    def check(body: Any) -> None:
        shown = {c["person_id"] for n in body["notices"] for c in n["children"]}
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


ROUTES: dict[tuple[str, str], Builder] = {
    ("GET", "/notices"): one("GET", fixed("/notices"), roles(Role.SCHOOL_SAFEGUARDING_LEAD)),
    ("GET", "/notices/{notice_id}"): _each_notice("GET", "/notices/{id}", "page"),
    ("POST", "/notices/{notice_id}/acknowledge"): _each_notice(
        "POST", "/notices/{id}/acknowledge", "page", form={}, allowed_status=frozenset({303})
    ),
    ("GET", "/api/notices"): lambda o, e, n: [
        Probe("GET", "/api/notices", allowed=o.role(e) is Role.SCHOOL_SAFEGUARDING_LEAD, check=_notice_list(o, e))
    ],
    ("GET", "/api/notices/{notice_id}"): _each_notice("GET", "/api/notices/{id}", "api"),
    ("POST", "/api/notices/{notice_id}/acknowledge"): _each_notice("POST", "/api/notices/{id}/acknowledge", "api"),
    ("POST", "/api/outbox/send"): one("POST", fixed("/api/outbox/send"), roles(Role.ADMINISTRATOR)),
    ("GET", "/triage"): one("GET", fixed("/triage"), roles(*TRIAGE_ROLES)),
    ("GET", "/triage/new"): _triage_for_people("GET"),
    ("POST", "/triage/new"): _triage_for_people("POST"),
}
