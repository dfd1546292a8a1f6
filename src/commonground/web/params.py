"""Parameters of a request that the API and the pages both read, declared once: identifiers in a path, the
stated purpose, the break-glass reason (a header, so that free text never lands in URLs or access logs)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Header, Path, Query

from commonground.access.purposes import Purpose

MAX_ID = 2_147_483_647
"""The largest identifier a path or a body may name (a 32-bit integer, as the store keeps them)."""

IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
"""An identifier in a path: a positive 32-bit integer."""

PersonIdPath = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
"""A pseudonymous person id in a path (never a name or a date of birth)."""

PurposeQuery = Annotated[Purpose, Query(description="Why you are opening these records (recorded in the audit log)")]

BreakGlassHeader = Annotated[str | None, Header(alias="Commonground-Break-Glass-Reason", max_length=2_000)]
