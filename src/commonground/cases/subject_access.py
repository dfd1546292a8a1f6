"""Subject access: everything held about one person, and every access to it, written as a folder of plain files.

``export_subject_access`` writes a ``README.txt`` saying in plain words what each file holds, then one file (or
folder) per *section*. The sections are listed once, in the order they are written, in :data:`SECTIONS`: the
linked build's (:mod:`commonground.cases.subject_access_build`), then the operational store's
(:mod:`commonground.cases.subject_access_store`), the access log last. The export itself is audited
(``export-subject-access``) in the caller's transaction; :func:`export_for` is the checked operation the DPO's page
calls (it commits), and :func:`summary` what the page shows before it.

What the linked build holds comes from the person view (identity, indicators and flags with their evidence, the
household) and from the build's own feed tables (every column of every linked record); what the operational store
holds (work items, notes, referrals, notices, triage logs, and the audit log's entries about the person) comes
from its tables.

Other people are not disclosed: the household file says when the person lived in a household and with how many
others, never who they were (UK GDPR Art 15(4); DPA 2018 Sch 2 para 16).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from commonground.access import audit
from commonground.access.actions import SubjectKind
from commonground.access.audit import Actor
from commonground.access.context import Context
from commonground.access.models import AuditEvent
from commonground.access.resolver import Subject
from commonground.cases import subject_access_build as build
from commonground.cases import subject_access_store as store
from commonground.cases.person_view import Identity, PersonView
from commonground.cases.subject_access_build import Export, Section
from commonground.cases.work_items import WorkItem
from commonground.errors import UserError
from commonground.store.db import utcnow

BUILD_FILE = "build.duckdb"

SECTIONS: tuple[Section, ...] = (
    Section("identity", build.write_identity),
    Section("records", build.write_records),
    Section("indicators_and_flags", build.write_indicators_and_flags),
    Section("household", build.write_household),
    Section("work_items", store.write_work_items),
    Section("notes", store.write_notes),
    Section("referrals", store.write_referrals),
    Section("notices", store.write_notices),
    Section("triage_logs", store.write_triage_logs),
    Section("access_log", store.write_access_log),
)
"""The parts of an export, in the order they are written (the access log last)."""


# --- the export -------------------------------------------------------------------------------------------------


def export_subject_access(
    session: Session, person_view: PersonView | None, person_id: str, out_dir: Path, by: Actor
) -> list[str]:
    """Write everything held about ``person_id`` into ``out_dir`` (created; it must be empty) and audit the
    export in ``session``'s transaction (the caller commits). Returns the files written, relative to ``out_dir``."""
    if out_dir.exists() and any(out_dir.iterdir()):
        raise UserError(f"{out_dir} is not empty; choose a new folder for the export")
    out_dir.mkdir(parents=True, exist_ok=True)
    database = person_view.build_dir / BUILD_FILE if person_view is not None else None
    export = Export(
        session=session,
        view=person_view,
        person_id=person_id,
        out_dir=out_dir,
        build_database=database if database is not None and database.exists() else None,
        now=utcnow(),
    )
    for part in SECTIONS:
        part.write(export)
    _readme(export, by)
    audit.record(
        session,
        audit.Event(
            actor=by,
            action="export-subject-access",
            subject_type="person",
            subject_id=person_id,
            person_id=person_id,
            detail={"files": len(export.files), "sections": [s.name for s in SECTIONS]},
        ),
    )
    return ["README.txt", *export.files]


