"""The title of a rule as practitioners read it ("Self-harm seen by more than one agency"), from the rules in force
in the current build's person view; the rule id when no view is laid out yet."""

from __future__ import annotations

from commonground.cases.person_view import PersonView
from commonground.web.deps import Access


def rule_title(access: Access, rule_id: str) -> str:
    view: PersonView | None = access.request.app.state.person_views.current()
    if view is None:
        return rule_id
    return view.rule_titles().get(rule_id, rule_id)
