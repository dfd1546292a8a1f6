"""The parts of a subject access export that the operational store holds: work items, case notes, referrals and
their steps, school notices, street-triage logs, and (last) every audit-log entry about the person.

Listed, in order after the linked build's, in :data:`commonground.cases.subject_access.SECTIONS`.
"""

from __future__ import annotations

from sqlalchemy import select

from commonground.access.models import AuditEvent, User
from commonground.cases.notes import Note
from commonground.cases.subject_access_build import Export
from commonground.cases.work_items import WorkItem

# --- the sections of the operational store ------------------------------------------------------------------------


def write_work_items(export: Export) -> None:
    items = list(
        export.session.scalars(select(WorkItem).where(WorkItem.person_id == export.person_id).order_by(WorkItem.id))
    )
    export.write_csv(
        "work_items.csv",
        [
            "id",
            "rule_id",
            "sent_to_organisation",
            "role",
            "purpose",
            "status",
            "due_by",
            "created_at",
            "closed_at",
            "outcome",
            "evidence",
        ],
        (
            (
                i.id,
                i.rule_id,
                export.organisation(i.organisation_id),
                i.role.label,
                i.purpose.value,
                i.status.value,
                i.due_by,
                i.created_at,
                i.closed_at,
                i.outcome,
                i.evidence,
            )
            for i in items
        ),
    )
    export.readme.append(
        f"work_items.csv     The {len(items)} flags sent to a partner to act on: to whom, for what purpose, by when,\n"
        "                   and what was done."
    )


def write_notes(export: Export) -> None:
    notes = list(
        export.session.scalars(select(Note).where(Note.person_id == export.person_id).order_by(Note.created_at))
    )
    export.write_csv(
        "notes.csv",
        ["id", "written_at", "organisation", "author", "purpose", "text"],
        (
            (n.id, n.created_at, export.organisation(n.organisation_id), n.author.display_name, n.purpose.value, n.text)
            for n in notes
        ),
    )
    export.readme.append(f"notes.csv          The {len(notes)} case notes practitioners wrote about the person.")


def write_referrals(export: Export) -> None:
    from commonground.cases.referrals import Referral

    referrals = list(
        export.session.scalars(select(Referral).where(Referral.person_id == export.person_id).order_by(Referral.id))
    )
    export.write_csv(
        "referrals.csv",
        [
            "id",
            "made_at",
            "from_organisation",
            "to_organisation",
            "purpose",
            "lawful_basis",
            "consent",
            "consent_note",
            "summary",
            "status",
            "outcome",
            "closed_at",
        ],
        (
            (
                r.id,
                r.created_at,
                r.from_organisation.name,
                r.to_organisation.name,
                r.purpose.value,
                r.lawful_basis,
                r.consent.value,
                r.consent_note,
                r.summary,
                r.status.value,
                r.outcome,
                r.closed_at,
            )
            for r in referrals
        ),
    )
    export.write_csv(
        "referral_steps.csv",
        ["referral", "when", "step", "from_status", "to_status", "by_organisation", "to_organisation", "note"],
        (
            (
                r.id,
                e.at,
                e.step.value,
                e.from_status.value if e.from_status else "",
                e.to_status.value,
                export.organisation(e.organisation_id),
                export.organisation(e.to_organisation_id),
                e.note,
            )
            for r in referrals
            for e in sorted(r.events, key=lambda e: (e.at, e.id))
        ),
    )
    export.readme.append(
        f"referrals.csv      The {len(referrals)} referrals made about the person to a partner: by whom, to whom,\n"
        "                   why, under which lawful basis, with or without consent, and what became of them;\n"
        "                   referral_steps.csv has every step (accepted, rejected, transferred, closed) with its note."
    )


def write_notices(export: Export) -> None:
    from commonground.cases.notices import NoticeChild

    named = list(
        export.session.scalars(
            select(NoticeChild).where(NoticeChild.person_id == export.person_id).order_by(NoticeChild.id)
        )
    )
    export.write_csv(
        "notices.csv",
        [
            "id",
            "school",
            "child_name",
            "child_date_of_birth",
            "incident_reference",
            "incident_at",
            "child_present",
            "how_linked",
            "police_contact",
            "due_by",
            "created_at",
            "sent_at",
            "acknowledged_at",
        ],
        (
            (
                c.notice.id,
                export.organisation(c.notice.organisation_id),
                c.child_name,
                c.child_date_of_birth,
                c.notice.incident_reference,
                c.notice.incident_at,
                c.child_present,
                c.how.words,
                c.notice.police_contact,
                c.notice.due_by,
                c.added_at,
                c.notice.sent_at,
                c.notice.acknowledged_at,
            )
            for c in named
        ),
    )
    export.readme.append(
        f"notices.csv        The {len(named)} Operation Encompass notices telling a school of a domestic-abuse\n"
        "                   incident the police attended: what the school was told of the person, when, and when\n"
        "                   it read it (other pupils named on the same notice are not shown)."
    )


def write_triage_logs(export: Export) -> None:
    from commonground.cases.triage import TriageLog

    logs = list(
        export.session.scalars(
            select(TriageLog).where(TriageLog.person_id == export.person_id).order_by(TriageLog.contacted_at)
        )
    )
    export.write_csv(
        "triage_logs.csv",
        [
            "id",
            "contacted_at",
            "organisation",
            "recorded_by",
            "given_name",
            "family_name",
            "date_of_birth",
            "postcode",
            "incident_reference",
            "setting",
            "advice",
            "outcome",
            "s136",
            "conveyance",
            "crisis_team_referral",
            "recorded_at",
        ],
        (
            (
                t.id,
                t.contacted_at,
                export.organisation(t.organisation_id),
                t.recorded_by.display_name,
                t.given_name,
                t.family_name,
                t.date_of_birth,
                t.postcode,
                t.incident_reference,
                t.setting,
                t.advice,
                t.outcome,
                t.s136.value,
                t.conveyance.value,
                t.crisis_team_referral,
                t.recorded_at,
            )
            for t in logs
        ),
    )
    export.readme.append(
        f"triage_logs.csv    The {len(logs)} street-triage contacts: the mental-health advice given to the police\n"
        "                   about the person and what happened (section 136, conveyance, crisis team)."
    )


def write_access_log(export: Export) -> None:
    events = list(
        export.session.scalars(
            select(AuditEvent).where(AuditEvent.person_id == export.person_id).order_by(AuditEvent.seq)
        )
    )
    names = {u.id: u.display_name for u in export.session.scalars(select(User))}
    export.write_csv(
        "access_log.csv",
        [
            "entry",
            "when",
            "who",
            "account",
            "organisation",
            "role",
            "purpose",
            "action",
            "outcome",
            "break_glass",
            "break_glass_reason",
        ],
        (
            (
                e.seq,
                e.occurred_at,
                names.get(e.actor_user_id, "") if e.actor_user_id else e.actor,
                e.actor,
                export.organisation(e.organisation_id),
                e.role,
                e.purpose,
                e.action,
                e.outcome,
                "yes" if e.break_glass else "no",
                e.reason if e.break_glass else "",
            )
            for e in events
        ),
    )
    export.readme.append(
        f"access_log.csv     Every one of the {len(events)} times someone opened, searched for, changed or was\n"
        "                   refused the person's records, from the audit log: who, from which organisation, in\n"
        "                   which role, for what purpose, when, and whether it was an emergency (break-glass)\n"
        "                   access with the reason given. This export itself is the next entry."
    )
