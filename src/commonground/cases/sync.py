"""Bring the hub up to date with the current build: lay out the person view, record which children are on which
school's roll, and turn the rules' flags into work items routed to the partnership's real organisations.

The routing pack (``rules/packs/routing.yaml``) names kinds of organisation and roles in the words of practice
("local_authority" / "mash"); :data:`ROUTES` says which of the hub's organisation types and roles does that work.
A flag whose destination the partnership does not have is reported as unroutable, never guessed.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
from sqlalchemy import select
from sqlalchemy.orm import Session

from commonground.access.agreements import About
from commonground.access.audit import RULES_STAGE, Actor
from commonground.access.models import PersonRelationship
from commonground.access.purposes import Purpose
from commonground.access.relationships import KIND_OF
from commonground.access.resolver import StoreFacts
from commonground.access.roles import Role
from commonground.cases.link_reviews import offer_band_pairs
from commonground.cases.notice_corrections import correct_withdrawn_notices
from commonground.cases.notices import notices_from_work_items
from commonground.cases.person_view import PersonView, write_person_view
from commonground.cases.rule_packs import record_rule_packs
from commonground.cases.statistics import make_statistics
from commonground.cases.withdrawals import time_limited_rules, withdraw_unheld
from commonground.cases.work_items import FlagRecord, Rating, RouteTo, UpsertResult, upsert_work_items
from commonground.linkage.builds import require_current_build
from commonground.store.models import Organisation
from commonground.store.organisation_types import OrganisationType as OT

UK = ZoneInfo("Europe/London")

ROUTES: dict[tuple[str, str], tuple[OT, Role]] = {
    ("school", "designated_safeguarding_lead"): (OT.SCHOOL, Role.SCHOOL_SAFEGUARDING_LEAD),
    ("local_authority", "mash"): (OT.LOCAL_AUTHORITY_CHILDRENS, Role.HUB_PRACTITIONER),
    ("local_authority", "elective_home_education_officer"): (OT.LOCAL_AUTHORITY_CHILDRENS, Role.PARTNER_TEAM_MEMBER),
    ("mental_health_trust", "crisis_team"): (OT.NHS_TRUST, Role.PARTNER_TEAM_MEMBER),
    ("mental_health_trust", "liaison_psychiatry"): (OT.NHS_TRUST, Role.PARTNER_TEAM_MEMBER),
    ("vulnerability_hub", "hub_practitioner"): (OT.POLICE_FORCE, Role.HUB_PRACTITIONER),
    ("marac", "coordinator"): (OT.POLICE_FORCE, Role.MARAC_COORDINATOR),
}
"""Routing pack destination (organisation type, role) -> the hub's organisation type and role that does the work."""

EPISODIC_RULES = frozenset({"notice.school_domestic_abuse"})
"""Rules whose every new occurrence is new work (each domestic-abuse incident is a new notice to the school)."""

SCHOOL_ROLL_SOURCE = "school_roll"
SYNC = Actor(label="hub:sync")


@dataclass(frozen=True)
class SyncResult:
    build_id: str
    person_view: Path
    work_items: UpsertResult
    unmapped_routes: tuple[str, ...]
    pupils: int
    pupils_added: int
    notices: int = 0
    emails_queued: int = 0
    rule_packs_changed: tuple[str, ...] = ()
    before_live: int = 0
    """Occurrences of episodic rules from before the hub began (``live_from``), not made work."""
    withdrawn: int = 0
    """Work items withdrawn because their flag no longer holds (:mod:`commonground.cases.withdrawals`)."""
    notice_corrections: int = 0
    """Schools told that a notice is withdrawn."""
    link_reviews_offered: int = 0
    """Pairs of the build's review band newly offered on the link reviews page (issue #15)."""


