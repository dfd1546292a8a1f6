"""The route matrix: referrals, by API and by page (web/api/referrals.py, web/pages/referrals.py). Making one
comes first, so that later probes could find one (none is made: see _referral_id)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from route_matrix import CASEWORK, Builder, Oracle, Probe, fixed, one, roles
from service_world import ITEMS

from commonground.access.roles import Role

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


def _evidence(person: str) -> tuple[str, str]:
    """The record behind the person's flag, the one a referral of it would share."""
    feed, _, record_id = next(evidence for p, _, _, evidence, _ in ITEMS if p == person).partition(":")
    return feed, record_id


def _referral_id(o: Oracle) -> int:
    """No referral is made in the matrix (the partners it targets have no agreement to open one, so sending is
    refused; tests/cases/test_referrals.py covers the whole workflow): reading one is a 404 for everyone."""
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
                "items": [dict(zip(("feed", "record_id"), _evidence(p), strict=True))],
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
                "items": ":".join(_evidence(p)),
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


ROUTES: dict[tuple[str, str], Builder] = {
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
    ("GET", "/referrals"): one("GET", fixed("/referrals"), roles(*REFERRERS)),
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
}
