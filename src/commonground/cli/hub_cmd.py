"""Commands of the hub service: ``db``, ``organisations``, ``users``, ``agreements``, ``audit`` and ``serve``."""

from __future__ import annotations

import getpass
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from commonground.cli.app import app, err, out, settings_of, user_errors
from commonground.errors import UserError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from commonground.access.audit import Actor
    from commonground.store.settings import HubSettings

db_app = typer.Typer(help="The operational store: create or upgrade its tables.", no_args_is_help=True)
organisations_app = typer.Typer(help="Partner organisations.", no_args_is_help=True)
users_app = typer.Typer(help="People who can sign in.", no_args_is_help=True)
agreements_app = typer.Typer(help="Data-sharing agreements.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit log.", no_args_is_help=True)
hub_app = typer.Typer(help="Keep the hub up to date with the analytical store, and its outbox.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(organisations_app, name="organisations")
app.add_typer(users_app, name="users")
app.add_typer(agreements_app, name="agreements")
app.add_typer(audit_app, name="audit")
app.add_typer(hub_app, name="hub")


def _hub(ctx: typer.Context) -> HubSettings:
    from commonground.store.settings import hub_settings

    return hub_settings(settings_of(ctx))


def _cli_actor() -> Actor:
    from commonground.access.audit import Actor

    return Actor(label=f"cli:{getpass.getuser()}")


@contextmanager
def _store(ctx: typer.Context) -> Iterator[Session]:
    """A session on an up-to-date operational store; committed when the block ends without error."""
    from sqlalchemy.exc import OperationalError

    from commonground.store.db import make_engine, session_factory
    from commonground.store.migrate import current_revision, head_revision

    engine = make_engine(_hub(ctx).resolved_database_url)
    try:
        with engine.connect() as connection:
            if current_revision(connection) != head_revision():
                raise UserError("the operational store is not up to date: run `commonground db upgrade` first")
        with session_factory(engine)() as session:
            yield session
            session.commit()
    except OperationalError as error:
        raise UserError(f"cannot open the operational store: {error.orig}") from None
    finally:
        engine.dispose()


@db_app.command("upgrade")
@user_errors
def db_upgrade(ctx: typer.Context) -> None:
    """Create the operational store or bring it up to the newest migration."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import OperationalError

    from commonground.store.migrate import upgrade

    url = _hub(ctx).resolved_database_url
    try:
        revision = upgrade(url)
    except OperationalError as error:
        raise UserError(f"cannot open the operational store: {error.orig}") from None
    out.print(f"Operational store at revision {revision}: {make_url(url).render_as_string(hide_password=True)}")


@organisations_app.command("add")
@user_errors
def organisations_add(
    ctx: typer.Context,
    code: Annotated[str, typer.Argument(help="A short stable code (ODS code, force code; a school's URN).")],
    name: Annotated[str, typer.Argument(help="The organisation's name.")],
    type_: Annotated[str, typer.Option("--type", help="police_force, nhs_trust, school, ...")],
    urn: Annotated[str | None, typer.Option("--urn", help="A school's URN (6 digits).")] = None,
) -> None:
    """Add a partner organisation."""
    from commonground.cases.organisations import create_organisation
    from commonground.store.organisation_types import OrganisationType

    try:
        kind = OrganisationType(type_)
    except ValueError:
        raise UserError(f"no organisation type {type_!r}; one of: {', '.join(OrganisationType)}") from None
    with _store(ctx) as session:
        created = create_organisation(session, code=code, name=name, type=kind, urn=urn, by=_cli_actor())
        out.print(f"Added {created.name} ({created.type.label}), code {created.code}.")


@organisations_app.command("list")
@user_errors
def organisations_list(ctx: typer.Context) -> None:
    """List the partner organisations."""
    from commonground.cases.organisations import list_organisations

    with _store(ctx) as session:
        table = Table("code", "name", "type", "URN", title="Organisations")
        for o in list_organisations(session):
            table.add_row(o.code, o.name, o.type.label, o.urn or "")
        out.print(table)


@users_app.command("add")
@user_errors
def users_add(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="The person's email address (their sign-in name).")],
    name: Annotated[str, typer.Option("--name", help="Display name.")],
    organisation: Annotated[str, typer.Option("--organisation", help="The organisation's code.")],
    role: Annotated[str, typer.Option("--role", help="hub_practitioner, data_protection_officer, ...")],
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from stdin.")] = False,
    oidc_only: Annotated[bool, typer.Option("--oidc-only", help="No password: sign in through OIDC only.")] = False,
) -> None:
    """Add a person who can sign in (asks for the password unless --password-stdin or --oidc-only)."""
    from commonground.access.accounts import create_user
    from commonground.access.roles import Role
    from commonground.cases.organisations import organisation_by_code

    try:
        chosen = Role(role)
    except ValueError:
        raise UserError(f"no role {role!r}; one of: {', '.join(Role)}") from None
    password = None
    if not oidc_only:
        password = sys.stdin.readline().rstrip("\n") if password_stdin else getpass.getpass("Password: ")
    with _store(ctx) as session:
        org = organisation_by_code(session, organisation)
        if org is None:
            raise UserError(f"no organisation has the code {organisation!r}")
        user = create_user(
            session, email=email, display_name=name, organisation=org, role=chosen, password=password, by=_cli_actor()
        )
        out.print(f"Added {user.email}: {chosen.label} at {org.name}.")


@users_app.command("list")
@user_errors
def users_list(ctx: typer.Context) -> None:
    """List the people who can sign in."""
    from sqlalchemy import select

    from commonground.access.models import User

    with _store(ctx) as session:
        table = Table("id", "email", "role", "organisation", "active", title="Users")
        for u in session.scalars(select(User).order_by(User.id)):
            table.add_row(str(u.id), u.email, u.role.label, u.organisation.code, "yes" if u.active else "no")
        out.print(table)


@agreements_app.command("add")
@user_errors
def agreements_add(
    ctx: typer.Context, path: Annotated[Path, typer.Argument(help="A YAML file of one agreement.")]
) -> None:
    """Add a data-sharing agreement from a YAML file (the fields of AgreementSpec)."""
    from pydantic import ValidationError

    from commonground.access.agreements import AgreementSpec, create_agreement

    if not path.is_file():
        raise UserError(f"{path} is not a file")
    try:
        spec = AgreementSpec.from_yaml(path.read_text(encoding="utf-8"))
    except ValidationError as error:
        first = error.errors()[0]
        raise UserError(f"{path}: {'.'.join(map(str, first['loc']))}: {first['msg']}") from None
    with _store(ctx) as session:
        created = create_agreement(session, spec=spec, by=_cli_actor())
        out.print(f"Added agreement {created.reference} (version {created.version}).")


@audit_app.command("verify")
@user_errors
def audit_verify(
    ctx: typer.Context,
    expect: Annotated[
        str | None,
        typer.Option("--expect", help="The anchor (PLACES:HASH) printed by an earlier run; it must still be there."),
    ] = None,
) -> None:
    """Check the audit log's hash chains; exit 1 if any entry was edited or deleted."""
    from commonground.access.audit import Anchor, verify_audit

    try:
        anchor = Anchor.parse(expect) if expect is not None else None
    except ValueError as error:
        raise UserError(f"--expect: {error}") from None
    with _store(ctx) as session:
        result = verify_audit(session, expect=anchor)
    if result.ok:
        out.print(
            f"The audit log is whole: {result.checked:,} entries in {len(result.heads)} chains. "
            f"Anchor (keep it elsewhere; check it later with --expect): {result.anchor}",
            soft_wrap=True,
        )
        return
    for problem in result.problems:
        err.print(f"[red]Broken:[/] {problem}", highlight=False)
    raise typer.Exit(code=1)


@hub_app.command("sync")
@user_errors
def hub_sync(ctx: typer.Context) -> None:
    """Bring the hub up to date with the current build: the person view, pupils on school rolls, flags as work."""
    from commonground.cases.sync import sync_current_build

    with _store(ctx) as session:
        result = sync_current_build(session, data_dir=settings_of(ctx).data_dir, base_url=_hub(ctx).public_url)
    print_sync_summary(result)


def print_sync_summary(result: object) -> None:
    from commonground.cases.sync import SyncResult

    assert isinstance(result, SyncResult)
    items = result.work_items
    out.print(
        f"Hub up to date with build {result.build_id}: {items.created:,} new work items, "
        f"{items.already_seen:,} seen before ({items.evidence_added:,} new evidence records), "
        f"{len(items.unroutable):,} with no partner organisation to route to; "
        f"{result.pupils:,} pupils on partner schools' rolls ({result.pupils_added:,} new); "
        f"{result.notices:,} new school notices ({result.emails_queued:,} emails waiting in the outbox).",
        soft_wrap=True,
    )
    if result.link_reviews_offered:
        out.print(f"{result.link_reviews_offered:,} pairs of records offered for people to decide, on /link-reviews.")
    if result.withdrawn or result.notice_corrections:
        out.print(
            f"{result.withdrawn:,} work items withdrawn: their flag no longer holds (the reason is on each item); "
            f"{result.notice_corrections:,} notice corrections to schools.",
            soft_wrap=True,
        )
    if result.rule_packs_changed:
        out.print(f"Rule packs now in use (recorded with history): {', '.join(result.rule_packs_changed)}.")
    if result.unmapped_routes:
        err.print(f"[yellow]Routes the hub does not know:[/] {', '.join(result.unmapped_routes)}", highlight=False)


@hub_app.command("export-link-reviews")
@user_errors
def hub_export_link_reviews(ctx: typer.Context) -> None:
    """Write what link reviews decided (and those still open) for the next `commonground link` to honour."""
    from commonground.cases.link_reviews import link_constraints
    from commonground.linkage.constraints import CONSTRAINTS_FILE

    with _store(ctx) as session:
        constraints = link_constraints(session)
    target = settings_of(ctx).data_dir / CONSTRAINTS_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    partial.write_text(constraints.to_json(), encoding="utf-8")
    partial.replace(target)
    out.print(
        f"{len(constraints.held_apart):,} groups of records held apart and {len(constraints.kept_together):,} "
        f"kept together, written to {target} for the next link build.",
        soft_wrap=True,
    )


@hub_app.command("transparency")
@user_errors
def hub_transparency(
    ctx: typer.Context,
    out_file: Annotated[Path, typer.Option("--out", help="JSON file to write the record to.")],
) -> None:
    """Write the public record of the rules and the linkage (Algorithmic Transparency Recording Standard), as the
    service publishes it at /transparency."""
    import json

    from commonground.cases.transparency import TO_COMPLETE, atrs_record
    from commonground.store.db import utcnow

    with _store(ctx) as session:
        record = atrs_record(session, now=utcnow())
    out_file.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    text = json.dumps(record)
    out.print(
        f"Wrote the transparency record {record['version']} to {out_file}: "
        f"{len(record['tier_2']['decision_making_process']['rules'])} rules, "
        f"{len(record['tier_2']['data_specification']['sharing_agreements_in_force'])} agreements in force; "
        f"{text.count(TO_COMPLETE)} items for the partnership to complete.",
        soft_wrap=True,
        highlight=False,
    )


@hub_app.command("rule-outcomes")
@user_errors
def hub_rule_outcomes(ctx: typer.Context) -> None:
    """What closed work says about each rule: coded outcomes by rule version, PPV in practice, rules to review."""
    from commonground.cases.rule_outcomes import MIN_JUDGED, PPV_FLOOR, rule_outcomes
    from commonground.cases.work_items import Outcome

    with _store(ctx) as session:
        rows = rule_outcomes(session)
    if not rows:
        out.print("No rule has raised a work item yet.")
        return
    for row in rows:
        counts = ", ".join(f"{row.count(o):,} {o.label.lower()}" for o in Outcome)
        uncoded = f", {row.uncoded:,} closed before outcomes were coded" if row.uncoded else ""
        ppv = "no PPV yet" if row.ppv is None else f"PPV in practice {row.ppv:.0%} of {row.judged:,} judged"
        verdict = (
            "marked for review" if row.for_review else ("too few judged" if row.judged < MIN_JUDGED else "holding")
        )
        out.print(
            f"{row.rule_id} v{row.rule_version}: {row.closed:,} closed ({counts}{uncoded}), {row.open:,} open; "
            f"{ppv}: {verdict}",
            soft_wrap=True,
            highlight=False,
        )
    out.print(
        f"A rule version is marked for review when under {PPV_FLOOR:.0%} of at least {MIN_JUDGED} judged items "
        "were confirmed (action taken, or already known and being worked); wrong person and not enough "
        "information judge nothing."
    )


# --- school notices and the street-triage log (#6) ---


@hub_app.command("send-notices")
@user_errors
def hub_send_notices(ctx: typer.Context) -> None:
    """Make Operation Encompass notices from new work items and send the outbox's emails (COMMONGROUND_SMTP_*)."""
    from commonground.cases.notices import send_notices
    from commonground.web.views import PersonViews

    settings = _hub(ctx)
    view = PersonViews(settings.data_dir).current()
    try:
        with _store(ctx) as session:
            made, result = send_notices(session, settings=settings, person_view=view, by=_cli_actor())
    finally:
        if view is not None:
            view.close()
    out.print(
        f"{made.created:,} new notices ({made.emails_queued:,} emails queued); "
        f"{result.sent:,} emails sent, {result.failed:,} failed, {result.waiting:,} waiting in the outbox.",
        soft_wrap=True,
    )
    if made.no_recipient:
        err.print(f"[yellow]{made.no_recipient:,} notices are for a school with no active safeguarding lead.[/]")
    if made.not_in_view:
        err.print(f"[yellow]{made.not_in_view:,} work items wait for a person view (run `commonground hub sync`).[/]")
    if result.failed:
        raise typer.Exit(code=1)


@hub_app.command("export-triage")
@user_errors
def hub_export_triage(
    ctx: typer.Context,
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write street_triage.csv into.")],
) -> None:
    """Write the street-triage log as street_triage.csv in the feed's columns, for `commonground ingest`."""
    from commonground.cases.triage import export_triage
    from commonground.web.views import PersonViews

    settings = _hub(ctx)
    view = PersonViews(settings.data_dir).current()
    try:
        with _store(ctx) as session:
            result = export_triage(session, out_dir=out_dir, person_view=view)
    finally:
        if view is not None:
            view.close()
    out.print(f"Wrote {result.rows:,} triage contacts to {result.path}.", soft_wrap=True)
    if result.skipped:
        err.print(f"[yellow]{result.skipped:,} contacts of people not in the current person view were left out.[/]")


@app.command()
@user_errors
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port to listen on.")] = 8000,
) -> None:
    """Serve the hub's web service and API (the API reference is at /api/docs)."""
    import uvicorn

    from commonground.web.app import create_app, settle_for_serving

    settings = _hub(ctx)
    with _store(ctx):
        pass  # refuses to start on a store that is missing or not up to date
    out.print(f"Serving commonground on http://{host}:{port}/ (API reference: /api/docs)")
    app = create_app(settings)
    settle_for_serving()
    uvicorn.run(app, host=host, port=port, access_log=False, log_level="info", **proxy_options(settings))


def proxy_options(settings: HubSettings) -> dict[str, Any]:
    """uvicorn's handling of ``X-Forwarded-For`` and ``X-Forwarded-Proto``: believed only from the proxies of
    ``COMMONGROUND_TRUSTED_PROXIES``; with none (the default), not at all (uvicorn's own default believed any
    connection from 127.0.0.1, so a changed header at each attempt got round the sign-in rate limit)."""
    proxies = [str(network) for network in settings.trusted_proxy_networks]
    return {"proxy_headers": bool(proxies), "forwarded_allow_ips": proxies or None}
