"""The SMTP server down for an hour of notices on a simulated clock (#18)."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from faults_load import free_port


@dataclass
class SmtpFigures:
    messages: int
    failed_attempts: int
    delivered: int
    delivered_twice: int
    lost: int
    attempts_per_message: Counter[int]
    problems: list[str]


def smtp_outage(data_dir: Path, *, minutes: int = 60, new_every: int = 5) -> SmtpFigures:
    """The outbox of a synced hub (``hub sync`` queued its notices' emails) sent every simulated minute for
    ``minutes`` while nothing listens on the SMTP port, with two more notices' emails queued every ``new_every``
    minutes; then a real SMTP server (aiosmtpd) starts on that port and sending goes on for an hour more. Every
    message must arrive exactly once, and each failed message must wait as the backoff says."""
    from aiosmtpd.controller import Controller
    from sqlalchemy import select

    from commonground.cases.notices import mark_notice_sent
    from commonground.cases.outbox import OutboxMessage, queue_message, send_pending
    from commonground.store.db import make_engine, session_factory, utcnow

    received: list[str] = []

    class Mailbox:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # aiosmtpd calls it so
            found = re.search(rb"Message-ID: <[^>@]*outbox-(\d+)@", envelope.content)
            received.append(found.group(1).decode() if found else "?")
            return "250 accepted"

    port = free_port()
    engine = make_engine(f"sqlite:///{data_dir / 'operational.sqlite'}")
    start = utcnow()
    problems: list[str] = []
    failed = 0
    try:
        sessions = session_factory(engine)
        controller: Controller | None = None
        for minute in range(minutes * 2 + 1):
            now = start + dt.timedelta(minutes=minute)
            if minute == minutes:
                controller = Controller(Mailbox(), hostname="127.0.0.1", port=port)
                controller.start()
            with sessions() as db:
                if minute < minutes and minute % new_every == 0:
                    for n in range(2):
                        queue_message(
                            db,
                            kind="notice",
                            to_address=f"lead{n}@school.example",
                            subject="A new Operation Encompass notice",
                            body=f"minute {minute}\n",
                        )
                    db.commit()
                result = send_pending(
                    db,
                    host="127.0.0.1",
                    port=port,
                    sender="hub@faults.example",
                    now=now,
                    timeout=5,
                    on_sent=mark_notice_sent,
                )
                failed += result.failed
        if controller is not None:
            controller.stop()
        with sessions() as db:
            rows = db.execute(select(OutboxMessage.id, OutboxMessage.attempts, OutboxMessage.sent_at)).all()
    finally:
        engine.dispose()
    counts = Counter(received)
    twice = sum(1 for n in counts.values() if n > 1)
    lost = sum(1 for r in rows if r.sent_at is None or str(r.id) not in counts)
    if twice:
        problems.append(f"{twice} messages were delivered more than once")
    if lost:
        problems.append(f"{lost} messages were not delivered")
    expected = _expected_attempts(minutes)
    first = [r.attempts for r in rows if r.id == min(x.id for x in rows)]
    if first and first[0] != expected:
        problems.append(f"the first message was tried {first[0]} times; the backoff says {expected}")
    return SmtpFigures(len(rows), failed, len(received), twice, lost, Counter(r.attempts for r in rows), problems)


def _expected_attempts(minutes: int) -> int:
    """Tries of a message queued at minute 0 and sent every minute, the server down until ``minutes``: the failures
    at 0, 1, 3, 7, 15, 31 (waits of 1, 2, 4, 8, 16, then 30 minutes) before ``minutes``, and the one that goes."""
    from commonground.cases.outbox import backoff

    at, tries = 0.0, 0
    while at < minutes:
        tries += 1
        at += backoff(tries).total_seconds() / 60
    return tries + 1
