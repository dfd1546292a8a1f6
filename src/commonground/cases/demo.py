"""A demonstration partnership over a synthetic area: the organisations of an area (a police force, a mental-health
NHS trust, children's services, the area's schools, a drug and alcohol service, a public-health team), their
data-sharing agreements, and one account for every role, so that every page can be tried.

Everything here is synthetic, and the accounts share one password that is printed by ``commonground demo``; a
real partnership adds its organisations, agreements and people with ``commonground organisations/agreements/users``.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from pathlib import Path

import duckdb
from sqlalchemy import select
from sqlalchemy.orm import Session

from commonground.access.accounts import create_user
from commonground.access.agreements import About, AgreementSpec, create_agreement
from commonground.access.audit import Actor
from commonground.access.models import Agreement, User
from commonground.access.purposes import Purpose as P
from commonground.access.roles import Role
from commonground.cases.organisations import create_organisation
from commonground.store.models import Organisation
from commonground.store.organisation_types import OrganisationType as OT

DEMO = Actor(label="demo:setup")

ORGANISATIONS: tuple[tuple[str, str, OT], ...] = (
    ("QXP", "Northshire Police", OT.POLICE_FORCE),
    ("QXMH", "Northshire Mental Health NHS Foundation Trust", OT.NHS_TRUST),
    ("QXLA", "Northshire Council Children's Services", OT.LOCAL_AUTHORITY_CHILDRENS),
    ("QXDAS", "Northshire Recovery Partnership (drug and alcohol service)", OT.DRUG_ALCOHOL_SERVICE),
    ("QXPH", "Northshire Public Health", OT.PUBLIC_HEALTH_TEAM),
)

ALL_PERSON_FEEDS = (
    "police_incidents",
    "police_incident_persons",
    "custody_records",
    "missing_episodes",
    "street_triage",
    "ed_attendances",
    "mental_health_contacts",
    "substance_treatment",
    "childrens_social_care",
    "custodial_sentences",
    "school_roll",
)

AGREEMENTS: tuple[tuple[str, str, str, tuple[str, ...], tuple[About, ...], tuple[P, ...], str], ...] = (
    (
        "DSA-MASH-2025",
        "Multi-agency safeguarding hub: information sharing",
        "QXLA",
        ALL_PERSON_FEEDS,
        (About.EVERYONE,),
        (P.SAFEGUARDING_CHILDREN, P.SAFEGUARDING_ADULTS),
        "UK GDPR Art 6(1)(e), 9(2)(g); DPA 2018 Sch 1 para 18; Children Act 1989 s17, s47; Children Act 2004 s11",
    ),
    (
        "DSA-POLICE-VULN-2025",
        "Police vulnerability hub",
        "QXP",
        (
            "police_incidents",
            "police_incident_persons",
            "custody_records",
            "missing_episodes",
            "street_triage",
            "ed_attendances",
            "mental_health_contacts",
            "childrens_social_care",
            "custodial_sentences",
            "substance_treatment",
        ),
        (About.EVERYONE,),
        (P.SAFEGUARDING_ADULTS, P.SAFEGUARDING_CHILDREN, P.CRIME_PREVENTION, P.MENTAL_HEALTH_CRISIS_CARE),
        "UK GDPR Art 6(1)(e); DPA 2018 s35 and Sch 1 para 18; Crime and Disorder Act 1998 s115; Care Act 2014 s42",
    ),
    (
        "DSA-MH-CRISIS-2025",
        "Mental-health crisis care and street triage",
        "QXMH",
        (
            "mental_health_contacts",
            "street_triage",
            "ed_attendances",
            "police_incidents",
            "police_incident_persons",
            "custody_records",
            "substance_treatment",
        ),
        (About.EVERYONE,),
        (P.MENTAL_HEALTH_CRISIS_CARE, P.DIRECT_CARE, P.SAFEGUARDING_ADULTS),
        "UK GDPR Art 6(1)(e), 9(2)(h); common law duty of confidentiality (direct care); Care Act 2014 s42",
    ),
    (
        "DSA-DAS-2025",
        "Drug and alcohol service: people referred to it",
        "QXDAS",
        ("substance_treatment", "police_incidents", "police_incident_persons", "custody_records", "ed_attendances"),
        (About.OWN_CASES,),
        (P.SAFEGUARDING_ADULTS, P.DIRECT_CARE),
        "UK GDPR Art 6(1)(e), 9(2)(h); Care Act 2014 s42; consent where it can be sought",
    ),
)

SCHOOL_AGREEMENT = (
    ("police_incidents", "police_incident_persons", "school_roll"),
    (About.OWN_PUPILS,),
    (P.OPERATION_ENCOMPASS, P.SAFEGUARDING_CHILDREN),
    "Victims and Prisoners Act 2024 s20; Children Act 2004 s11; UK GDPR Art 6(1)(c), (e); DPA 2018 Sch 1 para 18",
)

ACCOUNTS: tuple[tuple[str, str, Role, str], ...] = (
    ("QXLA", "Sam Okafor", Role.HUB_PRACTITIONER, "mash"),
    ("QXP", "PC Jordan Ellis", Role.POLICE_OFFICER, "officer"),
    ("QXP", "Priya Shah", Role.HUB_PRACTITIONER, "vulnerability-hub"),
    ("QXP", "Hannah Quayle", Role.MARAC_COORDINATOR, "marac"),
    ("QXMH", "Alex Morgan", Role.CONTROL_ROOM_MH_PROFESSIONAL, "control-room"),
    ("QXMH", "Chris Byrne", Role.PARTNER_TEAM_MEMBER, "crisis-team"),
    ("QXLA", "Robin Hale", Role.PARTNER_TEAM_MEMBER, "early-help"),
    ("QXDAS", "Jo Whitfield", Role.PARTNER_TEAM_MEMBER, "recovery"),
    ("QXPH", "Dr Mina Patel", Role.PUBLIC_HEALTH_ANALYST, "analyst"),
    ("QXLA", "Pat Lindqvist", Role.DATA_PROTECTION_OFFICER, "dpo"),
    ("QXLA", "Lee Carter", Role.ADMINISTRATOR, "admin"),
)


DSL_NAMES = ("Morgan Reid", "Aisha Begum", "Tom Hughes", "Grace Owusu", "Dan Kowalski", "Ruth Ellison", "Ben Adeyemi")
"""Made-up names for the schools' designated safeguarding leads."""


