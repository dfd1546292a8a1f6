"""The resolver's precedence as literal cases; agreements as data with history; work items never duplicated."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from service_support import login_as
from service_world import build_world
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from commonground.access.actions import ACTIONS, SubjectKind
from commonground.access.agreements import About, AgreementSpec
from commonground.access.models import AgreementVersion, AuditEvent, BreakGlassReport, PersonRelationship
from commonground.access.purposes import Purpose
from commonground.access.relationships import SharedRecords
from commonground.access.resolver import (
    AgreementTerms,
    Principal,
    Subject,
    feeds_open_to,
    feeds_open_to_each,
    resolve,
)
from commonground.access.roles import ROLE_GRANTS, Role
from commonground.cases.work_items import FlagRecord, RouteTo, WorkItem, upsert_work_items
from commonground.store.db import utcnow
from commonground.store.organisation_types import OrganisationType as OT

NOW = dt.datetime(2025, 6, 2, 9, 0, tzinfo=dt.UTC)


@dataclass
class FakeFacts:
    agreements: list[AgreementTerms] = field(default_factory=list)
    related: frozenset[About] = frozenset()

    def agreements_in_force(self, *, organisation_id: int, at: dt.datetime) -> Sequence[AgreementTerms]:
        return self.agreements

    def relationships(self, *, person_id: str, organisation_id: int, at: dt.datetime) -> frozenset[About]:
        return self.related

    def relationships_of_each(
        self, *, person_ids: Sequence[str], organisation_id: int, at: dt.datetime
    ) -> dict[str, frozenset[About]]:
        return {p: self.related for p in person_ids}

    def shares(self, *, person_id: str, organisation_id: int, at: dt.datetime) -> SharedRecords:
        return {}  # no referral shares records here (tests/cases/test_referral_sharing.py)


def principal(role: Role, org: int = 1, kind: OT = OT.LOCAL_AUTHORITY_CHILDRENS) -> Principal:
    return Principal(user_id=7, label="x@y.example", organisation_id=org, organisation_type=kind, role=role)


def terms(*, feeds: set[str], purposes: set[Purpose], about: set[About]) -> AgreementTerms:
    return AgreementTerms(
        reference="DSA-1", feeds=frozenset(feeds), purposes=frozenset(purposes), about=frozenset(about)
    )


HUB = principal(Role.HUB_PRACTITIONER)
SCHOOL = principal(Role.SCHOOL_SAFEGUARDING_LEAD, kind=OT.SCHOOL)
ITEM = Subject(
    kind=SubjectKind.WORK_ITEM,
    id="1",
    organisation_id=1,
    role=Role.HUB_PRACTITIONER,
    person_id="P1",
    feeds=frozenset({"police_incident_persons"}),
)
SCHOOL_ITEM = Subject(
    kind=SubjectKind.PERSON,
    id="P2",
    person_id="P2",
    feeds=frozenset({"police_incident_persons"}),
)
EVERYONE = terms(feeds={"police_incident_persons"}, purposes={Purpose.SAFEGUARDING_CHILDREN}, about={About.EVERYONE})
PUPILS = terms(feeds={"police_incident_persons"}, purposes={Purpose.OPERATION_ENCOMPASS}, about={About.OWN_PUPILS})
SC = Purpose.SAFEGUARDING_CHILDREN
OE = Purpose.OPERATION_ENCOMPASS
REASON = "Child missing tonight, urgent welfare check"

# action, principal, subject, facts, purpose, break-glass reason -> allowed?, words in the reason, break-glass?
CASES = [
    ("sign-in", None, None, FakeFacts(), None, None, True, "open to everyone", False),
    ("view-work-items", None, None, FakeFacts(), None, None, False, "sign in first", False),
    ("view-work-items", HUB, None, FakeFacts(), None, None, True, "granted", False),
    (
        "view-work-items",
        principal(Role.ADMINISTRATOR),
        None,
        FakeFacts([EVERYONE]),
        None,
        None,
        False,
        "separation of duties",
        False,
    ),
    (
        "view-work-items",
        principal(Role.PUBLIC_HEALTH_ANALYST),
        None,
        FakeFacts(),
        None,
        None,
        False,
        "statistics only",
        False,
    ),
    ("manage-users", HUB, None, FakeFacts(), None, None, False, "not granted 'manage-users'", False),
    (
        "manage-agreements",
        principal(Role.DATA_PROTECTION_OFFICER),
        None,
        FakeFacts(),
        None,
        None,
        True,
        "granted",
        False,
    ),
    ("view-work-items", HUB, ITEM, FakeFacts([EVERYONE]), SC, None, True, "under agreement DSA-1", False),
    ("view-work-items", HUB, ITEM, FakeFacts([EVERYONE]), None, None, False, "for which purpose", False),
    ("view-work-items", HUB, ITEM, FakeFacts([EVERYONE]), Purpose.DIRECT_CARE, None, False, "no agreement", False),
    ("view-work-items", HUB, ITEM, FakeFacts([]), SC, None, False, "no agreement", False),
    (
        "view-work-items",
        HUB,
        Subject(
            kind=SubjectKind.WORK_ITEM,
            id="1",
            organisation_id=1,
            role=Role.HUB_PRACTITIONER,
            person_id="P1",
            feeds=frozenset({"police_incident_persons", "custody_records"}),
        ),
        FakeFacts([EVERYONE]),
        SC,
        None,
        False,
        "no agreement",
        False,
    ),
    (
        "view-work-items",
        HUB,
        Subject(kind=SubjectKind.WORK_ITEM, id="1", organisation_id=2, role=Role.HUB_PRACTITIONER, person_id="P1"),
        FakeFacts([EVERYONE]),
        SC,
        None,
        False,
        "another organisation",
        False,
    ),
    (
        "view-work-items",
        HUB,
        Subject(kind=SubjectKind.WORK_ITEM, id="1", organisation_id=1, role=Role.POLICE_OFFICER, person_id="P1"),
        FakeFacts([EVERYONE]),
        SC,
        None,
        False,
        "routed to the role",
        False,
    ),
    ("view-work-items", HUB, ITEM, FakeFacts([]), SC, REASON, True, "break-glass", True),
    ("view-work-items", HUB, ITEM, FakeFacts([]), SC, "because", False, "at least 20 characters", False),
    (
        "view-work-items",
        HUB,
        Subject(kind=SubjectKind.WORK_ITEM, id="1", organisation_id=2, role=Role.HUB_PRACTITIONER, person_id="P1"),
        FakeFacts([]),
        SC,
        REASON,
        False,
        "another organisation",
        False,
    ),
    (
        "view-person",
        SCHOOL,
        SCHOOL_ITEM,
        FakeFacts([PUPILS], frozenset({About.OWN_PUPILS})),
        OE,
        None,
        True,
        "under agreement",
        False,
    ),
    ("view-person", SCHOOL, SCHOOL_ITEM, FakeFacts([PUPILS], frozenset()), OE, None, False, "no agreement", False),
    (
        "view-person",
        SCHOOL,
        SCHOOL_ITEM,
        FakeFacts([PUPILS], frozenset({About.OWN_CASES})),
        OE,
        None,
        False,
        "no agreement",
        False,
    ),
    ("view-person", SCHOOL, SCHOOL_ITEM, FakeFacts([], frozenset()), OE, REASON, False, "never breaks glass", False),
    (
        "view-agreements",
        HUB,
        Subject(kind=SubjectKind.AGREEMENT, id="3", organisation_id=2),
        FakeFacts(),
        None,
        None,
        False,
        "another organisation",
        False,
    ),
    (
        "view-agreements",
        principal(Role.DATA_PROTECTION_OFFICER),
        Subject(kind=SubjectKind.AGREEMENT, id="3", organisation_id=2),
        FakeFacts(),
        None,
        None,
        True,
        "granted",
        False,
    ),
]


@pytest.mark.parametrize(("name", "who", "subject", "facts", "purpose", "reason", "allowed", "words", "glass"), CASES)
def test_resolver_cases(
    name: str,
    who: Principal | None,
    subject: Subject | None,
    facts: FakeFacts,
    purpose: Purpose | None,
    reason: str | None,
    allowed: bool,
    words: str,
    glass: bool,
) -> None:
    decision = resolve(
        name, principal=who, facts=facts, at=NOW, subject=subject, purpose=purpose, break_glass_reason=reason
    )
    assert (decision.allowed, decision.break_glass) == (allowed, glass), decision
    assert words in decision.reason


def test_every_granted_and_required_action_is_declared() -> None:
    for grants in ROLE_GRANTS.values():
        assert grants <= set(ACTIONS)
    for act in ACTIONS.values():
        assert act.also_requires is None or act.also_requires in ACTIONS


def test_agreement_specs_validate_and_round_trip() -> None:
    spec = AgreementSpec(
        reference="DSA-7",
        title="Encompass",
        organisation="SCHA",
        feeds=("police_incident_persons",),
        about=(About.OWN_PUPILS,),
        purposes=(Purpose.OPERATION_ENCOMPASS,),
        lawful_basis="UK GDPR 6(1)(e); Children Act 2004 s11",
        valid_from=dt.date(2024, 9, 1),
    )
    assert AgreementSpec.from_yaml(spec.to_yaml()) == spec
    assert AgreementSpec.model_validate_json(spec.model_dump_json()) == spec
    with pytest.raises(ValidationError, match="not a feed of records about people"):
        spec.model_copy(update={"feeds": ("schools",)}).model_validate(spec.model_dump() | {"feeds": ["schools"]})
    with pytest.raises(ValidationError, match="valid_until is before valid_from"):
        AgreementSpec.model_validate(spec.model_dump() | {"valid_until": dt.date(2024, 1, 1)})


def test_ending_an_agreement_stops_access_at_once_and_keeps_history(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    world = build_world(sessions, with_agreements=True)
    item = world.items["P-LA-1"]
    practitioner = TestClient(client.app, base_url="https://testserver")
    login_as(practitioner, sessions, world.users["hub@la.example"])
    url = f"/api/work-items/{item}?purpose=safeguarding_children"
    assert practitioner.get(url).status_code == 200
    dpo_csrf = login_as(client, sessions, world.users["dpo@la.example"])
    agreement_id = world.agreements["DSA-LA"][0]
    ended = client.post(
        f"/api/agreements/{agreement_id}/end", json={"reason": "partner withdrew"}, headers={"X-CSRF-Token": dpo_csrf}
    )
    assert ended.status_code == 200 and ended.json()["in_force"] is False
    refused = practitioner.get(url)
    assert refused.status_code == 403 and "no agreement" in refused.json()["detail"]
    history = client.get(f"/api/agreements/{agreement_id}/history").json()
    assert [h["change"] for h in history] == ["created", "ended"]
    assert history[1]["reason"] == "partner withdrew"
    with sessions() as db:
        denied = db.scalars(select(AuditEvent).where(AuditEvent.outcome == "denied", AuditEvent.person_id == "P-LA-1"))
        assert len(list(denied)) == 1


def test_break_glass_opens_an_item_no_agreement_covers_and_reports_it(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    world = build_world(sessions, with_agreements=False)
    login_as(client, sessions, world.users["officer@pol.example"])
    url = f"/api/work-items/{world.items['P-POL-2']}?purpose=crime_prevention"
    assert client.get(url).status_code == 403
    header = {"Commonground-Break-Glass-Reason": "Threat to life reported, need custody history now"}
    assert client.get(url, headers=header).status_code == 200
    with sessions() as db:
        reports = list(
            db.scalars(select(BreakGlassReport).where(BreakGlassReport.subject_id == str(world.items["P-POL-2"])))
        )
        assert len(reports) == 1 and reports[0].reason.startswith("Threat to life")
        event = db.get_one(AuditEvent, reports[0].audit_seq)
        assert (event.break_glass, event.person_id, event.purpose) == (True, "P-POL-2", "crime_prevention")


def _flag(person: str, evidence: str, episode: str = "") -> FlagRecord:
    return FlagRecord(
        person_id=person,
        rule_id="ace.domestic_abuse",
        rule_version="1",
        route_to=RouteTo(organisation_type=OT.SCHOOL, role=Role.SCHOOL_SAFEGUARDING_LEAD, organisation="100001"),
        due_by=utcnow() + dt.timedelta(hours=20),
        evidence_ids=(evidence,),
        purpose=Purpose.OPERATION_ENCOMPASS,
        episode=episode,
    )


def test_a_flag_seen_before_is_never_duplicated(sessions: sessionmaker[Session]) -> None:
    build_world(sessions, with_agreements=False)
    with sessions() as db:
        first = upsert_work_items(
            db, [_flag("C1", "police_incident_persons:A"), _flag("C2", "police_incident_persons:B")]
        )
        db.commit()
    with sessions() as db:
        again = upsert_work_items(
            db,
            [
                _flag("C1", "police_incident_persons:A"),
                _flag("C2", "police_incident_persons:C").model_dump(mode="json"),  # plain records are accepted too
                _flag("C1", "police_incident_persons:D", episode="incident D"),
            ],
        )
        db.commit()
        assert (first.created, again.created, again.already_seen, again.evidence_added) == (2, 1, 2, 1)
        items = {
            (i.person_id, i.episode): i
            for i in db.scalars(select(WorkItem).where(WorkItem.person_id.in_(["C1", "C2"])))
        }
        assert len(items) == 3
        assert items[("C2", "")].evidence == ["police_incident_persons:B", "police_incident_persons:C"]
        cases = db.scalar(
            select(func.count()).select_from(PersonRelationship).where(PersonRelationship.person_id == "C1")
        )
        assert cases == 1


def test_unroutable_flags_are_returned_not_guessed(sessions: sessionmaker[Session]) -> None:
    build_world(sessions, with_agreements=False)
    nowhere = _flag("C9", "police_incident_persons:Z").model_copy(
        update={"route_to": RouteTo(organisation_type=OT.SCHOOL, role=Role.SCHOOL_SAFEGUARDING_LEAD)}
    )
    with sessions() as db:
        result = upsert_work_items(db, [nowhere])
        assert (result.created, len(result.unroutable)) == (0, 1)


def test_agreement_changes_keep_history_rows(client: TestClient, sessions: sessionmaker[Session]) -> None:
    world = build_world(sessions, with_agreements=True)
    csrf = login_as(client, sessions, world.users["dpo@la.example"])
    agreement_id = world.agreements["DSA-SCHA"][0]
    spec = client.get(f"/api/agreements/{agreement_id}").json()["spec"]
    changed = client.put(
        f"/api/agreements/{agreement_id}",
        json={"spec": spec | {"about": ["own_pupils", "own_cases"]}, "reason": "pupils added"},
        headers={"X-CSRF-Token": csrf},
    )
    assert changed.status_code == 200 and changed.json()["version"] == 2
    wrong = client.put(
        f"/api/agreements/{agreement_id}",
        json={"spec": spec | {"about": ["everyone"]}, "reason": "too wide"},
        headers={"X-CSRF-Token": csrf},
    )
    assert wrong.status_code == 400 and "never everyone" in wrong.json()["detail"]
    with sessions() as db:
        versions = db.scalars(
            select(AgreementVersion)
            .where(AgreementVersion.agreement_id == agreement_id)
            .order_by(AgreementVersion.version)
        ).all()
        assert [v.snapshot["about"] for v in versions] == [["own_cases"], ["own_cases", "own_pupils"]]


@pytest.mark.parametrize("related", [frozenset(), frozenset({About.OWN_CASES})])
def test_feeds_open_to_each_agrees_with_feeds_open_to_one_by_one(related: frozenset[About]) -> None:
    """The household's feeds are read in one go (#16); the answer is the one-at-a-time answer for each person."""
    facts = FakeFacts(
        agreements=[
            terms(feeds={"police_incidents"}, purposes={Purpose.SAFEGUARDING_CHILDREN}, about={About.EVERYONE}),
            terms(feeds={"school_roll"}, purposes={Purpose.SAFEGUARDING_CHILDREN}, about={About.OWN_CASES}),
            terms(feeds={"ed_attendances"}, purposes={Purpose.DIRECT_CARE}, about={About.EVERYONE}),
        ],
        related=related,
    )
    me = principal(Role.HUB_PRACTITIONER)
    people = ["P1", "P2", "P3"]
    each = feeds_open_to_each(me, person_ids=people, purpose=Purpose.SAFEGUARDING_CHILDREN, facts=facts, at=NOW)
    for person_id in people:
        one = feeds_open_to(me, person_id=person_id, purpose=Purpose.SAFEGUARDING_CHILDREN, facts=facts, at=NOW)
        assert each[person_id] == one
    expected = {"police_incidents", "school_roll"} if related else {"police_incidents"}
    assert each["P1"] == frozenset(expected)


def test_a_refusal_names_the_kinds_of_record_no_agreement_covers() -> None:
    """#17: a refusal caused by mental-health records in a flag's evidence said the purpose was the cause."""
    facts = FakeFacts(
        agreements=[
            terms(feeds={"police_incident_persons"}, purposes={Purpose.SAFEGUARDING_CHILDREN}, about={About.EVERYONE})
        ]
    )
    subject = Subject(
        kind=SubjectKind.PERSON,
        id="P1",
        person_id="P1",
        feeds=frozenset({"police_incident_persons", "mental_health_contacts"}),
    )
    decision = resolve(
        "view-person", principal=HUB, facts=facts, at=NOW, subject=subject, purpose=Purpose.SAFEGUARDING_CHILDREN
    )
    assert not decision.allowed
    assert decision.reason.endswith("for records of these kinds about this person: mental-health service contacts")
    other = resolve(
        "view-person", principal=HUB, facts=facts, at=NOW, subject=subject, purpose=Purpose.CRIME_PREVENTION
    )
    assert "for these records about this person" in other.reason  # no agreement for the purpose at all
