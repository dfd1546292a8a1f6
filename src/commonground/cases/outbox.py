"""The email outbox: messages are written to the store in the same transaction as what they announce, and a
sender (``commonground hub send-notices``, or an administrator's ``POST /api/outbox/send``) delivers them over
SMTP later. A message is marked sent only once the SMTP server has accepted it; a failure keeps it, counts the
attempt, records the kind of error (never its text, which could echo an address) and waits before the next try,
longer after each failure. Nothing is ever dropped: a message that keeps failing stays in the outbox, visible to
the administrator, until it goes.

Delivery is at least once: if the store cannot record a send that the server accepted, the message goes again.
"""

from __future__ import annotations

import datetime as dt
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from sqlalchemy import ForeignKey, Index, String, Text, func, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from commonground.store.db import Base, utcnow

BACKOFF_FIRST = dt.timedelta(minutes=1)
BACKOFF_MAX = dt.timedelta(minutes=30)
"""After the n-th failure a message waits 1, 2, 4, ... minutes, at most 30 (a notice is due before 08:30)."""


class OutboxMessage(Base):
    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_messages_pending", "sent_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    """What the message announces: ``notice`` for an Operation Encompass notice."""
    to_address: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    notice_id: Mapped[int | None] = mapped_column(ForeignKey("notices.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(String(200))
    """The kind of the last failure ('ConnectionRefusedError', 'SMTP 451'), never the server's words."""
    next_attempt_at: Mapped[dt.datetime | None]
    sent_at: Mapped[dt.datetime | None]


def queue_message(
    session: Session, *, kind: str, to_address: str, subject: str, body: str, notice_id: int | None = None
) -> OutboxMessage:
    """Put a message in the outbox, in the caller's transaction."""
    message = OutboxMessage(kind=kind, to_address=to_address, subject=subject, body=body, notice_id=notice_id)
    session.add(message)
    return message


def backoff(attempts: int) -> dt.timedelta:
    """How long to wait after the ``attempts``-th failure."""
    wait: dt.timedelta = BACKOFF_FIRST * (2 ** min(max(attempts - 1, 0), 20))
    return min(wait, BACKOFF_MAX)


@dataclass(frozen=True)
class SendResult:
    sent: int
    failed: int
    waiting: int
    """Messages still unsent after this run (failed now, or waiting for their next attempt)."""


def pending(session: Session, *, now: dt.datetime) -> list[OutboxMessage]:
    """Unsent messages whose next attempt is due, oldest first."""
    return list(
        session.scalars(
            select(OutboxMessage)
            .where(
                OutboxMessage.sent_at.is_(None),
                or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now),
            )
            .order_by(OutboxMessage.created_at, OutboxMessage.id)
        )
    )


def unsent_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.sent_at.is_(None))) or 0


def send_pending(
    session: Session,
    *,
    host: str,
    port: int,
    sender: str,
    starttls: bool = False,
    username: str | None = None,
    password: str | None = None,
    timeout: float = 20.0,
    now: dt.datetime | None = None,
    limit: int = 500,
    on_sent: Callable[[Session, OutboxMessage], None] | None = None,
) -> SendResult:
    """Send the messages that are due, committing the outcome of each one as it happens (so that a crash
    half-way through never sends the first half twice). ``on_sent`` records what a sent message announced, in the
    same commit (the notices mark their first email so: the outbox knows nothing of notices). ``now`` (a simulated
    clock) is the time of every attempt: what is due, when a message was sent, and when a failed one is due again
    (the backoff used to count from the real clock, so on a simulated one a message waited less and less)."""
    moment = now or utcnow()
    clock: Callable[[], dt.datetime] = utcnow if now is None else (lambda: moment)
    due = pending(session, now=moment)[:limit]
    sent = failed = 0
    smtp: smtplib.SMTP | None = None
    try:
        for message in due:
            message.attempts += 1
            try:
                if smtp is None:
                    smtp = _connect(
                        host, port, starttls=starttls, username=username, password=password, timeout=timeout
                    )
                smtp.send_message(_email(message, sender=sender))
            except (smtplib.SMTPException, OSError) as error:
                failed += 1
                message.last_error = describe_error(error)
                message.next_attempt_at = clock() + backoff(message.attempts)
                _close(smtp)
                smtp = None
            else:
                sent += 1
                message.sent_at = clock()
                message.last_error = None
                message.next_attempt_at = None
                if on_sent is not None:
                    on_sent(session, message)
            session.commit()
    finally:
        _close(smtp)
    return SendResult(sent=sent, failed=failed, waiting=unsent_count(session))


def describe_error(error: BaseException) -> str:
    """The kind of a failure, without the server's or the system's words (they may carry an address)."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = sorted({str(code) for code, _ in error.recipients.values()})
        return f"recipient refused (SMTP {', '.join(codes)})"
    if isinstance(error, smtplib.SMTPResponseException):
        return f"{type(error).__name__} (SMTP {error.smtp_code})"
    return type(error).__name__


def _connect(
    host: str, port: int, *, starttls: bool, username: str | None, password: str | None, timeout: float
) -> smtplib.SMTP:
    smtp = smtplib.SMTP(host, port, timeout=timeout)
    try:
        smtp.ehlo()
        if starttls:
            smtp.starttls(context=ssl.create_default_context())
            smtp.ehlo()
        if username:
            smtp.login(username, password or "")
    except BaseException:
        _close(smtp)
        raise
    return smtp


def _close(smtp: smtplib.SMTP | None) -> None:
    if smtp is None:
        return
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()


def _email(message: OutboxMessage, *, sender: str) -> EmailMessage:
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.to_address
    email["Subject"] = message.subject
    email["Date"] = format_datetime(message.created_at)
    email["Message-ID"] = make_msgid(idstring=f"outbox-{message.id}", domain=sender.rpartition("@")[2] or None)
    email.set_content(message.body)
    return email