@dataclass(frozen=True)
class DemoAccount:
    email: str
    name: str
    role: Role
    organisation: str


def _schools(build_path: Path) -> list[tuple[str, str]]:
    con = duckdb.connect(str(build_path / "build.duckdb"), read_only=True)
    try:
        rows = con.execute("SELECT CAST(school_urn AS VARCHAR), name FROM feed_schools ORDER BY school_urn").fetchall()
    finally:
        con.close()
    return [(str(urn), str(name)) for urn, name in rows]


def _email(slug: str, code: str) -> str:
    return f"{slug}@{code.lower()}.example"


def seed_partnership(session: Session, *, build_path: Path, password: str) -> list[DemoAccount]:
    """Add the demonstration partnership (idempotent: what exists is kept); returns every demo account."""
    orgs: dict[str, Organisation] = {o.code: o for o in session.scalars(select(Organisation))}
    for code, name, kind in ORGANISATIONS:
        if code not in orgs:
            orgs[code] = create_organisation(session, code=code, name=name, type=kind, by=DEMO)
    schools = _schools(build_path)
    for urn, name in schools:
        code = f"URN{urn}"
        if code not in orgs:
            orgs[code] = create_organisation(session, code=code, name=name, type=OT.SCHOOL, urn=urn, by=DEMO)
    references = set(session.scalars(select(Agreement.reference)))
    start = dt.date(2025, 4, 1)
    specs = [
        AgreementSpec(
            reference=ref,
            title=title,
            organisation=org,
            feeds=feeds,
            about=about,
            purposes=purposes,
            lawful_basis=basis,
            valid_from=start,
        )
        for ref, title, org, feeds, about, purposes, basis in AGREEMENTS
    ]
    feeds, about, purposes, basis = SCHOOL_AGREEMENT
    specs += [
        AgreementSpec(
            reference=f"DSA-ENCOMPASS-{urn}",
            title=f"Operation Encompass: {name}",
            organisation=f"URN{urn}",
            feeds=feeds,
            about=about,
            purposes=purposes,
            lawful_basis=basis,
            valid_from=start,
        )
        for urn, name in schools
    ]
    for spec in specs:
        if spec.reference not in references:
            create_agreement(session, spec=spec, by=DEMO)
    wanted = [(code, name, role, slug) for code, name, role, slug in ACCOUNTS]
    wanted += [
        (f"URN{urn}", DSL_NAMES[i % len(DSL_NAMES)], Role.SCHOOL_SAFEGUARDING_LEAD, "dsl")
        for i, (urn, _name) in enumerate(schools)
    ]
    existing = {u.email: u for u in session.scalars(select(User))}
    accounts = []
    for code, name, role, slug in wanted:
        email = _email(slug, code)
        if email not in existing:
            create_user(
                session,
                email=email,
                display_name=name,
                organisation=orgs[code],
                role=role,
                password=password,
                by=DEMO,
            )
        accounts.append(DemoAccount(email=email, name=name, role=role, organisation=orgs[code].name))
    session.flush()
    return accounts


def demo_password(data_dir: Path) -> str:
    """The demo accounts' shared password: made once per data directory and kept there (mode 600)."""
    path = data_dir / "demo-password"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        words = ["harbour", "lantern", "meadow", "orbit", "pebble", "quartz", "ribbon", "saffron", "thistle", "willow"]
        choice = secrets.SystemRandom().sample(words, 3)
        path.write_text("-".join(choice) + f"-{secrets.randbelow(90) + 10}", encoding="ascii")
    return path.read_text(encoding="ascii").strip()
