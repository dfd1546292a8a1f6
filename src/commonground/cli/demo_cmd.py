"""``commonground demo``: a synthetic area built, linked, flagged and served in the web app, with demo accounts."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer

from commonground.cli.app import app, err, out, settings_of, user_errors
from commonground.cli.data_cmd import print_ingest_summary, print_synth_summary
from commonground.cli.link_cmd import print_build_summary
from commonground.cli.progress import progress_bars
from commonground.cli.rules_cmd import print_rules_summary
from commonground.settings import Settings

UK = ZoneInfo("Europe/London")


RUN_DAYS_AGO = (6, 3, 1, 0)
"""When the demo's rules ran, in days before its present moment: the hub has been live for a week."""


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
    """The demo's present moment (UK local wall-clock time, naive as the rules take it): the day after the area's
    last day at the real clock's time of day. For an area moved to end yesterday (``commonground demo``), that is
    now; for an area that ends on its fixed day, the morning, afternoon or evening after it."""
    local = (now or dt.datetime.now(dt.UTC)).astimezone(UK).replace(tzinfo=None)
    return dt.datetime.combine(last_day + dt.timedelta(days=1), local.time().replace(microsecond=0))


def rules_moments(area: Path, *, now: dt.datetime | None = None) -> list[dt.datetime]:
    """When the demo runs the rules: 6, 3 and 1 days before the demo's present moment, and at it, so that the
    queues hold a week of flags, each in the queue from the run that raised it: nothing is more than a week
    overdue, and what arrived yesterday is due from now (red within 2 hours, amber 6, green 24; a school's notice
    by 08:30 on the next school day after the incident)."""
    clock = demo_clock(area_last_day(area), now=now)
    return [clock - dt.timedelta(days=k) for k in RUN_DAYS_AGO]


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
        bool, typer.Option("--serve/--no-serve", help="Serve the web app when the area is ready (default: yes).")
    ] = True,
) -> None:
    """Build a synthetic area, ingest every feed, link people and households, run the rules, set up a demonstration
    partnership with an account for every role, and serve the web app."""
    from commonground.ingest import ingest_directory
    from commonground.linkage.builds import current_build_id
    from commonground.linkage.pipeline import build_from_store
    from commonground.synth import generate

    settings = settings_of(ctx)
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
        result = ingest_directory(source=feeds_of(loaded_area), data_dir=data_dir, on_progress=on_progress)
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
    _print_accounts(accounts, password, host=host, port=port)
    if serve:
        _serve(settings, host=host, port=port)


def moved_area(data_dir: Path, *, area: Path, name: str) -> Path:
    """The area as the demo loads it: a copy with every date moved so that its records end yesterday
    (``data_dir/demo-area/<name>``, made once and kept: the store holds its records as they were loaded). A data
    directory whose store was loaded before demos were moved in time keeps the area as it is."""
    from commonground.ingest import store_path
    from commonground.synth.shift import days_to_end_on, read_shift, shift_area

    moved = data_dir / "demo-area" / name
    shift = read_shift(moved)
    if shift is None and store_path(data_dir).exists():
        out.print(
            "This data directory was loaded before the demo moved its area in time: its records keep their own "
            "dates, and deadlines show as overdue. A new data directory (--data-dir) gives a demo that ends yesterday."
        )
        return area
    if shift is None:
        days = days_to_end_on(last_day=area_last_day(area), end_on=yesterday())
        summary = shift_area(source=area, out=moved, days=days)
        out.print(
            f"Moved every date of the area's {summary.rows:,} records by {days:,} days so that they end yesterday "
            f"({summary.cells_moved:,} dates moved; {summary.cells_kept:,} blank or not a real date, kept as is)."
        )
    else:
        last = area_last_day(moved)
        late = (yesterday() - last).days
        out.print(
            f"Reusing the area as moved on first load ({shift['days']} days): its records end on {last:%-d %B %Y}"
            + (f", {late} days before yesterday, so more of its deadlines have passed." if late > 0 else ".")
        )
    return moved


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
        moments = rules_moments(area, now=now) if run_rules_again or view_path(build.path) is None else []
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
