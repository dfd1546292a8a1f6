"""The route matrix: what works (#7): the library, evaluations, the landscape review and the work plan
(web/pages/library.py, evaluations.py, landscape.py).

Nothing there is about a person. A role without the action is refused by require() (403, anonymous 401); a role
with it passes and is answered 404 for an id that does not exist (WW_MISSING), 200 or 303 elsewhere."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from route_matrix import Builder, Oracle, fixed, one, roles, signed_in

from commonground.access.roles import Role

WW_SUBMIT = set(Role) - {Role.DATA_PROTECTION_OFFICER, Role.ADMINISTRATOR}
WW_REVIEW = {Role.HUB_PRACTITIONER, Role.PUBLIC_HEALTH_ANALYST}
WW_MODERATE = {Role.ADMINISTRATOR, Role.PUBLIC_HEALTH_ANALYST}
WW_MISSING = 2_000_000
WW_REFUSED = frozenset({401, 403})


def _ww(method: str, path: str, allowed: Callable[[Oracle, str | None], bool], status: int = 200, **kw: Any) -> Builder:
    url = path.replace("{entry_id}", str(WW_MISSING)).replace("{comment_id}", str(WW_MISSING))
    url = url.replace("{survey_id}", str(WW_MISSING)).replace("{item_id}", str(WW_MISSING))
    status = 404 if url != path else status
    return one(method, fixed(url), allowed, allowed_status=frozenset({status}), denied_status=WW_REFUSED, **kw)


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


ROUTES: dict[tuple[str, str], Builder] = {
    ("GET", "/library"): _ww("GET", "/library", signed_in),
    ("GET", "/library/new"): _ww("GET", "/library/new", roles(*WW_SUBMIT)),
    ("POST", "/library/new"): _ww("POST", "/library/new", roles(*WW_SUBMIT), 303, form=_ww_entry_form),
    ("GET", "/library/reviews"): _ww("GET", "/library/reviews", roles(*WW_REVIEW)),
    ("GET", "/library/moderation"): _ww("GET", "/library/moderation", roles(*WW_MODERATE)),
    ("POST", "/library/comments/{comment_id}"): _ww(
        "POST", "/library/comments/{comment_id}", roles(*WW_MODERATE), form={"do": "approve"}
    ),
    ("GET", "/library/{entry_id}"): _ww("GET", "/library/{entry_id}", signed_in),
    ("GET", "/library/{entry_id}/edit"): _ww("GET", "/library/{entry_id}/edit", roles(*WW_SUBMIT)),
    ("POST", "/library/{entry_id}/edit"): _ww(
        "POST", "/library/{entry_id}/edit", roles(*WW_SUBMIT), form=_ww_entry_form
    ),
    ("POST", "/library/{entry_id}/submit"): _ww("POST", "/library/{entry_id}/submit", roles(*WW_SUBMIT), form={}),
    ("POST", "/library/{entry_id}/review"): _ww(
        "POST", "/library/{entry_id}/review", roles(*WW_REVIEW), form={"decision": "approve"}
    ),
    ("POST", "/library/{entry_id}/comments"): _ww(
        "POST", "/library/{entry_id}/comments", signed_in, form={"text": "A comment."}
    ),
    ("POST", "/library/{entry_id}/evaluations"): _ww(
        "POST",
        "/library/{entry_id}/evaluations",
        roles(*WW_REVIEW),
        form={"title": "Local result", "evaluated_on": "2026-11-01"},
    ),
    # evaluations (#7, web/pages/evaluations.py): hub practitioners and public-health analysts; with no build in
    # this world an allowed run is answered 400 with the page's "no build yet" message; linking a result to an entry
    # that does not exist is 404
    ("GET", "/evaluations"): _ww("GET", "/evaluations", roles(*WW_REVIEW)),
    ("POST", "/evaluations"): _ww(
        "POST", "/evaluations", roles(*WW_REVIEW), 400, form={"source": "file", "outcome": "ed_assault"}
    ),
    ("POST", "/evaluations/link"): _ww(
        "POST",
        "/evaluations/link",
        roles(*WW_REVIEW),
        404,
        form={"entry_id": str(WW_MISSING), "title": "Local result", "evaluated_on": "2026-11-01"},
    ),
    ("GET", "/landscape"): _ww("GET", "/landscape", signed_in),
    ("GET", "/landscape/surveys"): _ww("GET", "/landscape/surveys", signed_in),
    ("POST", "/landscape/surveys"): _ww(
        "POST", "/landscape/surveys", roles(Role.ADMINISTRATOR), 303, form=lambda o, e, n: {"title": f"Survey {n}"}
    ),
    ("GET", "/landscape/surveys/{survey_id}"): _ww("GET", "/landscape/surveys/{survey_id}", signed_in),
    ("POST", "/landscape/surveys/{survey_id}/questions"): _ww(
        "POST",
        "/landscape/surveys/{survey_id}/questions",
        roles(Role.ADMINISTRATOR),
        form={"text": "Why?", "kind": "text"},
    ),
    ("POST", "/landscape/surveys/{survey_id}/send"): _ww(
        "POST", "/landscape/surveys/{survey_id}/send", roles(Role.ADMINISTRATOR), form={"forces": "CLE"}
    ),
    ("POST", "/landscape/surveys/{survey_id}/close"): _ww(
        "POST", "/landscape/surveys/{survey_id}/close", roles(Role.ADMINISTRATOR), form={}
    ),
    ("GET", "/landscape/surveys/{survey_id}/answer"): _ww("GET", "/landscape/surveys/{survey_id}/answer", signed_in),
    ("POST", "/landscape/surveys/{survey_id}/answer"): _ww(
        "POST", "/landscape/surveys/{survey_id}/answer", signed_in, form={}
    ),
    ("GET", "/landscape/surveys/{survey_id}/report.csv"): _ww(
        "GET", "/landscape/surveys/{survey_id}/report.csv", signed_in
    ),
    ("GET", "/landscape/surveys/{survey_id}/report.pdf"): _ww(
        "GET", "/landscape/surveys/{survey_id}/report.pdf", signed_in
    ),
    ("GET", "/landscape/plan"): _ww("GET", "/landscape/plan", signed_in),
    ("POST", "/landscape/plan"): _ww("POST", "/landscape/plan", roles(Role.ADMINISTRATOR), 303, form=_ww_plan_form),
    ("GET", "/landscape/plan/{item_id}"): _ww("GET", "/landscape/plan/{item_id}", signed_in),
    ("POST", "/landscape/plan/{item_id}"): _ww(
        "POST", "/landscape/plan/{item_id}", roles(Role.ADMINISTRATOR), form=_ww_plan_form
    ),
    ("POST", "/landscape/plan/{item_id}/comments"): _ww(
        "POST", "/landscape/plan/{item_id}/comments", signed_in, form={"text": "A comment."}
    ),
}
