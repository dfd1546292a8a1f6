"""What each role sees first: the links across the top of every page, and the order of the home page.

A link is shown only when the role is granted the action behind it, so the navigation can never offer a page the
resolver would refuse; the resolver still decides on each request.
"""

from __future__ import annotations

from dataclasses import dataclass

from commonground.access.roles import ROLE_GRANTS, Role


@dataclass(frozen=True)
class NavItem:
    label: str
    href: str
    action: str


NAV_ITEMS: tuple[NavItem, ...] = (
    NavItem("Queue", "/queue", "view-work-items"),
    NavItem("Notices", "/notices", "view-notices"),
    NavItem("Referrals", "/referrals", "view-referrals"),
    NavItem("Find a person", "/people", "find-person"),
    NavItem("Links to review", "/link-reviews", "review-links"),
    NavItem("Street triage", "/triage", "log-triage"),
    NavItem("What works", "/library", "view-library"),
    NavItem("Landscape review", "/landscape", "view-landscape"),
    NavItem("Evaluations", "/evaluations", "view-evaluations"),
    NavItem("Agreements", "/agreements", "manage-agreements"),
    NavItem("Audit log", "/audit", "view-audit"),
    NavItem("Rule packs", "/rule-packs", "view-audit"),
    NavItem("Statistics", "/statistics", "view-statistics"),
    NavItem("Rule outcomes", "/rule-outcomes", "view-rule-outcomes"),
    NavItem("Subject access", "/subject-access", "export-subject-access"),
    NavItem("Access approvals", "/access-approvals", "approve-access"),
    NavItem("Organisations", "/organisations", "manage-organisations"),
    NavItem("Accounts", "/accounts", "manage-users"),
)


def nav_for(role: Role) -> list[NavItem]:
    """The links a role is offered, in the order of ``NAV_ITEMS``, dropping those whose action is not declared yet
    or not granted."""
    from commonground.access.actions import ACTIONS

    granted = ROLE_GRANTS[role]
    return [item for item in NAV_ITEMS if item.action in ACTIONS and item.action in granted]
