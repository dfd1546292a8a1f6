"""``commonground demo``: a synthetic area built, linked, flagged and served in the web app, with demo accounts."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer

from commonground.cases.demo_clock import RUN_DAYS_AGO
from commonground.cli.app import app, err, out, settings_of, user_errors
from commonground.cli.data_cmd import print_ingest_summary, print_synth_summary
from commonground.cli.demo_clock_cmd import advance_clock, print_clock
from commonground.cli.link_cmd import print_build_summary
from commonground.cli.progress import progress_bars
from commonground.cli.rules_cmd import print_rules_summary
from commonground.settings import Settings

UK = ZoneInfo("Europe/London")


def area_last_day(area: Path) -> dt.date:
    """The last day of the area's records: as moved (``shift.json``), or from the area's truth."""
    from commonground.synth.shift import read_shift

    shift = read_shift(area)
    window = shift.get("shifted_window") if shift is not None else None
    if isinstance(window, dict):
        return dt.date.fromisoformat(str(window["end"]))
    manifest = json.loads((area / "truth" / "manifest.json").read_text(encoding="utf-8"))
    return dt.date.fromisoformat(manifest["window"]["end"])


def demo_clock(last_day: dt.date, *, now: dt.datetime | None = None) -> dt.datetime:
    """The present moment of a demo whose records end on ``last_day`` (UK local wall-clock time, naive as the rules
    take it): the day after it at the real clock's time of day."""
    local = (now or dt.datetime.now(dt.UTC)).astimezone(UK).replace(tzinfo=None)
    return dt.datetime.combine(last_day + dt.timedelta(days=1), local.time().replace(microsecond=0))


def demo_present(data_dir: Path, area: Path, *, now: dt.datetime | None = None) -> dt.datetime:
    """The demo's present moment: its clock's (:mod:`commonground.cases.demo_clock`), or, for a demo built before
    its clock could move, the day after its area's last day."""
    from commonground.cases.demo_clock import read_clock

    clock = read_clock(data_dir)
    return clock.now if clock is not None else demo_clock(area_last_day(area), now=now)


def rules_moments(present: dt.datetime) -> list[dt.datetime]:
    """When the demo runs the rules: 6, 3 and 1 days before its present moment, and at it, so that the queues hold
    a week of flags, each in the queue from the run that raised it: nothing is more than a week overdue, and what
    arrived yesterday is due from now (red within 2 hours, amber 6, green 24; a school's notice by 08:30 on the next
    school day after the incident)."""
    return [present - dt.timedelta(days=k) for k in RUN_DAYS_AGO]


def yesterday(*, now: dt.datetime | None = None) -> dt.date:
    """Yesterday in the UK."""
    return (now or dt.datetime.now(dt.UTC)).astimezone(UK).date() - dt.timedelta(days=1)


@app.command()
@user_errors
def demo(
    ctx: typer.Context,
    people: Annotated[int, typer.Option("--people", min=100, help="Size of the synthetic area.")] = 10_000,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the synthetic area.")] = 1,
    host: Annotated[str, typer.Option("--host", help="Address the web app listens on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port the web app listens on.")] = 8000,
    serve: Annotated[
        bool | None,
        typer.Option(
            "--serve/--no-serve",
            help="Serve the web app when the area is ready (default: yes, but not after --advance).",
        ),
    ] = None,
    advance: Annotated[
        str | None,
        typer.Option(
            "--advance",
            metavar="TIME",
            help="Move the demo's clock on (1d, 6h, 2d12h, 1w): new records arrive, notices go, deadlines pass.",
        ),
    ] = None,
) -> None:
    """Build a synthetic area, ingest every feed, link people and households, run the rules, set up a demonstration
    partnership with an account for every role, and serve the web app. With --advance, move an existing demo's
    clock on instead (a web app already serving it follows)."""
    settings = settings_of(ctx)
    if advance is not None:
        advance_clock(settings, advance)
        if serve:
            _serve(settings, host=host, port=port)
        return
    accounts, password = build_demo(settings, people=people, seed=seed)
    _print_accounts(accounts, password, host=host, port=port)
    if serve is None or serve:
        _serve(settings, host=host, port=port)


