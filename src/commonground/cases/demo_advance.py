"""Moving a demo's clock on (``commonground demo --advance 1d``): the held-back records of each day the clock
reaches are delivered as the partners' extracts of that day, ingested as a new batch per feed, linked, flagged as
of the tick, and brought into the hub (new work items, Operation Encompass notices with their emails in the
outbox); then the clock moves, and the service shows every deadline by it (:mod:`commonground.cases.demo_clock`).

Each tick is done whole (delivered, linked, flagged, synced) and the clock kept before the next one starts, so an
advance that stops half-way (Ctrl+C, a full disk) leaves a demo at a tick, and running it again goes on from there.
Delivering a day twice is harmless: its extract is the same bytes, and ingest loads a batch once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from sqlalchemy import func, select

from commonground.cases.demo_clock import UK, DemoClock, Tick, describe, read_clock, write_clock
from commonground.cases.sync import SyncResult, sync_current_build
from commonground.cases.work_items import WorkItem, WorkItemStatus
from commonground.contracts.values import clock_moved_on
from commonground.errors import UserError
from commonground.settings import Settings
from commonground.store.db import make_engine, session_factory, utcnow
from commonground.store.settings import hub_settings
from commonground.synth.release import Span, release
from commonground.synth.shift import FEEDS_FOLDER

RELEASED_FOLDER = "released"
"""Under the moved area: one folder of extracts per delivery (``initial``, then one per day)."""


@dataclass(frozen=True)
class Delivery:
    """One tick: the day delivered, and what it brought."""

    tick: Tick
    rows: dict[str, int]
    """Rows of each feed accepted by ingest."""
    work_items: int
    notices: int
    emails: int

    @property
    def incidents(self) -> int:
        return self.rows.get("police_incidents", 0)


@dataclass(frozen=True)
class Advance:
    before: DemoClock
    after: DemoClock
    deliveries: tuple[Delivery, ...]
    deadlines_passed: int
    """Open work items whose deadline fell between the service's clock before and after."""

    @property
    def incidents(self) -> int:
        return sum(d.incidents for d in self.deliveries)

    @property
    def work_items(self) -> int:
        return sum(d.work_items for d in self.deliveries)

    @property
    def notices(self) -> int:
        return sum(d.notices for d in self.deliveries)

    @property
    def emails(self) -> int:
        return sum(d.emails for d in self.deliveries)

    @property
    def next_tick(self) -> Tick | None:
        """The next delivery, if the area has a day left to deliver."""
        following = self.after.tick(self.after.advanced // dt.timedelta(days=1) + 1)
        return following if following.day <= self.after.last_day else None


def demo_clock_of(data_dir: Path) -> DemoClock:
    """The demo's clock, or a refusal that says why this data directory's clock cannot move."""
    clock = read_clock(data_dir)
    if clock is not None:
        return clock
    from commonground.ingest import store_path

    if store_path(data_dir).exists():
        raise UserError(
            "This demo was built before its clock could move on: it holds nothing back to deliver. A new data "
            "directory (--data-dir) gives a demo whose clock can be moved on."
        )
    raise UserError("There is no demo in this data directory: build one first with `commonground demo`.")


def check_advance(clock: DemoClock, by: dt.timedelta) -> None:
    """Refuse, changing nothing, an advance past the tick that delivers the area's last day."""
    room = clock.limit - clock.advanced
    if clock.advanced + by <= clock.limit:
        return
    end = f"the synthetic area's records end on {clock.last_day:%A %-d %B %Y}"
    if room <= dt.timedelta(0):
        raise UserError(
            f"The demo's clock cannot move on: {end}, and all of them have been delivered. Nothing was changed; "
            "a new data directory (--data-dir) gives a new demo."
        )
    raise UserError(
        f"The demo's clock can move on by {describe(room)} at most ({end}, delivered at "
        f"{clock.origin + clock.limit:%H:%M on %A %-d %B %Y}). Nothing was changed."
    )


def advance_demo(
    settings: Settings,
    *,
    by: dt.timedelta,
    now: dt.datetime | None = None,
    on_tick: Callable[[Tick], None] | None = None,
) -> Advance:
    """Move the demo's clock in ``settings.data_dir`` on by ``by``: deliver, link, flag and sync every tick it
    crosses, then keep the clock. ``now`` is the real clock (for the deadlines that pass on the service's clock)."""
    data_dir = settings.data_dir
    clock = demo_clock_of(data_dir)
    check_advance(clock, by)
    start = clock
    target = clock.advanced + by
    area = data_dir / "demo-area" / clock.area
    deliveries = []
    for tick in clock.ticks_until(target):
        if on_tick is not None:
            on_tick(tick)
        deliveries.append(_deliver(settings, area=area, clock=clock, tick=tick))
        clock = clock.moved_to(tick)
        write_clock(data_dir, clock)
    clock = replace(clock, advanced=target)
    write_clock(data_dir, clock)
    real = now or utcnow()
    passed = deadlines_between(settings, real + start.advanced, real + clock.advanced)
    return Advance(before=start, after=clock, deliveries=tuple(deliveries), deadlines_passed=passed)


def release_folder(area: Path, name: str) -> Path:
    return area / RELEASED_FOLDER / name


def _deliver(settings: Settings, *, area: Path, clock: DemoClock, tick: Tick) -> Delivery:
    """One tick: the day's extracts, ingested (checked against the demo's clock at the tick), linked, flagged as of
    the tick and brought into the hub."""
    from commonground.ingest import ingest_directory
    from commonground.linkage.builds import require_current_build
    from commonground.linkage.pipeline import build_from_store
    from commonground.rules import run_rules

    data_dir = settings.data_dir
    span = Span(after=clock.released_through, through=tick.day, last_day=clock.last_day)
    extract = release(feeds=area / FEEDS_FOLDER, out=release_folder(area, tick.day.isoformat()), span=span)
    with clock_moved_on(tick.at - clock.origin):
        result = ingest_directory(source=extract.folder, data_dir=data_dir)
    rows = {f.feed: f.rows_accepted for f in result.files if f.feed is not None}
    build_from_store(data_dir=data_dir)
    run_rules(build_dir=require_current_build(data_dir).path, as_of=tick.at)
    synced = _sync(settings, clock=clock, tick=tick)
    return Delivery(
        tick=tick,
        rows=rows,
        work_items=synced.work_items.created,
        notices=synced.notices,
        emails=synced.emails_queued,
    )


def _sync(settings: Settings, *, clock: DemoClock, tick: Tick) -> SyncResult:
    """Bring the hub up to date with the tick's build, on the demo's clock at the tick (the real one has not reached
    it: a new item is in the queue from the tick, whenever the advance runs)."""
    hub = hub_settings(settings)
    engine = make_engine(hub.resolved_database_url)
    try:
        with session_factory(engine)() as session:
            synced = sync_current_build(
                session,
                data_dir=settings.data_dir,
                base_url=hub.public_url,
                live_from=clock.live_from,
                now=tick.at.replace(tzinfo=UK),
            )
            session.commit()
    finally:
        engine.dispose()
    return synced


def deadlines_between(settings: Settings, start: dt.datetime, end: dt.datetime) -> int:
    """Open work items whose deadline falls after ``start`` and by ``end``."""
    engine = make_engine(hub_settings(settings).resolved_database_url)
    try:
        with session_factory(engine)() as session:
            found = session.scalar(
                select(func.count(WorkItem.id)).where(
                    WorkItem.status != WorkItemStatus.CLOSED, WorkItem.due_by > start, WorkItem.due_by <= end
                )
            )
    finally:
        engine.dispose()
    return int(found or 0)


def hold_back(data_dir: Path, *, area: Path, last_day: dt.date, now: dt.datetime | None = None) -> DemoClock:
    """Start a new demo's clock over a moved area whose records end on ``last_day``: its first extracts hold every
    day but the last :data:`HELD_BACK_DAYS` (written to ``released/initial``), and its present moment is the day
    after them at the real clock's time of day. Kept in the data directory; returns it."""
    from commonground.cases.demo_clock import HELD_BACK_DAYS

    through = last_day - dt.timedelta(days=HELD_BACK_DAYS)
    local = (now or utcnow()).astimezone(UK).replace(tzinfo=None, microsecond=0)
    clock = DemoClock(
        area=area.name,
        origin=dt.datetime.combine(through + dt.timedelta(days=1), local.time()),
        last_day=last_day,
        released_through=through,
    )
    release(feeds=area / FEEDS_FOLDER, out=release_folder(area, "initial"), span=Span(None, through, last_day))
    write_clock(data_dir, clock)
    return clock
