"""Local evaluations linked to library entries: a result of commonground's own evaluation of an intervention (the
partnership's linked records), its figures as ``name: value`` lines, always shown labelled LOCAL.

:func:`link_evaluation` is the one operation that links one, from an entry's page in the library or from an
evaluation's result: the entry must be one the person may see, and the link is audited and committed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from commonground.access import audit
from commonground.access.audit import Actor
from commonground.access.context import Context
from commonground.errors import UserError
from commonground.whatworks.entries import kept, subject_of, visible_entry
from commonground.whatworks.library import MAX_TEXT
from commonground.whatworks.models import LibraryEntry, LocalEvaluation


def parse_figures(text: str) -> dict[str, Any]:
    """``name: value`` a line; numbers kept as numbers."""
    figures: dict[str, Any] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        if ":" not in line:
            raise UserError("write each figure as 'name: value'", field="figures")
        name, value = (part.strip() for part in line.split(":", 1))
        try:
            figures[name] = float(value) if "." in value or "e" in value.lower() else int(value)
        except ValueError:
            figures[name] = value
    return figures


def link_local_evaluation(
    session: Session,
    *,
    entry: LibraryEntry,
    title: str,
    summary: str,
    evaluated_on: dt.date,
    figures: dict[str, Any],
    by: Actor,
    reference: str = "",
) -> LocalEvaluation:
    """Link a result of commonground's own evaluation (local data) to an entry, audited in the caller's
    transaction; it is always shown as LOCAL."""
    title = title.strip()
    if not title:
        raise UserError("a local evaluation needs a title", field="title")
    if len(title) > 200 or len(summary) > MAX_TEXT or len(reference) > 200:
        raise UserError("the title, summary or reference is too long")
    if any("\x00" in t for t in (title, summary, reference, *map(str, figures.values()))):
        raise UserError("text cannot contain the NUL character")
    evaluation = LocalEvaluation(
        entry_id=entry.id,
        title=title,
        summary=summary.strip(),
        evaluated_on=evaluated_on,
        figures=dict(figures),
        reference=reference.strip(),
        recorded_by_user_id=by.user_id,
    )
    session.add(evaluation)
    session.flush()
    audit.record(
        session,
        audit.Event(
            actor=by,
            action="review-library-entry",
            subject_type="library",
            subject_id=str(entry.id),
            detail={"local_evaluation_id": evaluation.id},
        ),
    )
    return evaluation


def local_evaluations(session: Session, entry: LibraryEntry) -> list[LocalEvaluation]:
    """The evaluations linked to an entry, latest first."""
    return list(
        session.scalars(
            select(LocalEvaluation)
            .where(LocalEvaluation.entry_id == entry.id)
            .order_by(LocalEvaluation.evaluated_on.desc(), LocalEvaluation.id.desc())
        )
    )


def link_evaluation(
    ctx: Context,
    *,
    entry_id: int,
    title: str,
    summary: str,
    evaluated_on: dt.date,
    figures: str,
    reference: str = "",
) -> LocalEvaluation:
    """Link a local evaluation (its figures as ``name: value`` lines) to an entry the person may see."""
    ctx.require("review-library-entry", subject_of(entry_id))
    entry = visible_entry(ctx, entry_id=entry_id)
    values = parse_figures(figures)
    by = ctx.me().actor
    return kept(
        ctx,
        lambda: link_local_evaluation(
            ctx.db,
            entry=entry,
            title=title,
            summary=summary,
            evaluated_on=evaluated_on,
            figures=values,
            reference=reference,
            by=by,
        ),
    )