def build_demo(settings: Settings, *, people: int, seed: int) -> tuple[list[object], str]:
    """Generate (or reuse) the area, move it in time, ingest what its clock has delivered, link, flag and set up
    the partnership; returns the demo accounts and their password."""
    from commonground.ingest import ingest_directory
    from commonground.linkage.builds import current_build_id
    from commonground.linkage.pipeline import build_from_store
    from commonground.synth import generate

    data_dir = settings.data_dir
    area = data_dir / "synthetic-area" / f"seed-{seed}-people-{people}"
    started = time.perf_counter()
    out.print(f"[bold]commonground demo[/]: a synthetic area of {people:,} people (seed {seed}) in {data_dir}")
    if (area / "truth" / "manifest.json").exists():
        out.print(f"Reusing the synthetic area already at {area}.")
    else:
        with progress_bars(err) as on_progress:
            summary = generate(people=people, seed=seed, out=area, on_progress=on_progress)
        print_synth_summary(summary)
    loaded_area = moved_area(data_dir, area=area, name=area.name)
    with progress_bars(err) as on_progress:
        result = ingest_directory(source=delivered(data_dir, loaded_area), data_dir=data_dir, on_progress=on_progress)
    print_ingest_summary(json.loads(result.to_json()), data_dir=data_dir)
    fresh = bool(result.totals()["loaded"]) or current_build_id(data_dir) is None
    if fresh:
        with progress_bars(err) as on_progress:
            build = build_from_store(data_dir=data_dir, on_progress=on_progress)
        print_build_summary(build)
    else:
        out.print(f"Nothing new was loaded: build {current_build_id(data_dir)} stays current.")
    accounts, password = set_up_partnership(settings, loaded_area, run_rules_again=fresh)
    out.print(f"Ready in {time.perf_counter() - started:.0f} s.")
    print_clock(data_dir)
    return accounts, password


def moved_area(data_dir: Path, *, area: Path, name: str, now: dt.datetime | None = None) -> Path:
    """The area as the demo loads it: a copy with every date moved so that, once its last
    :data:`~commonground.cases.demo_clock.HELD_BACK_DAYS` days are held back for the clock to deliver, its records
    end yesterday (``data_dir/demo-area/<name>``, made once and kept: the store holds its records as they were
    loaded). A data directory whose store was loaded before demos were moved in time keeps the area as it is."""
    from commonground.cases.demo_clock import HELD_BACK_DAYS, read_clock
    from commonground.ingest import store_path
    from commonground.synth.shift import days_to_end_on, read_shift, shift_area

    moved = data_dir / "demo-area" / name
    shift = read_shift(moved)
    loaded = store_path(data_dir).exists()
    if shift is None and loaded:
        out.print(
            "This data directory was loaded before the demo moved its area in time: its records keep their own "
            "dates, and deadlines show as overdue. A new data directory (--data-dir) gives a demo that ends yesterday."
        )
        return area
    if shift is None or (not loaded and read_clock(data_dir) is None):
        end_on = yesterday(now=now) + dt.timedelta(days=HELD_BACK_DAYS)
        days = days_to_end_on(last_day=area_last_day(area), end_on=end_on)
        summary = shift_area(source=area, out=moved, days=days)
        out.print(
            f"Moved every date of the area's {summary.rows:,} records by {days:,} days so that they end yesterday, "
            f"once the last {HELD_BACK_DAYS} days are held back for `demo --advance` to deliver "
            f"({summary.cells_moved:,} dates moved; {summary.cells_kept:,} blank or not a real date, kept as is)."
        )
        return moved
    clock = read_clock(data_dir)
    if clock is None:
        last = area_last_day(moved)
        late = (yesterday(now=now) - last).days
        out.print(
            f"Reusing the area as moved on first load ({shift['days']} days): its records end on {last:%-d %B %Y}"
            + (f", {late} days before yesterday, so more of its deadlines have passed." if late > 0 else ".")
        )
    else:
        out.print(f"Reusing the area as moved on first load ({shift['days']} days).")
    return moved


