"""A small partnership to test against: seven organisations (two schools), one account per role (and a second
school lead), one work item routed to each casework role, and agreements when asked for."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from service_support import PASSWORD, SETUP
from sqlalchemy.orm import Session, sessionmaker

from commonground.access import audit
from commonground.access.accounts import create_user
from commonground.access.agreements import About, AgreementSpec, create_agreement
from commonground.access.purposes import Purpose
from commonground.access.roles import Role
from commonground.cases.organisations import create_organisation
from commonground.cases.work_items import FlagRecord, RouteTo, upsert_work_items
from commonground.store.db import utcnow
from commonground.store.models import Organisation
from commonground.store.organisation_types import OrganisationType as OT

ORGANISATIONS = [
    ("POL", "Northshire Police", OT.POLICE_FORCE, None),
    ("NHS", "Northshire Mental Health NHS Trust", OT.NHS_TRUST, None),
    ("LA", "Northshire Children's Services", OT.LOCAL_AUTHORITY_CHILDRENS, None),
    ("SCHA", "Hill Primary School", OT.SCHOOL, "100001"),
    ("SCHB", "Vale Academy", OT.SCHOOL, "100002"),
    ("DAS", "Northshire Recovery Service", OT.DRUG_ALCOHOL_SERVICE, None),
    ("PHT", "Northshire Public Health", OT.PUBLIC_HEALTH_TEAM, None),
]

ACCOUNTS = [
    ("hub@la.example", Role.HUB_PRACTITIONER, "LA"),
    ("officer@pol.example", Role.POLICE_OFFICER, "POL"),
    ("triage@nhs.example", Role.CONTROL_ROOM_MH_PROFESSIONAL, "NHS"),
    ("dsl@scha.example", Role.SCHOOL_SAFEGUARDING_LEAD, "SCHA"),
    ("dsl@schb.example", Role.SCHOOL_SAFEGUARDING_LEAD, "SCHB"),
    ("team@das.example", Role.PARTNER_TEAM_MEMBER, "DAS"),
    ("analyst@pht.example", Role.PUBLIC_HEALTH_ANALYST, "PHT"),
    ("dpo@la.example", Role.DATA_PROTECTION_OFFICER, "LA"),
    ("admin@la.example", Role.ADMINISTRATOR, "LA"),
]

# person, destination organisation, role, evidence, purpose
ITEMS = [
    ("P-LA-1", "LA", Role.HUB_PRACTITIONER, "police_incident_persons:I1", Purpose.SAFEGUARDING_CHILDREN),
    ("P-POL-2", "POL", Role.POLICE_OFFICER, "custody_records:C2", Purpose.CRIME_PREVENTION),
    ("P-NHS-3", "NHS", Role.CONTROL_ROOM_MH_PROFESSIONAL, "street_triage:T3", Purpose.MENTAL_HEALTH_CRISIS_CARE),
    ("P-SCHA-4", "SCHA", Role.SCHOOL_SAFEGUARDING_LEAD, "police_incident_persons:I4", Purpose.OPERATION_ENCOMPASS),
    ("P-SCHB-5", "SCHB", Role.SCHOOL_SAFEGUARDING_LEAD, "police_incident_persons:I5", Purpose.OPERATION_ENCOMPASS),
    ("P-DAS-6", "DAS", Role.PARTNER_TEAM_MEMBER, "substance_treatment:S6", Purpose.SAFEGUARDING_ADULTS),
]


@dataclass
class World:
    with_agreements: bool
    organisations: dict[str, int] = field(default_factory=dict)
    users: dict[str, int] = field(default_factory=dict)
    user_orgs: dict[str, str] = field(default_factory=dict)
    roles: dict[str, Role] = field(default_factory=dict)
    items: dict[str, int] = field(default_factory=dict)
    item_routes: dict[str, tuple[str, Role]] = field(default_factory=dict)
    item_purposes: dict[str, Purpose] = field(default_factory=dict)
    agreements: dict[str, tuple[int, str]] = field(default_factory=dict)  # reference -> (id, organisation code)
    spare_user: int = 0
    spare_agreement: int = 0
    break_glass_report: int = 0


def agreement_for(code: str, feed: str, purpose: Purpose, *, about: About) -> AgreementSpec:
    return AgreementSpec(
        reference=f"DSA-{code}",
        title=f"Sharing with {code}",
        organisation=code,
        feeds=(feed,),
        about=(about,),
        purposes=(purpose,),
        lawful_basis="UK GDPR 6(1)(e); DPA 2018 Sch 1 para 18",
        valid_from=dt.date(2020, 1, 1),
    )


def build_world(sessions: sessionmaker[Session], *, with_agreements: bool) -> World:
    world = World(with_agreements=with_agreements)
    with sessions() as db:
        orgs: dict[str, Organisation] = {}
        for code, name, kind, urn in ORGANISATIONS:
            orgs[code] = create_organisation(db, code=code, name=name, type=kind, urn=urn, by=SETUP)
            world.organisations[code] = orgs[code].id
        for email, role, code in ACCOUNTS:
            user = create_user(
                db,
                email=email,
                display_name=email.split("@")[0],
                organisation=orgs[code],
                role=role,
                password=PASSWORD,
                by=SETUP,
            )
            world.users[email], world.user_orgs[email], world.roles[email] = user.id, code, role
        spare = create_user(
            db,
            email="spare@la.example",
            display_name="spare",
            organisation=orgs["LA"],
            role=Role.PARTNER_TEAM_MEMBER,
            by=SETUP,
        )
        world.spare_user = spare.id
        due = utcnow() + dt.timedelta(days=1)
        flags = [
            FlagRecord(
                person_id=person,
                rule_id="test.rule",
                rule_version="1",
                route_to=RouteTo(organisation_type=orgs[code].type, role=role, organisation=code),
                due_by=due,
                evidence_ids=(evidence,),
                purpose=purpose,
            )
            for person, code, role, evidence, purpose in ITEMS
        ]
        upsert_work_items(db, flags)
        db.flush()
        from sqlalchemy import select

        from commonground.cases.work_items import WorkItem

        for item in db.scalars(select(WorkItem)):
            world.items[item.person_id] = item.id
        for person, code, role, evidence, purpose in ITEMS:
            world.item_routes[person] = (code, role)
            world.item_purposes[person] = purpose
            if with_agreements:
                about = About.OWN_CASES if orgs[code].type is OT.SCHOOL else About.EVERYONE
                created = create_agreement(
                    db, spec=agreement_for(code, evidence.split(":")[0], purpose, about=about), by=SETUP
                )
                world.agreements[created.reference] = (created.id, code)
        spare_agreement = create_agreement(
            db, spec=agreement_for("PHT", "ed_attendances", Purpose.DIRECT_CARE, about=About.EVERYONE), by=SETUP
        )
        world.agreements[spare_agreement.reference] = (spare_agreement.id, "PHT")
        world.spare_agreement = spare_agreement.id
        officer = world.users["officer@pol.example"]
        audit.record_many(
            db,
            [
                audit.Event(
                    actor=audit.Actor(
                        label="officer@pol.example",
                        user_id=officer,
                        organisation_id=orgs["POL"].id,
                        role=Role.POLICE_OFFICER.value,
                    ),
                    action="view-work-items",
                    subject_type="work_item",
                    subject_id="0",
                    person_id="P-GLASS",
                    break_glass=True,
                    reason="Child at immediate risk, no agreement covers the school record",
                )
            ],
        )
        db.flush()
        from commonground.access.models import BreakGlassReport

        world.break_glass_report = db.scalars(select(BreakGlassReport.id)).one()
        db.commit()
    return world


def referred_cases_agreement(code: str) -> AgreementSpec:
    """An agreement of the partner ``code`` about the cases referred to it (police incident records, for
    safeguarding children), which lets it open a referral sent to it."""
    return AgreementSpec(
        reference=f"DSA-{code}-REFERRALS",
        title=f"Referred cases to {code}",
        organisation=code,
        feeds=("police_incident_persons",),
        about=(About.OWN_CASES,),
        purposes=(Purpose.SAFEGUARDING_CHILDREN,),
        lawful_basis="UK GDPR 6(1)(e); DPA 2018 Sch 1 para 18",
        valid_from=dt.date(2020, 1, 1),
    )


def build_referral_world(sessions: sessionmaker[Session], *, partners: tuple[str, ...] = ("DAS", "NHS")) -> World:
    """The test partnership with agreements, and for each partner an agreement about the cases referred to it."""
    world = build_world(sessions, with_agreements=True)
    with sessions() as db:
        for code in partners:
            create_agreement(db, spec=referred_cases_agreement(code), by=SETUP)
        db.commit()
    return world
