"""The outbox over real SMTP: a server on loopback receives what is due; a server that is down keeps every
message, counts the attempt, records the kind of error (no personal data) and waits longer each time."""

from __future__ import annotations

import datetime as dt

from smtp_support import free_port, smtp_server
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from commonground.cases.outbox import OutboxMessage, backoff, describe_error, queue_message, send_pending
from commonground.store.db import utcnow


def _queue(sessions: sessionmaker[Session], count: int = 2) -> list[int]:
    with sessions() as db:
        made = [
            queue_message(
                db, kind="notice", to_address=f"lead{i}@school.example", subject=f"Test {i}", body=f"Body {i}\n"
            )
            for i in range(count)
        ]
        db.commit()
        return [m.id for m in made]


def test_due_messages_go_to_a_real_smtp_server(sessions: sessionmaker[Session]) -> None:
    ids = _queue(sessions)
    with smtp_server() as (mailbox, port), sessions() as db:
        result = send_pending(db, host="127.0.0.1", port=port, sender="hub@northshire.example")
        assert (result.sent, result.failed, result.waiting) == (2, 0, 0)
        again = send_pending(db, host="127.0.0.1", port=port, sender="hub@northshire.example")
        assert (again.sent, again.failed) == (0, 0)  # nothing is sent twice
    assert [(rcpt, m["Subject"], m["From"]) for rcpt, m in mailbox.messages] == [
        (["lead0@school.example"], "Test 0", "hub@northshire.example"),
        (["lead1@school.example"], "Test 1", "hub@northshire.example"),
    ]
    assert mailbox.messages[0][1].get_payload().strip() == "Body 0"
    with sessions() as db:
        for message in db.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(ids))):
            assert message.sent_at is not None and message.attempts == 1 and message.last_error is None


def test_a_server_that_is_down_keeps_the_message_and_it_goes_later(sessions: sessionmaker[Session]) -> None:
    [message_id] = _queue(sessions, 1)
    closed = free_port()  # nothing listens there
    with sessions() as db:
        result = send_pending(db, host="127.0.0.1", port=closed, sender="hub@northshire.example")
        assert (result.sent, result.failed, result.waiting) == (0, 1, 1)
        message = db.get_one(OutboxMessage, message_id)
        assert message.sent_at is None and message.attempts == 1
        assert message.last_error == "ConnectionRefusedError"
        assert message.next_attempt_at is not None and message.next_attempt_at > utcnow()
        waiting = send_pending(db, host="127.0.0.1", port=closed, sender="hub@northshire.example")
        assert (waiting.sent, waiting.failed, waiting.waiting) == (0, 0, 1)  # not due yet: not tried
        later = message.next_attempt_at + dt.timedelta(seconds=1)
        second = send_pending(db, host="127.0.0.1", port=closed, sender="hub@northshire.example", now=later)
        assert second.failed == 1
        db.refresh(message)
        assert message.attempts == 2 and message.sent_at is None
        with smtp_server() as (mailbox, port):
            last = send_pending(
                db, host="127.0.0.1", port=port, sender="hub@northshire.example", now=later + dt.timedelta(hours=1)
            )
        assert (last.sent, last.waiting) == (1, 0)
        db.refresh(message)
        assert message.attempts == 3 and message.sent_at is not None and message.last_error is None
    assert [rcpt for rcpt, _ in mailbox.messages] == [["lead0@school.example"]]


def test_backoff_doubles_up_to_half_an_hour() -> None:
    assert [backoff(n).total_seconds() / 60 for n in (1, 2, 3, 4, 5, 6, 7, 100)] == [1, 2, 4, 8, 16, 30, 30, 30]


def test_errors_are_described_without_the_servers_words() -> None:
    import smtplib

    refused = smtplib.SMTPRecipientsRefused({"child.name@school.example": (550, b"no such user child.name")})
    assert describe_error(refused) == "recipient refused (SMTP 550)"
    assert describe_error(smtplib.SMTPDataError(451, b"try later, Amberly")) == "SMTPDataError (SMTP 451)"
    assert describe_error(OSError("boom")) == "OSError"
