"""Case notes on a person: written by a practitioner, seen by their own organisation, never edited (a correction is
a new note). Adding one is audited in the same transaction."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from commonground.access import audit
from commonground.access.audit import Actor
from commonground.access.models import User
from commonground.access.purposes import Purpose
from commonground.errors import UserError
from commonground.store.db import Base, utcnow
from commonground.store.models import str_enum

MAX_NOTE = 10_000


class Note(Base):
    __tablename__ = "notes"
    __table_args__ = (Index("ix_notes_person_organisation", "person_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[str] = mapped_column(String(64))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    author_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    purpose: Mapped[Purpose] = mapped_column(str_enum(Purpose))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    author: Mapped[User] = relationship(lazy="joined")


def add_note(session: Session, *, person_id: str, organisation_id: int, by: Actor, purpose: Purpose, text: str) -> Note:
    text = text.strip()
    if not text:
        raise UserError("a note needs some text")
    if len(text) > MAX_NOTE:
        raise UserError(f"a note is at most {MAX_NOTE:,} characters")
    if "\x00" in text:
        raise UserError("text cannot contain the NUL character")
    if by.user_id is None:
        raise UserError("only a signed-in person can write a note")
    note = Note(
        person_id=person_id, organisation_id=organisation_id, author_user_id=by.user_id, purpose=purpose, text=text
    )
    session.add(note)
    session.flush()
    audit.record(
        session,
        audit.Event(
            actor=by,
            action="add-note",
            subject_type="person",
            subject_id=person_id,
            person_id=person_id,
            purpose=purpose.value,
            detail={"note_id": note.id},
        ),
    )
    return note


def notes_for(session: Session, *, person_id: str, organisation_id: int) -> list[Note]:
    return list(
        session.scalars(
            select(Note)
            .where(Note.person_id == person_id, Note.organisation_id == organisation_id)
            .order_by(Note.created_at.desc(), Note.id.desc())
        )
    )
