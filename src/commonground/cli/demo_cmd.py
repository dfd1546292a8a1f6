"""``commonground demo``: a synthetic area built, linked, flagged and served in the web app, with demo accounts."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path
from typing import Annotated

import typer

from commonground.cli.app import app, err, out, settings_of, user_errors
from commonground.cli.data_cmd import print_ingest_summary, print_synth_summary
from commonground.cli.link_cmd import print_build_summary
from commonground.cli.progress import progress_bars
from commonground.cli.rules_cmd import print_rules_summary
from commonground.settings import Settings


def rules_moments(area: Path) -> list[dt.datetime]:
    """When the demo runs the rules: every fortnight for six weeks up to the morning after the synthetic area's last
    day, so that the queues hold several weeks of flags (the area's records end on a fixed day, never today)."""
    manifest = json.loads((area / "truth" / "manifest.json").read_text(encoding="utf-8"))
    last_day = dt.date.fromisoformat(manifest["window"]["end"])
    morning = dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time(7, 0))
    return [morning - dt.timedelta(days=14 * k) for k in (3, 2, 1, 0)]


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
    with progress_bars(err) as on_progress:
        result = ingest_directory(source=area, data_dir=data_dir, on_progress=on_progress)
    print_ingest_summary(json.loads(result.to_json()), data_dir=data_dir)
    fresh = bool(result.totals()["loaded"]) or current_build_id(data_dir) is None
    if fresh:
        with progress_bars(err) as on_progress:
            build = build_from_store(data_dir=data_dir, on_progress=on_progress)
        print_build_summary(build)
    else:
        out.print(f"Nothing new was loaded: build {current_build_id(data_dir)} stays current.")
    accounts, password = set_up_partnership(settings, area, run_rules_again=fresh)
    out.print(f"Ready in {time.perf_counter() - started:.0f} s.")
    _print_accounts(accounts, password, host=host, port=port)
    if serve:
        _serve(settings, host=host, port=port)


def set_up_partnership(settings: Settings, area: Path, *, run_rules_again: bool) -> tuple[list[object], str]:
    """Upgrade the operational store, add the demonstration partnership (and the good-practice library and a
    landscape survey written for the demo), run the rules fortnightly for six weeks and bring the hub up to date
    with the build after each run."""
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
        moments = rules_moments(area) if run_rules_again or view_path(build.path) is None else []
        for moment in moments:
            out.print(f"Running the rules as of {moment:%-d %B %Y, %H:%M} ...")
            print_rules_summary(run_rules(build_dir=build.path, as_of=moment))
            with sessions() as session:
                print_sync_summary(sync_current_build(session, data_dir=settings.data_dir, base_url=hub.public_url))
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
