"""Idempotency keys: a write sent again with the same key by the same person is answered with the first answer and
does nothing again.

A client that got no answer (or an error) to a write cannot tell whether it was stored; sending it again with the
same ``Idempotency-Key`` (pages send one hidden in each form) is safe. The key is claimed in the write's own
transaction, so the key and what the write stored are committed together or not at all; the answer is kept after
it, for the retry. Keys are kept for :data:`KEEP` and belong to one account: another account's key is another key.
"""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint, delete, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from commonground.store.db import Base, utcnow

KEEP = dt.timedelta(hours=24)
"""How long a key is remembered: a retry comes within seconds or minutes, never a day later."""
MAX_BODY = 65_536
"""The longest answer kept to replay (a longer one is answered by "already done", 409, on a retry)."""
_KEY = re.compile(r"^[\x21-\x7e]{1,100}$")


class IdempotencyKey(Base):
    """A write's idempotency key, by account, with the answer it got (once it has one)."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("user_id", "key", name="uq_idempotency_keys_user_id_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    key: Mapped[str] = mapped_column(String(100))
    request: Mapped[str] = mapped_column(String(300))
    """The method and the path it was sent with: a key sent again with another request is refused."""
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    status: Mapped[int | None] = mapped_column(Integer)
    """The answer's status; None while the write is in flight, or when its answer could not be kept."""
    location: Mapped[str | None] = mapped_column(String(2_000))
    media_type: Mapped[str | None] = mapped_column(String(100))
    body: Mapped[str | None] = mapped_column(Text)


def valid_key(key: str) -> bool:
    """1 to 100 printable ASCII characters, no spaces (a UUID or a random token)."""
    return bool(_KEY.match(key))


def find_key(session: Session, *, user_id: int, key: str) -> IdempotencyKey | None:
    return session.scalar(select(IdempotencyKey).where(IdempotencyKey.user_id == user_id, IdempotencyKey.key == key))


def claim_key(session: Session, *, user_id: int, key: str, request: str, now: dt.datetime) -> None:
    """Add the key to the session's transaction (the write's): committed with the write, or not at all."""
    session.add(IdempotencyKey(user_id=user_id, key=key, request=request[:300], created_at=now))


def keep_answer(
    session: Session,
    *,
    user_id: int,
    key: str,
    status: int,
    location: str | None,
    media_type: str | None,
    body: str | None,
) -> None:
    """Keep the answer of a claimed key, to replay it (the caller commits). The account's keys older than
    :data:`KEEP` are forgotten meanwhile."""
    session.execute(
        delete(IdempotencyKey).where(IdempotencyKey.user_id == user_id, IdempotencyKey.created_at < utcnow() - KEEP)
    )
    session.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.user_id == user_id, IdempotencyKey.key == key, IdempotencyKey.status.is_(None))
        .values(status=status, location=location, media_type=media_type, body=body)
    )


def forget_key(session: Session, *, user_id: int, key: str) -> None:
    """Forget a claimed key whose write was refused (a 4xx): the same form, corrected, may be sent again."""
    session.execute(
        delete(IdempotencyKey).where(
            IdempotencyKey.user_id == user_id, IdempotencyKey.key == key, IdempotencyKey.status.is_(None)
        )
    )
