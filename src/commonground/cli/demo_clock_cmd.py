"""``commonground demo --advance``: move a demo's clock on and say what happened, in the words a trainer reads out
(the work is :mod:`commonground.cases.demo_advance`'s)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

from commonground.cases.demo_clock import Tick, describe, parse_duration, read_clock
from commonground.cli.app import out
from commonground.settings import Settings

if TYPE_CHECKING:
    from commonground.cases.demo_advance import Advance


def advance_clock(settings: Settings, text: str, *, now: dt.datetime | None = None) -> Advance:
    """``demo --advance TIME``: move the demo's clock on, delivering each day it reaches, and say what happened."""
    from commonground.cases.demo_advance import advance_demo, check_advance, demo_clock_of

    by = parse_duration(text)
    clock = demo_clock_of(settings.data_dir)
    check_advance(clock, by)  # before anything is printed as started
    out.print(f"Moving the demo's clock on by {describe_span(by)} from {clock.now:%H:%M on %A %-d %B %Y}.")

    def on_tick(tick: Tick) -> None:
        out.print(
            f"Delivering the records of {tick.day:%A %-d %B %Y} and running the rules as of {tick.at:%H:%M} "
            f"on {tick.at:%A %-d %B} ..."
        )

    result = advance_demo(settings, by=by, now=now, on_tick=on_tick)
    print_advance(result)
    return result


def describe_span(span: dt.timedelta) -> str:
    return describe(span)


def print_advance(result: Advance) -> None:
    """What an advance did, in the words a trainer reads out."""
    n = len(result.deliveries)
    words = [
        f"{result.incidents:,} new incident{'s' if result.incidents != 1 else ''}",
        f"{result.work_items:,} new work item{'s' if result.work_items != 1 else ''}",
        f"{result.notices:,} notice{'s' if result.notices != 1 else ''} to schools",
        f"{result.deadlines_passed:,} deadline{'s' if result.deadlines_passed != 1 else ''} passed",
    ]
    out.print(
        f"The demo's clock reads {result.after.now:%H:%M on %A %-d %B %Y}: "
        + (
            f"{n} day{'s' if n != 1 else ''} of records delivered. "
            if n
            else "no records were due (the feeds arrive once a day). "
        )
        + ", ".join(words)
        + "."
    )
    if result.emails:
        out.print(
            f"{result.emails:,} email{'s' if result.emails != 1 else ''} to schools' safeguarding leads "
            f"{'wait' if result.emails != 1 else 'waits'} in the outbox "
            "(`commonground hub send-notices` sends them through COMMONGROUND_SMTP_*)."
        )
    following = result.next_tick
    if following is None:
        out.print("Every record of the synthetic area has been delivered: the clock cannot move on further.")
    else:
        room = describe_span(result.after.limit - result.after.advanced)
        out.print(
            f"The next records arrive at {following.at:%H:%M on %A %-d %B %Y}; the clock can move on by {room} more. "
            "A web app serving this data directory shows deadlines by the moved clock."
        )


def print_clock(data_dir: Path) -> None:
    """After ``commonground demo``: where the demo's clock stands, and how to move it on."""
    clock = read_clock(data_dir)
    if clock is None:
        return
    room = describe_span(clock.limit - clock.advanced)
    if clock.advanced:
        out.print(f"The demo's clock has been moved on by {describe_span(clock.advanced)} (`demo --advance`).")
    if clock.limit <= clock.advanced:
        out.print("Every record of the synthetic area has been delivered: the clock cannot move on further.")
        return
    out.print(
        f"The last {room} of the area's records are held back: `commonground demo --advance 1d` moves the "
        "demo's clock on a day (new incidents arrive, notices go, deadlines pass)."
    )
