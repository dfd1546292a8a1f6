"""Every action a person can take in commonground, declared once.

Each route of the API and of the pages names one of these as a dependency (``Depends(require("view-person"))``);
a test fails if a route names none. The declarations say what the resolver must check: whether an action is open
to anyone, whether it opens identifiable records (then an agreement, a relationship and a stated purpose are
needed, and the read is audited), whether it changes the store (audited), and which other action it also needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from commonground.access.roles import Role


class SubjectKind(StrEnum):
    """What an action acts on."""

    SERVICE = "service"
    ORGANISATION = "organisation"
    AGREEMENT = "agreement"
    USER = "user"
    AUDIT_LOG = "audit_log"
    WORK_ITEM = "work_item"
    PERSON = "person"
    REFERRAL = "referral"
    NOTICE = "notice"
    TRIAGE_LOG = "triage_log"
    LIBRARY = "library"
    SURVEY = "survey"
    EVALUATION = "evaluation"


@dataclass(frozen=True)
class Action:
    name: str
    description: str
    subject: SubjectKind = SubjectKind.SERVICE
    public: bool = False
    """Open to anyone, signed in or not (signing in, the health check, the API reference)."""
    identifiable: bool = False
    """Opens identifiable records about a person: needs an agreement, a relationship and a purpose; audited."""
    changes: bool = False
    """Changes the operational store: audited in the same transaction."""
    also_requires: str | None = None
    """Another action the person must also be allowed (Datasette's ``also_requires``)."""
    own_organisation: bool = False
    """The subject must belong to (or be routed to) the person's own organisation..."""
    partnership_wide: frozenset[Role] = frozenset()
    """...unless the person's role is one of these, which act across the partnership."""

    @property
    def label(self) -> str:
        """The action in a few words, as people read it ("find a person"): pages show this, never the name."""
        return ACTION_LABELS[self.name]


_ACTIONS: tuple[Action, ...] = (
    Action("sign-in", "Sign in and out", public=True),
    Action("check-health", "See whether the service is up", public=True),
    Action("view-api-docs", "Read the API reference and its OpenAPI document", public=True),
    Action("view-self", "See one's own account, roles and CSRF token", subject=SubjectKind.USER),
    Action("view-organisations", "List the partner organisations", subject=SubjectKind.ORGANISATION),
    Action(
        "manage-organisations",
        "Add and change partner organisations",
        subject=SubjectKind.ORGANISATION,
        changes=True,
        also_requires="view-organisations",
    ),
    Action(
        "view-agreements",
        "Read data-sharing agreements and their history",
        subject=SubjectKind.AGREEMENT,
        own_organisation=True,
        partnership_wide=frozenset({Role.DATA_PROTECTION_OFFICER, Role.ADMINISTRATOR}),
    ),
    Action(
        "manage-agreements",
        "Make, change and end data-sharing agreements",
        subject=SubjectKind.AGREEMENT,
        changes=True,
        also_requires="view-agreements",
    ),
    Action("view-users", "List the people who can sign in", subject=SubjectKind.USER),
    Action(
        "approve-access",
        "Approve, as the second person, an account's access to people's records (a new account, or a new role or "
        "organisation, made by someone else)",
        subject=SubjectKind.USER,
        changes=True,
    ),
    Action(
        "manage-users",
        "Add people, change their role or organisation, deactivate and unlock accounts",
        subject=SubjectKind.USER,
        changes=True,
        also_requires="view-users",
    ),
    Action("view-audit", "Read the audit log and the break-glass reports", subject=SubjectKind.AUDIT_LOG),
    Action(
        "verify-audit",
        "Check the audit log's hash chain for edited or deleted entries",
        subject=SubjectKind.AUDIT_LOG,
        also_requires="view-audit",
    ),
    Action(
        "review-break-glass",
        "Record the review of a break-glass access",
        subject=SubjectKind.AUDIT_LOG,
        changes=True,
        also_requires="view-audit",
    ),
    Action(
        "view-work-items",
        "See the flags routed to one's organisation and role, with their evidence",
        subject=SubjectKind.WORK_ITEM,
        identifiable=True,
        own_organisation=True,
    ),
    Action(
        "update-work-item",
        "Claim, assign and close a work item",
        subject=SubjectKind.WORK_ITEM,
        identifiable=True,
        changes=True,
        own_organisation=True,
        also_requires="view-work-items",
    ),
    Action(
        "view-person",
        "Open a person's linked record: identity as linked, timeline, indicators, household, flags, notes",
        subject=SubjectKind.PERSON,
        identifiable=True,
    ),
    Action(
        "find-person",
        "Search the linked records for a person by name and date of birth",
        subject=SubjectKind.PERSON,
        identifiable=True,
        also_requires="view-person",
    ),
    Action(
        "add-note",
        "Add a case note to a person's record",
        subject=SubjectKind.PERSON,
        identifiable=True,
        changes=True,
        also_requires="view-person",
    ),
    Action(
        "view-referrals",
        "See the referrals sent by or to one's organisation",
        subject=SubjectKind.REFERRAL,
        identifiable=True,
    ),
    Action(
        "make-referral",
        "Refer a person to a partner organisation, from a flag",
        subject=SubjectKind.REFERRAL,
        identifiable=True,
        changes=True,
        also_requires="view-referrals",
    ),
    Action(
        "handle-referral",
        "Accept, reject, transfer, record actions on and close a referral sent to one's organisation",
        subject=SubjectKind.REFERRAL,
        identifiable=True,
        changes=True,
        also_requires="view-referrals",
    ),
    Action(
        "view-notices",
        "See the Operation Encompass notices sent to one's school about its own pupils",
        subject=SubjectKind.NOTICE,
        identifiable=True,
        own_organisation=True,
    ),
    Action(
        "acknowledge-notice",
        "Acknowledge a notice as read by the designated safeguarding lead",
        subject=SubjectKind.NOTICE,
        identifiable=True,
        changes=True,
        own_organisation=True,
        also_requires="view-notices",
    ),
    Action(
        "send-notices",
        "Send the notices waiting in the outbox by email",
        subject=SubjectKind.NOTICE,
        changes=True,
    ),
    Action(
        "log-triage",
        "Record a street-triage contact: the advice given and the outcome",
        subject=SubjectKind.TRIAGE_LOG,
        identifiable=True,
        changes=True,
    ),
    Action(
        "export-subject-access",
        "Export everything held about a person, and every access to it, for a subject access request",
        subject=SubjectKind.PERSON,
        changes=True,
    ),
    Action(
        "change-own-password",
        "Change one's own password",
        subject=SubjectKind.USER,
        changes=True,
    ),
    # what works (#7): the library, the landscape review and the work plan hold no personal data; changes audited
    Action("view-library", "Read the good-practice library of what works", subject=SubjectKind.LIBRARY),
    Action(
        "submit-library-entry",
        "Write a library entry and submit it for review",
        subject=SubjectKind.LIBRARY,
        changes=True,
        also_requires="view-library",
    ),
    Action(
        "review-library-entry",
        "Review a submitted library entry (two reviewers publish it) and link local evaluations to entries",
        subject=SubjectKind.LIBRARY,
        changes=True,
        also_requires="view-library",
    ),
    Action(
        "moderate-comments",
        "Approve or remove partners' comments on the library and the work plan",
        subject=SubjectKind.LIBRARY,
        changes=True,
        also_requires="view-library",
    ),
    Action(
        "comment",
        "Comment on a library entry or a work-plan item (moderated)",
        subject=SubjectKind.LIBRARY,
        changes=True,
    ),
    Action(
        "view-landscape",
        "Read the landscape review of partners and the partnership's work plan",
        subject=SubjectKind.SURVEY,
    ),
    Action(
        "manage-survey",
        "Define and send landscape surveys and keep the partnership's work plan",
        subject=SubjectKind.SURVEY,
        changes=True,
        also_requires="view-landscape",
    ),
    Action(
        "answer-survey",
        "Answer a landscape survey sent to one's own organisation",
        subject=SubjectKind.SURVEY,
        changes=True,
        also_requires="view-landscape",
    ),
    Action(
        "view-evaluations",
        "Read evaluations of local interventions (pseudonymous, small numbers suppressed)",
        subject=SubjectKind.EVALUATION,
    ),
    Action(
        "run-evaluation",
        "Run an evaluation of a local intervention on the current build (a cohort of pseudonymous ids; audited)",
        subject=SubjectKind.EVALUATION,
        also_requires="view-evaluations",
    ),
    Action(
        "report-link",
        "Say that records linked as one person are not all the same person (raises a link review; the records are "
        "held apart from the next build until it is decided)",
        subject=SubjectKind.PERSON,
        identifiable=True,
        changes=True,
        also_requires="view-person",
    ),
    Action(
        "review-links",
        "Review doubted links: the records side by side with what joined them, and decide whether they are the same "
        "person",
        subject=SubjectKind.PERSON,
        identifiable=True,
        changes=True,
    ),
    Action(
        "view-statistics",
        "Read the published statistics of the current build (counts by area, age, sex, deprivation and rule, "
        "every figure through the small-number rules; no person)",
    ),
    Action(
        "view-rule-outcomes",
        "See how often each rule's flags pointed at a real concern, from the coded outcomes of closed work "
        "(counts by rule; no person)",
    ),
    Action("view-assets", "Fetch the service's stylesheet and icon", public=True),
    Action(
        "view-transparency",
        "Read the public record of the rules and the linkage (Algorithmic Transparency Recording Standard)",
        public=True,
    ),
    Action(
        "break-glass",
        "Open an identifiable record no agreement covers, in an emergency, giving a reason (reported to the DPO)",
        subject=SubjectKind.PERSON,
    ),
)

ACTIONS: dict[str, Action] = {action.name: action for action in _ACTIONS}

ACTION_LABELS: dict[str, str] = {
    "sign-in": "sign in",
    "check-health": "check the service is up",
    "view-api-docs": "read the API reference",
    "view-self": "see their own account",
    "view-organisations": "list the partner organisations",
    "manage-organisations": "add or change partner organisations",
    "view-agreements": "read data-sharing agreements",
    "manage-agreements": "make, change or end data-sharing agreements",
    "view-users": "list the people who can sign in",
    "manage-users": "add or change people's accounts",
    "approve-access": "approve an account's access to records",
    "view-audit": "read the audit log",
    "verify-audit": "check the audit log's chain",
    "review-break-glass": "review a break-glass access",
    "view-work-items": "see work items",
    "update-work-item": "claim, assign or close a work item",
    "view-person": "open a person's record",
    "find-person": "find a person",
    "add-note": "add a case note",
    "view-referrals": "see referrals",
    "make-referral": "refer a person",
    "handle-referral": "handle a referral",
    "view-notices": "see school notices",
    "acknowledge-notice": "acknowledge a school notice",
    "send-notices": "send the school notices",
    "log-triage": "record a street-triage contact",
    "export-subject-access": "answer a subject access request",
    "change-own-password": "change their own password",
    "view-library": "read the good-practice library",
    "submit-library-entry": "write a library entry",
    "review-library-entry": "review a library entry",
    "moderate-comments": "moderate comments",
    "comment": "comment",
    "view-landscape": "read the landscape review and the work plan",
    "manage-survey": "run landscape surveys and the work plan",
    "answer-survey": "answer a landscape survey",
    "view-evaluations": "read evaluations",
    "run-evaluation": "run an evaluation",
    "report-link": "report records that are not the same person",
    "review-links": "review doubted links",
    "view-rule-outcomes": "see what closed work says about each rule",
    "view-statistics": "read the published statistics",
    "view-assets": "fetch the stylesheet and icon",
    "view-transparency": "read the public record of the rules",
    "break-glass": "break glass",
}
"""Each action in a few words, lower case, as a page says it ("you may not find a person"); the audit log shows
it capitalised. Every declared action has one (a test checks)."""

BREAK_GLASS = "break-glass"


def action(name: str) -> Action:
    """The declared action called ``name``; an undeclared name is a programming error."""
    try:
        return ACTIONS[name]
    except KeyError:
        raise KeyError(f"no action called {name!r} is declared in commonground.access.actions") from None


@dataclass(frozen=True)
class Denial:
    """A written denial: the roles listed may never take the actions it covers, whatever else allows them."""

    roles: frozenset[Role]
    reason: str
    identifiable: bool = False
    """Covers every action that opens identifiable records."""
    actions: frozenset[str] = frozenset()


DENIALS: tuple[Denial, ...] = (
    Denial(
        roles=frozenset({Role.ADMINISTRATOR}),
        identifiable=True,
        actions=frozenset({BREAK_GLASS}),
        reason="administrators run the service and never open people's records (separation of duties)",
    ),
    Denial(
        roles=frozenset({Role.PUBLIC_HEALTH_ANALYST}),
        identifiable=True,
        actions=frozenset({BREAK_GLASS}),
        reason="analysts see pseudonymised, disclosure-controlled statistics only",
    ),
    Denial(
        roles=frozenset({Role.DATA_PROTECTION_OFFICER}),
        identifiable=True,
        actions=frozenset({BREAK_GLASS}),
        reason="the data protection officer oversees access through the audit log, not by opening records",
    ),
    Denial(
        roles=frozenset({Role.SCHOOL_SAFEGUARDING_LEAD}),
        actions=frozenset({BREAK_GLASS}),
        reason="a school sees only its own pupils and never breaks glass",
    ),
)


def denial_for(role: Role, act: Action) -> Denial | None:
    for denial in DENIALS:
        if role in denial.roles and (act.name in denial.actions or (denial.identifiable and act.identifiable)):
            return denial
    return None
