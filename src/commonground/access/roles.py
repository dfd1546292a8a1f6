"""The roles people sign in with, which organisations can hold them, and which actions each role is granted.

A role grant is necessary and never sufficient: the resolver (:mod:`commonground.access.resolver`) also applies
the denials below, the organisation's data-sharing agreements and the person's relationship to the organisation.
"""

from __future__ import annotations

from enum import StrEnum

from commonground.store.organisation_types import OrganisationType

OT = OrganisationType


class Role(StrEnum):
    HUB_PRACTITIONER = "hub_practitioner"
    MARAC_COORDINATOR = "marac_coordinator"
    POLICE_OFFICER = "police_officer"
    CONTROL_ROOM_MH_PROFESSIONAL = "control_room_mh_professional"
    SCHOOL_SAFEGUARDING_LEAD = "school_safeguarding_lead"
    PARTNER_TEAM_MEMBER = "partner_team_member"
    PUBLIC_HEALTH_ANALYST = "public_health_analyst"
    DATA_PROTECTION_OFFICER = "data_protection_officer"
    ADMINISTRATOR = "administrator"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS: dict[Role, str] = {
    Role.HUB_PRACTITIONER: "Hub practitioner",
    Role.MARAC_COORDINATOR: "MARAC coordinator",
    Role.POLICE_OFFICER: "Police officer",
    Role.CONTROL_ROOM_MH_PROFESSIONAL: "Control-room mental-health professional",
    Role.SCHOOL_SAFEGUARDING_LEAD: "School designated safeguarding lead",
    Role.PARTNER_TEAM_MEMBER: "Partner team member",
    Role.PUBLIC_HEALTH_ANALYST: "Public-health analyst",
    Role.DATA_PROTECTION_OFFICER: "Data protection officer",
    Role.ADMINISTRATOR: "Administrator",
}

ROLE_ORGANISATION_TYPES: dict[Role, frozenset[OrganisationType]] = {
    Role.HUB_PRACTITIONER: frozenset({OT.LOCAL_AUTHORITY_CHILDRENS, OT.POLICE_FORCE, OT.NHS_TRUST}),
    # a MARAC is usually coordinated by the police or the local authority (SafeLives, Marac guidance)
    Role.MARAC_COORDINATOR: frozenset({OT.POLICE_FORCE, OT.LOCAL_AUTHORITY_CHILDRENS}),
    Role.POLICE_OFFICER: frozenset({OT.POLICE_FORCE}),
    Role.CONTROL_ROOM_MH_PROFESSIONAL: frozenset({OT.NHS_TRUST, OT.POLICE_FORCE}),
    Role.SCHOOL_SAFEGUARDING_LEAD: frozenset({OT.SCHOOL}),
    Role.PARTNER_TEAM_MEMBER: frozenset({OT.NHS_TRUST, OT.LOCAL_AUTHORITY_CHILDRENS, OT.DRUG_ALCOHOL_SERVICE}),
    Role.PUBLIC_HEALTH_ANALYST: frozenset({OT.PUBLIC_HEALTH_TEAM}),
    Role.DATA_PROTECTION_OFFICER: frozenset(OT),
    Role.ADMINISTRATOR: frozenset(OT),
}
"""Which kinds of organisation may employ someone in each role; an account outside these is refused."""

_EVERYONE = frozenset({"view-self", "change-own-password", "view-organisations", "view-agreements"})
_CASEWORK = frozenset(
    {
        "view-work-items",
        "update-work-item",
        "view-person",
        "find-person",
        "add-note",
        "view-referrals",
        "make-referral",
        "handle-referral",
        "report-link",
    }
)

ROLE_GRANTS: dict[Role, frozenset[str]] = {
    Role.HUB_PRACTITIONER: _EVERYONE | _CASEWORK | {"break-glass", "review-links"},
    Role.POLICE_OFFICER: _EVERYONE | _CASEWORK | {"break-glass"},
    Role.MARAC_COORDINATOR: _EVERYONE | _CASEWORK,
    Role.CONTROL_ROOM_MH_PROFESSIONAL: _EVERYONE | _CASEWORK | {"break-glass", "log-triage"},
    Role.SCHOOL_SAFEGUARDING_LEAD: _EVERYONE
    | {"view-work-items", "update-work-item", "view-person", "view-notices", "acknowledge-notice", "report-link"},
    Role.PARTNER_TEAM_MEMBER: _EVERYONE | _CASEWORK,
    Role.PUBLIC_HEALTH_ANALYST: _EVERYONE,
    Role.DATA_PROTECTION_OFFICER: _EVERYONE
    | {"manage-agreements", "view-audit", "verify-audit", "review-break-glass", "export-subject-access"}
    | {"approve-access"},
    Role.ADMINISTRATOR: _EVERYONE | {"manage-organisations", "view-users", "manage-users", "send-notices"},
}
"""The actions each role is granted (before denials, agreements and relationships)."""

# what works (#7): every signed-in partner reads the library and the landscape review, comments (moderated) and
# answers a survey sent to their own organisation; people who act on evidence review entries; administrators run
# the survey and the work plan. See docs/whatworks.md.
_WHAT_WORKS_EVERYONE = frozenset({"view-library", "comment", "view-landscape", "answer-survey"})
_WHAT_WORKS_GRANTS: dict[Role, frozenset[str]] = {
    Role.HUB_PRACTITIONER: frozenset(
        {"submit-library-entry", "review-library-entry", "view-evaluations", "run-evaluation"}
    ),
    Role.POLICE_OFFICER: frozenset({"submit-library-entry"}),
    Role.MARAC_COORDINATOR: frozenset({"submit-library-entry"}),
    Role.CONTROL_ROOM_MH_PROFESSIONAL: frozenset({"submit-library-entry"}),
    Role.SCHOOL_SAFEGUARDING_LEAD: frozenset({"submit-library-entry"}),
    Role.PARTNER_TEAM_MEMBER: frozenset({"submit-library-entry"}),
    Role.PUBLIC_HEALTH_ANALYST: frozenset(
        {"submit-library-entry", "review-library-entry", "moderate-comments", "view-evaluations", "run-evaluation"}
    ),
    Role.DATA_PROTECTION_OFFICER: frozenset(),
    Role.ADMINISTRATOR: frozenset({"moderate-comments", "manage-survey"}),
}
for _role, _extra in _WHAT_WORKS_GRANTS.items():
    ROLE_GRANTS[_role] = ROLE_GRANTS[_role] | _WHAT_WORKS_EVERYONE | _extra

# outcomes that teach the rules (#20): counts of closed work by rule, for those who judge the rules and answer for
# them (no person is shown).
for _role in (Role.HUB_PRACTITIONER, Role.PUBLIC_HEALTH_ANALYST, Role.DATA_PROTECTION_OFFICER):
    ROLE_GRANTS[_role] = ROLE_GRANTS[_role] | {"view-rule-outcomes"}

# population statistics (#19): disclosure-controlled counts, for those who plan and answer for services.
for _role in (Role.PUBLIC_HEALTH_ANALYST, Role.DATA_PROTECTION_OFFICER, Role.HUB_PRACTITIONER):
    ROLE_GRANTS[_role] = ROLE_GRANTS[_role] | {"view-statistics"}