def _readme(export: Export, by: Actor) -> None:
    build = export.view.build_dir.name if export.view is not None else "none published yet"
    lines = [
        f"Subject access export for person {export.person_id}",
        "",
        f"Made on {export.now:%d %B %Y at %H:%M} UTC by {by.label}, from the linked build {build}.",
        "",
        "This folder holds everything the partnership's commonground service holds about the person with this",
        "id, and every time someone accessed it. Each file is plain text: .csv files open in a spreadsheet,",
        ".json in any text editor. In the .csv files, a value that begins like a spreadsheet formula (with =, +,",
        "- or @) is written with a ' in front, so that the spreadsheet shows it as text rather than running it.",
        "The files:",
        "",
        *export.readme,
        "",
        "The person id is the pseudonymous number the service gives a person once their records are linked.",
        "Information about other people (household members, staff other than who acted) is left out or counted",
        "only. If anything here is wrong, you can ask for it to be corrected.",
    ]
    (export.out_dir / "README.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


# --- the checked operations ---------------------------------------------------------------------------------------


def _subject(person_id: str) -> Subject:
    return Subject(kind=SubjectKind.PERSON, id=person_id, person_id=person_id)


@dataclass(frozen=True)
class Summary:
    """What the data protection officer confirms before exporting: whether the linked build holds the person, and
    how much the operational store holds about them."""

    person_id: str
    in_build: bool
    build_published: bool
    work_items: int
    accesses: int
    sections: list[str]


def summary(ctx: Context, *, view: PersonView | None, person_id: str) -> Summary:
    """What an export of ``person_id`` would hold, counted (nothing audited: nothing about the person is shown)."""
    ctx.require("export-subject-access", _subject(person_id))
    work_items = select(func.count()).select_from(WorkItem).where(WorkItem.person_id == person_id)
    accesses = select(func.count()).select_from(AuditEvent).where(AuditEvent.person_id == person_id)
    return Summary(
        person_id=person_id,
        in_build=view is not None and view.identity(person_id) is not None,
        build_published=view is not None,
        work_items=ctx.db.scalar(work_items) or 0,
        accesses=ctx.db.scalar(accesses) or 0,
        sections=[s.name for s in SECTIONS],
    )


def export_for(ctx: Context, *, view: PersonView | None, person_id: str, out_dir: Path) -> list[str]:
    """Export everything held about ``person_id`` into ``out_dir``, audited and committed; the files written."""
    ctx.require("export-subject-access", _subject(person_id))
    files = export_subject_access(ctx.db, view, person_id, out_dir, ctx.me().actor)
    ctx.db.commit()
    return files


def find_for_request(
    ctx: Context,
    *,
    view: PersonView | None,
    family_name: str,
    given_name: str = "",
    date_of_birth: dt.date | None = None,
) -> list[Identity]:
    """The people of the linked build who match (family name, and given name and date of birth if given), for the
    data protection officer to choose whom a subject access request is about.

    Finding a person for casework is ``find-person``, for a casework purpose, which the DPO's role is never
    granted; this search is part of answering the request instead, checked as ``export-subject-access`` (a
    refusal audited). It is audited like any identifiable read, in the same transaction, and committed: one
    ``export-subject-access`` event per person shown (detail ``step: search``), or one saying that nobody matched.
    The words typed are not recorded, only which fields were used."""
    ctx.require("export-subject-access", Subject(kind=SubjectKind.PERSON))
    if not family_name.strip():
        raise UserError("Enter a family name", field="family_name")
    found = (
        view.search(family_name=family_name, given_name=given_name, date_of_birth=date_of_birth)
        if view is not None
        else []
    )
    used = [
        "family_name",
        *(["given_name"] if given_name.strip() else []),
        *(["date_of_birth"] if date_of_birth else []),
    ]
    actor = ctx.me().actor
    events = [
        audit.Event(
            actor=actor,
            action="export-subject-access",
            subject_type=SubjectKind.PERSON.value,
            subject_id=person.person_id,
            person_id=person.person_id,
            detail={"step": "search", "by": used},
        )
        for person in found
    ] or [
        audit.Event(
            actor=actor,
            action="export-subject-access",
            subject_type=SubjectKind.PERSON.value,
            detail={"step": "search", "by": used, "matches": 0},
        )
    ]
    audit.record_many(ctx.db, events)
    ctx.db.commit()
    return found
