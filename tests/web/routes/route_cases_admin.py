"""The route matrix: the administrator's organisations and accounts (web/api/organisations.py, web/api/users.py,
web/pages/admin.py)."""

from __future__ import annotations

from route_matrix import Builder, fixed, one, roles, signed_in

from commonground.access.roles import Role

ROUTES: dict[tuple[str, str], Builder] = {
    ("GET", "/api/organisations"): one("GET", fixed("/api/organisations"), signed_in),
    ("GET", "/api/organisations/{organisation_id}"): one(
        "GET", lambda o: f"/api/organisations/{o.world.organisations['SCHB']}", signed_in
    ),
    ("POST", "/api/organisations"): one(
        "POST",
        fixed("/api/organisations"),
        roles(Role.ADMINISTRATOR),
        json=lambda o, e, n: {"code": f"NEW{n}", "name": "A new partner", "type": "nhs_trust"},
        allowed_status=frozenset({201}),
    ),
    ("GET", "/api/users"): one("GET", fixed("/api/users"), roles(Role.ADMINISTRATOR)),
    ("GET", "/api/users/{user_id}"): one(
        "GET", lambda o: f"/api/users/{o.world.spare_user}", roles(Role.ADMINISTRATOR)
    ),
    ("POST", "/api/users"): one(
        "POST",
        fixed("/api/users"),
        roles(Role.ADMINISTRATOR),
        json=lambda o, e, n: {
            "email": f"new{n}@das.example",
            "display_name": "new",
            "organisation": "DAS",
            "role": "partner_team_member",
        },
        allowed_status=frozenset({201}),
    ),
    ("PATCH", "/api/users/{user_id}"): one(
        "PATCH",
        lambda o: f"/api/users/{o.world.spare_user}",
        roles(Role.ADMINISTRATOR),
        json=lambda o, e, n: {"display_name": f"spare {n}"},
    ),
    # the second person's approval of record access (#16): the spare account waits for none, so the DPO is let
    # through and then told so
    ("POST", "/api/users/{user_id}/approve-access"): one(
        "POST",
        lambda o: f"/api/users/{o.world.spare_user}/approve-access",
        roles(Role.DATA_PROTECTION_OFFICER),
        allowed_status=frozenset({400}),
    ),
    ("GET", "/access-approvals"): one("GET", fixed("/access-approvals"), roles(Role.DATA_PROTECTION_OFFICER)),
    ("POST", "/access-approvals/{user_id}"): one(
        "POST",
        lambda o: f"/access-approvals/{o.world.spare_user}",
        roles(Role.DATA_PROTECTION_OFFICER),
        allowed_status=frozenset({400}),
    ),
    ("GET", "/organisations"): one("GET", fixed("/organisations"), roles(Role.ADMINISTRATOR)),
    ("POST", "/organisations"): one(
        "POST",
        fixed("/organisations"),
        roles(Role.ADMINISTRATOR),
        form=lambda o, e, n: {"code": f"PAGE{n}", "name": "A new partner", "type": "nhs_trust"},
        allowed_status=frozenset({303}),
    ),
    ("GET", "/accounts"): one("GET", fixed("/accounts"), roles(Role.ADMINISTRATOR)),
    ("POST", "/accounts"): one(  # the page showing the one-time password once
        "POST",
        fixed("/accounts"),
        roles(Role.ADMINISTRATOR),
        form=lambda o, e, n: {
            "email": f"page{n}@das.example",
            "display_name": "new",
            "organisation": "DAS",
            "role": "partner_team_member",
        },
    ),
    ("GET", "/accounts/{user_id}"): one("GET", lambda o: f"/accounts/{o.world.spare_user}", roles(Role.ADMINISTRATOR)),
    ("POST", "/accounts/{user_id}"): one(
        "POST",
        lambda o: f"/accounts/{o.world.spare_user}",
        roles(Role.ADMINISTRATOR),
        form=lambda o, e, n: {"do": "unlock"},
        allowed_status=frozenset({303}),
    ),
}
