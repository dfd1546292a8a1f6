"""The one table every layer refers to: the partner organisations; and how an enum is stored."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import Enum, String
from sqlalchemy.orm import Mapped, mapped_column

from commonground.store.db import Base, utcnow
from commonground.store.organisation_types import OrganisationType


def str_enum(enum: type[StrEnum]) -> Enum:
    """A Python enum kept as its string value in a VARCHAR (no database enum type to migrate)."""
    return Enum(enum, native_enum=False, length=40, values_callable=lambda e: [m.value for m in e])


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    """A short stable code: an ODS code, a force code, or for a school its URN."""
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[OrganisationType] = mapped_column(str_enum(OrganisationType))
    urn: Mapped[str | None] = mapped_column(String(6), unique=True)
    """A school's Unique Reference Number (schools only, and required for them)."""
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