def delivered(data_dir: Path, area: Path, *, now: dt.datetime | None = None) -> Path:
    """The folder of feed files the demo ingests on first load: the extracts its clock has delivered (the clock is
    started, holding the area's last days back, on the first load of a new data directory), or, for a demo built
    before its clock could move, the whole area."""
    from commonground.cases.demo_advance import hold_back, release_folder
    from commonground.cases.demo_clock import read_clock
    from commonground.ingest import store_path
    from commonground.synth.shift import read_shift

    if read_shift(area) is None:
        return area
    if read_clock(data_dir) is None:
        if store_path(data_dir).exists():
            return feeds_of(area)
        hold_back(data_dir, area=area, last_day=area_last_day(area), now=now)
    return release_folder(area, "initial")


def feeds_of(area: Path) -> Path:
    """The folder of feed files to ingest: a moved area keeps them in ``feeds/``."""
    from commonground.synth.shift import FEEDS_FOLDER, read_shift

    return area / FEEDS_FOLDER if read_shift(area) is not None else area


def set_up_partnership(
    settings: Settings, area: Path, *, run_rules_again: bool, now: dt.datetime | None = None
) -> tuple[list[object], str]:
    """Upgrade the operational store, add the demonstration partnership (and the good-practice library and a
    landscape survey written for the demo), run the rules four times over the week up to the demo's present moment
    (:func:`rules_moments`) and bring the hub up to date with the build after each run. The hub is live from the
    first run: a domestic-abuse incident before it is not a new notice (its school was told before the hub)."""
    from commonground.cases.demo import DEMO, demo_password, seed_partnership
    from commonground.cases.person_view import view_path
    from commonground.cases.sync import sync_current_build
    from commonground.cli.hub_cmd import print_sync_summary
    from commonground.linkage.builds import require_current_build
    from commonground.rules import run_rules
    from commonground.store.db import make_engine, session_factory
    from commonground.store.migrate import upgrade
    from commonground.store.settings import hub_settings
    from commonground.whatworks.seed import seed_landscape, seed_library

    hub = hub_settings(settings)
    upgrade(hub.resolved_database_url)
    engine = make_engine(hub.resolved_database_url)
    password = demo_password(settings.data_dir)
    build = require_current_build(settings.data_dir)
    try:
        sessions = session_factory(engine)
        with sessions() as session:
            accounts = seed_partnership(session, build_path=build.path, password=password)
            seed_library(session, DEMO)
            seed_landscape(session, DEMO)
            session.commit()
        present = demo_present(settings.data_dir, area, now=now)
        moments = rules_moments(present) if run_rules_again or view_path(build.path) is None else []
        for moment in moments:
            out.print(f"Running the rules as of {moment:%-d %B %Y, %H:%M} ...")
            print_rules_summary(run_rules(build_dir=build.path, as_of=moment))
            with sessions() as session:
                synced = sync_current_build(
                    session,
                    data_dir=settings.data_dir,
                    base_url=hub.public_url,
                    live_from=moments[0].replace(tzinfo=UK),
                )
                print_sync_summary(synced)
                if synced.before_live:
                    out.print(
                        f"{synced.before_live:,} incidents from before the hub's first day were not made notices."
                    )
                session.commit()
    finally:
        engine.dispose()
    return list(accounts), password


def _print_accounts(accounts: list[object], password: str, *, host: str, port: int) -> None:
    from commonground.cases.demo import DemoAccount

    out.print("[bold]Demo accounts[/] (all synthetic; sign in with the email address):")
    for account in accounts:
        assert isinstance(account, DemoAccount)
        out.print(
            f"  {account.email:<34} {account.role.label}, {account.organisation}", highlight=False, soft_wrap=True
        )
    out.print(f"Every demo account's password: [bold]{password}[/] (kept in the data directory as demo-password).")
    out.print(f"The web app: [bold]http://{host}:{port}/[/]  (API reference: http://{host}:{port}/api/docs)")


def _serve(settings: Settings, *, host: str, port: int) -> None:
    import uvicorn

    from commonground.store.settings import hub_settings
    from commonground.web.app import create_app, settle_for_serving

    hub = hub_settings(settings, cookie_secure=False)  # plain HTTP on this machine; production needs HTTPS
    out.print("Serving; stop with Ctrl+C.")
    app = create_app(hub)
    settle_for_serving()
    uvicorn.run(app, host=host, port=port, access_log=False, log_level="warning")
