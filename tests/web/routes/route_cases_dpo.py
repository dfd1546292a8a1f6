"""The route matrix: the data protection officer's agreements, audit log, break-glass reviews, rule packs and subject
access (web/api/agreements.py, web/api/audit.py, web/pages/dpo.py, web/pages/rule_packs.py,
web/pages/subject_access.py). Probes run in this order for each account: the API ends the spare agreement and
reviews the break-glass report before the pages try to."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from route_matrix import Builder, Oracle, Probe, fixed, one, public, roles, signed_in

from commonground.access.roles import Role

AUDIT_READERS = {"/api/audit", "/api/break-glass", "/audit", "/audit/break-glass"}
"""Routes that show the audit log, which names people by design: not scanned for hidden people."""


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


def _agreement_list(o: Oracle, email: str | None) -> Callable[[Any], None]:
    def check(body: Any) -> None:
        shown = {a["spec"]["reference"] for a in body}
        expected = {ref for ref in o.world.agreements if o.agreement_visible(email, ref)}
        assert shown == expected, (email, shown, expected)

    return check


def _each_agreement(suffix: str) -> Builder:
    def build(o: Oracle, email: str | None, n: int) -> list[Probe]:
        return [
            Probe("GET", f"/api/agreements/{aid}{suffix}", allowed=o.agreement_visible(email, ref))
            for ref, (aid, _) in o.world.agreements.items()
        ]

    return build


STATISTICS_ROLES = (Role.PUBLIC_HEALTH_ANALYST, Role.DATA_PROTECTION_OFFICER, Role.HUB_PRACTITIONER)

ROUTES: dict[tuple[str, str], Builder] = {
    ("GET", "/api/agreements"): lambda o, e, n: [
        Probe("GET", "/api/agreements", allowed=e is not None, check=_agreement_list(o, e))
    ],
    ("GET", "/api/agreements/{agreement_id}"): _each_agreement(""),
    ("GET", "/api/agreements/{agreement_id}/history"): _each_agreement("/history"),
    ("POST", "/api/agreements"): one(
        "POST",
        fixed("/api/agreements"),
        roles(Role.DATA_PROTECTION_OFFICER),
        json=lambda o, e, n: _agreement_body(f"DSA-NEW-{n}"),
        allowed_status=frozenset({201}),
    ),
    ("PUT", "/api/agreements/{agreement_id}"): one(
        "PUT",
        lambda o: f"/api/agreements/{o.world.spare_agreement}",
        roles(Role.DATA_PROTECTION_OFFICER),
        json=lambda o, e, n: {"spec": _agreement_body("DSA-PHT", f"Renamed {n}"), "reason": "annual review"},
    ),
    ("POST", "/api/agreements/{agreement_id}/end"): one(
        "POST",
        lambda o: f"/api/agreements/{o.world.spare_agreement}/end",
        roles(Role.DATA_PROTECTION_OFFICER),
        json=lambda o, e, n: {"reason": "the service was decommissioned"},
    ),
    ("GET", "/api/audit"): one("GET", fixed("/api/audit"), roles(Role.DATA_PROTECTION_OFFICER)),
    ("GET", "/api/audit/verify"): one("GET", fixed("/api/audit/verify"), roles(Role.DATA_PROTECTION_OFFICER)),
    ("GET", "/api/break-glass"): one("GET", fixed("/api/break-glass"), roles(Role.DATA_PROTECTION_OFFICER)),
    ("POST", "/api/break-glass/{report_id}/review"): one(
        "POST",
        lambda o: f"/api/break-glass/{o.world.break_glass_report}/review",
        roles(Role.DATA_PROTECTION_OFFICER),
        json=lambda o, e, n: {"note": "justified: child at risk"},
    ),
    ("GET", "/rule-packs"): one("GET", fixed("/rule-packs"), roles(Role.DATA_PROTECTION_OFFICER)),
    # the world has no build: the statistics page says so; a table is "not found" once let through (#19)
    ("GET", "/statistics"): one("GET", fixed("/statistics"), roles(*STATISTICS_ROLES)),
    ("GET", "/statistics/{name}"): one(
        "GET", fixed("/statistics/children_by_ace_count"), roles(*STATISTICS_ROLES), allowed_status=frozenset({404})
    ),
    ("GET", "/statistics/{name}/csv"): one(
        "GET",
        fixed("/statistics/children_by_ace_count/csv"),
        roles(*STATISTICS_ROLES),
        allowed_status=frozenset({404}),
    ),
    ("GET", "/transparency"): one("GET", fixed("/transparency"), public),
    ("GET", "/transparency.json"): one("GET", fixed("/transparency.json"), public),
    ("GET", "/rule-outcomes"): one(
        "GET",
        fixed("/rule-outcomes"),
        roles(Role.HUB_PRACTITIONER, Role.PUBLIC_HEALTH_ANALYST, Role.DATA_PROTECTION_OFFICER),
    ),
    ("GET", "/agreements"): one("GET", fixed("/agreements"), signed_in),  # each sees the agreements it may read
    ("GET", "/agreements/new"): one("GET", fixed("/agreements/new"), roles(Role.DATA_PROTECTION_OFFICER)),
    ("POST", "/agreements"): one(
        "POST",
        fixed("/agreements"),
        roles(Role.DATA_PROTECTION_OFFICER),
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
    ("POST", "/agreements/{agreement_id}/end"): one(
        "POST",
        lambda o: f"/agreements/{o.world.spare_agreement}/end",
        roles(Role.DATA_PROTECTION_OFFICER),
        form=lambda o, e, n: {"reason": "the service was decommissioned"},
        allowed_status=frozenset({400}),
    ),
    ("GET", "/audit"): one("GET", fixed("/audit"), roles(Role.DATA_PROTECTION_OFFICER)),
    ("GET", "/audit/verify"): one("GET", fixed("/audit/verify"), roles(Role.DATA_PROTECTION_OFFICER)),
    ("GET", "/audit/break-glass"): one("GET", fixed("/audit/break-glass"), roles(Role.DATA_PROTECTION_OFFICER)),
    # reviewed already by the API's probe: the page says so (303 with done=already-reviewed)
    ("POST", "/audit/break-glass/{report_id}/review"): one(
        "POST",
        lambda o: f"/audit/break-glass/{o.world.break_glass_report}/review",
        roles(Role.DATA_PROTECTION_OFFICER),
        form=lambda o, e, n: {"note": "justified: child at risk"},
        allowed_status=frozenset({303}),
    ),
    ("GET", "/subject-access"): one("GET", fixed("/subject-access"), roles(Role.DATA_PROTECTION_OFFICER)),
    # a name nobody in the view has: the DPO is answered "0 people found" (a name found would be shown, by design)
    ("POST", "/subject-access/search"): one(
        "POST",
        fixed("/subject-access/search"),
        roles(Role.DATA_PROTECTION_OFFICER),
        form=lambda o, e, n: {"family_name": "Nobodyhere", "given_name": "", "born": ""},
    ),
    ("POST", "/subject-access"): one(
        "POST",
        fixed("/subject-access"),
        roles(Role.DATA_PROTECTION_OFFICER),
        form=lambda o, e, n: {"person_id": "P-NOBODY", "confirm": "yes"},
    ),
}
