"""Errors a user can act on, and refusals. Each carries its meaning as data (a field, a status, a code), so that
what a caller does with one never depends on its words; the words are for people.

A message names the file, row and field where there is one, and never a personal value.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from commonground.access.resolver import Decision, Refusal

NOT_FOUND = "not found, or not yours to see"


class UserError(Exception):
    """Something the person running commonground can fix: a wrong path, a bad argument, a refused file or form.

    ``field`` names the form field or input the error is about, where there is one (a page shows the message
    beside that field)."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class Refused(Exception):
    """An operation refused to the person asking: ``status`` (401, 403 or 404), the reason in words, and
    ``refusal``, the kind of refusal as data (:class:`commonground.access.resolver.Refusal`)."""

    def __init__(self, reason: str, *, status: int = 403, refusal: Refusal | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.refusal = refusal

    @classmethod
    def of(cls, decision: Decision) -> Refused:
        return cls(decision.reason, status=decision.status if decision.status >= 400 else 403, refusal=decision.refusal)


class NotFound(Refused):
    """Not there, or not the asker's to see: the two are answered alike, so nobody learns what exists."""

    def __init__(self, reason: str = NOT_FOUND) -> None:
        super().__init__(reason, status=404)
