"""The route matrix: signing in and out, the health check, the API's own pages, the stylesheet and the icon, and
your account (web/signin.py, web/api/meta.py, web/api/password.py, web/assets.py, web/pages/home.py,
web/pages/account.py)."""

from __future__ import annotations

from route_matrix import Builder, fixed, one, public, signed_in

ROUTES: dict[tuple[str, str], Builder] = {
    ("GET", "/sign-in"): one("GET", fixed("/sign-in"), public),
    # a wrong password (401) for anyone with a CSRF basis; the anonymous probe has none (403)
    ("POST", "/sign-in"): one(
        "POST",
        fixed("/sign-in"),
        signed_in,
        form=lambda o, e, n: {"email": f"nobody{n}@x.example", "password": "not the password"},  # one each: an
        # address's failures slow it down (429) after five
        allowed_status=frozenset({401}),
    ),
    ("POST", "/sign-out"): one("POST", fixed("/sign-out"), signed_in, allowed_status=frozenset({303})),
    ("GET", "/"): one("GET", fixed("/"), signed_in),
    ("GET", "/sign-in/oidc"): one("GET", fixed("/sign-in/oidc"), lambda o, e: False),  # not configured: 404
    ("GET", "/sign-in/oidc/callback"): one("GET", fixed("/sign-in/oidc/callback"), lambda o, e: False),
    ("GET", "/health"): one("GET", fixed("/health"), public),
    ("GET", "/api/me"): one("GET", fixed("/api/me"), signed_in),
    ("GET", "/api/openapi.json"): one("GET", fixed("/api/openapi.json"), public),
    ("GET", "/api/docs"): one("GET", fixed("/api/docs"), public),
    ("GET", "/assets/{name}"): one("GET", fixed("/assets/commonground.css"), public),
    ("GET", "/favicon.ico"): one("GET", fixed("/favicon.ico"), public),
    ("GET", "/account"): one("GET", fixed("/account"), signed_in),
    ("POST", "/account/password"): one(  # a wrong current password: 400 for anyone signed in
        "POST",
        fixed("/account/password"),
        signed_in,
        form=lambda o, e, n: {
            "current_password": "not the password",
            "new_password": "a long enough new one",
            "confirm_password": "a long enough new one",
        },
        allowed_status=frozenset({400}),
    ),
    ("POST", "/api/me/password"): one(
        "POST",
        fixed("/api/me/password"),
        signed_in,
        json=lambda o, e, n: {"current_password": "not the password", "new_password": "a long enough new one"},
        allowed_status=frozenset({400}),
    ),
}
