"""The good-practice library's checked operations: write, change and submit an entry (its author), review it (two
reviewers, neither the submitter), comment on a published entry and moderate the comments.

Each takes the operation :class:`~commonground.access.context.Context`, authorises through the resolver, acts
through :mod:`commonground.whatworks.library` (which audits every change) and commits; the library's pages call
them and nothing else writes. A change the library's rules refuse is a :class:`~commonground.errors.UserError`
(nothing is kept); an entry the person may not see is not found.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from commonground.access.actions import SubjectKind
from commonground.access.context import Context
from commonground.access.resolver import Refusal, Subject
from commonground.errors import NotFound, Refused, UserError
from commonground.whatworks import library as lib
from commonground.whatworks.models import Comment, EntryStatus, LibraryEntry, LibraryReview, ReviewDecision

T = TypeVar("T")


def kept(ctx: Context, change: Callable[[], T]) -> T:
    """Run a change and commit it; one refused with a :class:`UserError` is rolled back and raised."""
    try:
        done = change()
    except UserError:
        ctx.db.rollback()
        raise
    ctx.db.commit()
    return done


def subject_of(entry_id: int | None = None) -> Subject:
    return Subject(kind=SubjectKind.LIBRARY, id=str(entry_id) if entry_id else None)


def may(ctx: Context, name: str, entry_id: int | None = None) -> bool:
    """Whether the person may take the library action ``name`` (on one entry), nothing audited."""
    return ctx.check(name, subject_of(entry_id)).allowed


def visible_entry(ctx: Context, *, entry_id: int) -> LibraryEntry:
    """An entry the person may see (a published one; their own; one in review, for a reviewer); otherwise
    :class:`~commonground.errors.NotFound`."""
    entry = ctx.db.get(LibraryEntry, entry_id)
    reviewer = may(ctx, "review-library-entry", entry_id)
    if entry is None or not lib.can_see(entry, user_id=ctx.me().user_id, reviewer=reviewer):
        raise NotFound()
    return entry


def editable_entry(ctx: Context, *, entry_id: int) -> LibraryEntry:
    """An entry of the person's own that can be changed (a draft, or returned with comments)."""
    ctx.require("submit-library-entry", subject_of(entry_id))
    entry = visible_entry(ctx, entry_id=entry_id)
    if entry.author_user_id != ctx.me().user_id:
        raise Refused("only the author can change an entry", refusal=Refusal.WORKFLOW)
    if entry.status not in lib.EDITABLE:
        raise UserError("an entry can be changed only as a draft or when returned with comments")
    return entry


def create_entry(ctx: Context, *, fields: lib.EntryFields) -> LibraryEntry:
    """A new draft entry, written by the person."""
    ctx.require("submit-library-entry", subject_of())
    by = ctx.me().actor
    return kept(ctx, lambda: lib.create_entry(ctx.db, fields=fields, by=by))


def update_entry(ctx: Context, *, entry_id: int, fields: lib.EntryFields) -> LibraryEntry:
    entry = editable_entry(ctx, entry_id=entry_id)
    by = ctx.me().actor
    return kept(ctx, lambda: lib.update_entry(ctx.db, entry=entry, fields=fields, by=by))


def submit_entry(ctx: Context, *, entry_id: int) -> LibraryEntry:
    """Send one's draft (or returned) entry for review."""
    entry = editable_entry(ctx, entry_id=entry_id)
    by = ctx.me().actor
    return kept(ctx, lambda: lib.submit_entry(ctx.db, entry=entry, by=by))


def review_entry(ctx: Context, *, entry_id: int, decision: ReviewDecision, comments: str) -> LibraryReview:
    """One review: two approvals by two people publish the entry; a return sends it back with the comments."""
    ctx.require("review-library-entry", subject_of(entry_id))
    entry = visible_entry(ctx, entry_id=entry_id)
    by = ctx.me().actor
    return kept(ctx, lambda: lib.review_entry(ctx.db, entry=entry, decision=decision, comments=comments, by=by))


def comment_on_entry(ctx: Context, *, entry_id: int, text: str) -> Comment:
    """A comment on a published entry, held for moderation."""
    ctx.require("comment", subject_of(entry_id))
    entry = visible_entry(ctx, entry_id=entry_id)
    if entry.status is not EntryStatus.PUBLISHED:
        raise UserError("comments are open on published entries")
    by = ctx.me().actor
    return kept(ctx, lambda: lib.add_comment(ctx.db, target_type="library", target_id=entry.id, text=text, by=by))


def moderate_comment(ctx: Context, *, comment_id: int, approve: bool) -> Comment:
    """Approve a pending comment (shown to everyone) or remove a comment (hidden, kept for the record); on the
    library and on the work plan alike."""
    ctx.require("moderate-comments", subject_of())
    comment = ctx.db.get(Comment, comment_id)
    if comment is None:
        raise NotFound()
    by = ctx.me().actor
    return kept(ctx, lambda: lib.moderate_comment(ctx.db, comment=comment, approve=approve, by=by))
