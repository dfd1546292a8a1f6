"""The SMTP server down for an hour of notices on a simulated clock: the outbox is sent every minute while nothing
listens, new notices' emails keep coming, then a real server (aiosmtpd) starts: every message arrives exactly
once, and a message waits as the backoff says (1, 2, 4, ... minutes, at most 30) on the simulated clock."""

from __future__ import annotations

import shutil
from pathlib import Path

import faults


def test_an_hour_without_smtp_loses_nothing_and_sends_nothing_twice(sqlite_template: Path, tmp_path: Path) -> None:
    shutil.copy(sqlite_template, tmp_path / "operational.sqlite")
    figures = faults.smtp_outage(tmp_path, minutes=60)
    assert figures.messages == 24
    assert figures.problems == []
    assert (figures.delivered, figures.lost, figures.delivered_twice) == (24, 0, 0)
    assert figures.attempts_per_message[faults._expected_attempts(60)] >= 1