def sync_current_build(
    session: Session,
    *,
    data_dir: Path,
    by: Actor = RULES_STAGE,
    base_url: str = "http://127.0.0.1:8000",
    live_from: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> SyncResult:
    """Lay out the current build's person view and bring the operational store up to date with it, in the caller's
    transaction (the person view is written first; a failure after it leaves the store unchanged): pupils, work
    items, and an Operation Encompass notice (with its emails queued in the outbox) for each new school notice
    work item; and the build's published statistics. ``base_url`` is the service's address the emails link to.
    ``live_from``: when the hub began; an occurrence of an episodic rule before it (a domestic-abuse incident
    the school was told of before the hub existed) is not made new work (counted in ``before_live``)."""
    build = require_current_build(data_dir)
    view = write_person_view(build.path)
    make_statistics(build.path)  # the analysts' tables, once per build, before anyone asks (#19)
    pupils, added = record_pupils(session, build_path=build.path)
    flags, unmapped = flag_records(build.path)
    before_live = 0
    if live_from is not None:
        kept = [f for f in flags if not _episode_before(f, live_from)]
        before_live, flags = len(flags) - len(kept), kept
    result = upsert_work_items(session, flags, by=by, now=now)
    limited = time_limited_rules(build.path, episodic=EPISODIC_RULES)
    withdrawn = withdraw_unheld(
        session,
        flags=flags,
        build_id=build.build_id,
        data_dir=data_dir,
        time_limited=limited,
        rules_ran=(build.path / "rules.duckdb").exists(),
    )
    packs = record_rule_packs(session, build_path=build.path, build_id=build.build_id, by=by)
    band = offer_band_pairs(session, build_path=build.path, by=by)  # the review band, for people to decide
    reader = PersonView(view)
    try:
        notices = notices_from_work_items(session, reader, base_url=base_url)
    finally:
        reader.close()
    corrections = correct_withdrawn_notices(session, base_url=base_url)  # after the notices: none is left out
    return SyncResult(
        build_id=build.build_id,
        person_view=view,
        work_items=result,
        unmapped_routes=tuple(sorted(unmapped)),
        pupils=pupils,
        pupils_added=added,
        notices=notices.created,
        emails_queued=notices.emails_queued,
        rule_packs_changed=tuple(f"{p.pack} v{p.pack_version}" for p in packs),
        before_live=before_live,
        withdrawn=len(withdrawn.withdrawn),
        notice_corrections=corrections,
        link_reviews_offered=band.offered,
    )


def _episode_before(flag: FlagRecord, moment: dt.datetime) -> bool:
    """The flag is one occurrence of an episodic rule, and it happened before ``moment``."""
    if flag.rule_id not in EPISODIC_RULES or not flag.episode:
        return False
    return _aware(dt.datetime.fromisoformat(flag.episode)) < moment


def _aware(moment: dt.datetime) -> dt.datetime:
    """The rules write local (UK) wall-clock moments."""
    return moment.replace(tzinfo=UK) if moment.tzinfo is None else moment


def flag_records(build_path: Path) -> tuple[list[FlagRecord], set[str]]:
    """The flags of the build's rules output as :class:`FlagRecord`, each routed to the hub's organisation type
    and role; returns them and the routes the hub has no mapping for."""
    rules_file = build_path / "rules.duckdb"
    if not rules_file.exists():
        return [], set()
    con = duckdb.connect(str(rules_file), read_only=True)
    try:
        purposes = dict(con.execute("SELECT rule_id, purpose FROM rules").fetchall())
        evidence: dict[tuple[str, str], list[str]] = defaultdict(list)
        for person_id, rule_id, feed, record_id in con.execute(
            "SELECT e.person_id, e.rule_id, e.feed, e.record_id FROM evidence e JOIN flags f "
            "USING (person_id, rule_id) ORDER BY e.evidence_at DESC"
        ).fetchall():
            evidence[(person_id, rule_id)].append(f"{feed}:{record_id}")
        rows = con.execute(
            "SELECT person_id, rule_id, rule_version, organisation_type, organisation_id, role, due_by, "
            f"latest_evidence, raised_at, {_rating_columns(con)} FROM flags ORDER BY person_id, rule_id"
        ).fetchall()
    finally:
        con.close()
    records: list[FlagRecord] = []
    unmapped: set[str] = set()
    for person_id, rule_id, version, org_type, org_id, role, due_by, latest, raised_at, rag, rag_reason in rows:
        destination = ROUTES.get((org_type, role))
        if destination is None:
            unmapped.add(f"{org_type}/{role}")
            continue
        ids = evidence.get((person_id, rule_id))
        if not ids:
            continue
        records.append(
            FlagRecord(
                person_id=str(person_id),
                rule_id=rule_id,
                rule_version=str(version),
                route_to=RouteTo(organisation_type=destination[0], role=destination[1], organisation=org_id),
                due_by=_aware(due_by),
                evidence_ids=tuple(ids[:200]),
                purpose=Purpose(purposes.get(rule_id) or Purpose.SAFEGUARDING_CHILDREN.value),
                episode=latest.isoformat() if rule_id in EPISODIC_RULES and latest is not None else "",
                raised_at=_aware(raised_at) if raised_at is not None else None,
                rating=Rating(rag) if rag else None,
                rating_reason=rag_reason or None,
            )
        )
    return records, unmapped


def _rating_columns(con: duckdb.DuckDBPyConnection) -> str:
    """The flag's rating and its reason in words, each blank in a rules output written before it existed (#17)."""
    found = {
        r[0] for r in con.execute("SELECT column_name FROM duckdb_columns() WHERE table_name = 'flags'").fetchall()
    }
    return ", ".join(c if c in found else f"CAST(NULL AS VARCHAR) AS {c}" for c in ("rag", "rag_reason"))


def record_pupils(session: Session, *, build_path: Path) -> tuple[int, int]:
    """Record, for each child on the roll of a school that is a partner organisation, the relationship "pupil"
    (what agreements "about own pupils" check), dated from enrolment to leaving; returns (pupils, added)."""
    schools = {
        org.urn: org.id
        for org in session.scalars(select(Organisation).where(Organisation.type == OT.SCHOOL))
        if org.urn is not None
    }
    if not schools:
        return 0, 0
    con = duckdb.connect(str(build_path / "build.duckdb"), read_only=True)
    try:
        rows: list[Any] = con.execute(
            "SELECT pr.person_id, CAST(f.school_urn AS VARCHAR), min(f.enrolled_on), "
            "CASE WHEN bool_or(f.left_on IS NULL) THEN NULL ELSE max(f.left_on) END "
            "FROM feed_school_roll f JOIN person_records pr ON pr.feed = 'school_roll' AND pr.record_id = f.record_id "
            "GROUP BY ALL"
        ).fetchall()
    finally:
        con.close()
    kind = KIND_OF[About.OWN_PUPILS]
    existing = {
        (r.person_id, r.organisation_id): r
        for r in session.scalars(
            select(PersonRelationship).where(
                PersonRelationship.kind == kind, PersonRelationship.source == SCHOOL_ROLL_SOURCE
            )
        )
    }
    added = 0
    pupils = 0
    for person_id, urn, enrolled, left in rows:
        organisation_id = schools.get(urn)
        if organisation_id is None:
            continue
        pupils += 1
        start = dt.datetime.combine(enrolled, dt.time(), tzinfo=UK) if enrolled else None
        end = dt.datetime.combine(left + dt.timedelta(days=1), dt.time(), tzinfo=UK) if left else None
        row = existing.get((str(person_id), organisation_id))
        if row is None:
            row = PersonRelationship(
                person_id=str(person_id), organisation_id=organisation_id, kind=kind, source=SCHOOL_ROLL_SOURCE
            )
            session.add(row)
            added += 1
        row.valid_from = start or dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
        row.valid_until = end
    session.flush()
    return pupils, added


@dataclass(frozen=True)
class CoverageGap:
    rule_id: str
    organisation: str
    purpose: Purpose
    feeds: tuple[str, ...]

    def __str__(self) -> str:
        return (
            f"{self.rule_id} is routed to {self.organisation}, whose agreements for {self.purpose.value} do not "
            f"cover {', '.join(self.feeds)}: its flags will be withheld there"
        )


def coverage_gaps(session: Session, *, build_path: Path, at: dt.datetime) -> list[CoverageGap]:
    """For every flag rule and every organisation it can be routed to, the feeds of its evidence that no agreement
    of that organisation in force at ``at`` covers for the rule's purpose. A gap means a partner is sent work it
    cannot open: the agreements (or the routing) need changing before go-live."""
    rules_file = build_path / "rules.duckdb"
    if not rules_file.exists():
        return []
    con = duckdb.connect(str(rules_file), read_only=True)
    try:
        rules = con.execute("SELECT rule_id, purpose, feeds FROM rules WHERE kind = 'flag'").fetchall()
    finally:
        con.close()
    # Imported here, not at the top: the rules package loads the whole rules engine (pyarrow, numpy, sqlglot:
    # more than a second), and only this check of a build needs its routing pack. No import loop forces it.
    from commonground.rules import default_rules

    routing = {route.rule: route for route in default_rules().routing.routes}
    facts = StoreFacts(session)
    gaps = []
    for rule_id, purpose, feeds in rules:
        route = routing.get(rule_id)
        if route is None:
            continue
        destination = ROUTES.get((route.to.organisation_type.value, route.to.role))
        if destination is None:
            continue
        needed = {f for f in (feeds or "").split(",") if f}
        for org in session.scalars(select(Organisation).where(Organisation.type == destination[0])):
            covered: set[str] = set()
            for terms in facts.agreements_in_force(organisation_id=org.id, at=at):
                if Purpose(purpose) in terms.purposes:
                    covered |= terms.feeds
            missing = tuple(sorted(needed - covered))
            if missing:
                gaps.append(
                    CoverageGap(rule_id=rule_id, organisation=org.code, purpose=Purpose(purpose), feeds=missing)
                )
    return gaps
