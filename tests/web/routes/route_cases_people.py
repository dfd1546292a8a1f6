"""The route matrix: finding and opening a person, break glass and notes (web/api/people.py, web/pages/people.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from route_matrix import GLASS_ROLES, NOTE_ROLES, VIEW_NAMES, Builder, Oracle, Probe, fixed, one, roles
from service_world import ITEMS

from commonground.access.roles import Role

REPORT_ROLES = NOTE_ROLES | {Role.SCHOOL_SAFEGUARDING_LEAD}
"""Who may say that records linked as one person are not the same person (#15)."""


def _people_found(o: Oracle, email: str | None, person: str) -> Callable[[Any], None]:
    def check(body: Any) -> None:
        shown = [p["person_id"] for p in body["people"]]
        assert shown == ([person] if o.person_visible(email, person) else []), (email, shown)

    return check


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


ROUTES: dict[tuple[str, str], Builder] = {
    ("GET", "/people"): one("GET", fixed("/people"), roles(*NOTE_ROLES)),
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
    ("GET", "/people/{person_id}/not-the-same-person"): _each_person(
        "GET", "/not-the-same-person", lambda o, e, p: o.person_visible(e, p) and o.role(e) in REPORT_ROLES
    ),
    ("POST", "/people/{person_id}/not-the-same-person"): _each_person(
        "POST",
        "/not-the-same-person",
        lambda o, e, p: o.person_visible(e, p) and o.role(e) in REPORT_ROLES,
        form={"purpose": "<purpose>", "reason": "Different date of birth, confirmed."},
        allowed_status=frozenset({400}),  # let through, then the form: no record ticked
    ),
    ("GET", "/link-reviews"): one("GET", fixed("/link-reviews"), roles(Role.HUB_PRACTITIONER)),
    ("GET", "/link-reviews/{review_id}"): lambda o, e, n: [Probe("GET", "/link-reviews/999", allowed=False)],
    ("POST", "/link-reviews/{review_id}"): lambda o, e, n: [
        Probe("POST", "/link-reviews/999", allowed=False, form={"decision": "same", "note": "Checked the dates."})
    ],
    ("POST", "/people/{person_id}/notes"): _each_person(
        "POST",
        "/notes",
        lambda o, e, p: o.person_visible(e, p) and o.role(e) in NOTE_ROLES,
        form={"purpose": "<purpose>", "text": "Spoke to the school; no further concerns today."},
        allowed_status=frozenset({303}),
    ),
}
