"""The title of a rule as practitioners read it ("Self-harm seen by more than one agency"), from the rules in force
in the current build's person view; the rule id when no view is laid out yet."""

from __future__ import annotations

from commonground.access.roles import Role
from commonground.cases.notices import NOTICE_RULE
from commonground.cases.person_view import PersonView
from commonground.cases.work_items import WorkItem
from commonground.web.deps import Access


def rule_title(access: Access, rule_id: str) -> str:
    view: PersonView | None = access.request.app.state.person_views.current()
    if view is None:
        return rule_id
    return view.rule_titles().get(rule_id, rule_id)


NOT_ON_A_ROLL = "Domestic abuse at the home of a child on no school roll (Operation Encompass)"
"""The title of a school-notice item routed to the local authority: the child is on no partner school's roll, so
the council (its elective home education officer) is told instead of a school (#17: these items were titled as
notices to the child's school)."""


def item_title(access: Access, item: WorkItem) -> str:
    """A work item's title: its rule's, except where the route changes what the item is."""
    if item.rule_id == NOTICE_RULE and item.role is not Role.SCHOOL_SAFEGUARDING_LEAD:
        return NOT_ON_A_ROLL
    return rule_title(access, item.rule_id)
