"""What the referral tests share: the people of the test partnership, a client signed in as one of them, the body
of a referral made through the API, and a fake person view for the pages (one child with two police incident
records: the flag rests on the first, the second is the rest of the record)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from service_support import login_as
from service_world import World
from sqlalchemy.orm import Session, sessionmaker

from commonground.cases.person_view import Event, EvidenceItem, Identity, LinkedRecord, RuleResult

HUB = "hub@la.example"
PARTNER = "team@das.example"
OFFICER = "officer@pol.example"
TRIAGE = "triage@nhs.example"
SCHOOL = "dsl@scha.example"
PERSON = "P-LA-1"
FEED = "police_incident_persons"
FLAG_RECORD = "I1"
"""The record behind the test flag (the work item's evidence)."""
OTHER_RECORD = "I9"
"""Another record of the person, not behind the flag."""
LEGAL_BASIS = "Children Act 2004 s11; UK GDPR 6(1)(e) and 9(2)(g); DPA 2018 Sch 1 para 18"
SUMMARY = "Repeated incidents at home; please offer the family support."


class As:
    """One client per person, signed in, sending the CSRF header."""

    def __init__(self, app: FastAPI, sessions: sessionmaker[Session], world: World, email: str) -> None:
        self.client = TestClient(app, base_url="https://testserver")
        self.csrf = login_as(self.client, sessions, world.users[email])

    def get(self, url: str, **kw: Any) -> Any:
        return self.client.get(url, **kw)

    def post(self, url: str, **kw: Any) -> Any:
        headers = {"X-CSRF-Token": self.csrf, **kw.pop("headers", {})}
        return self.client.post(url, headers=headers, **kw)


def body(world: World, **extra: Any) -> dict[str, Any]:
    """A referral of the test flag to the drug and alcohol service, sharing the record behind the flag."""
    return {
        "work_item_id": world.items[PERSON],
        "to_organisation_id": world.organisations["DAS"],
        "summary": SUMMARY,
        "consent": "not_needed",
        "consent_note": "safeguarding: consent would place the child at risk",
        "lawful_basis": LEGAL_BASIS,
        "items": [{"feed": FEED, "record_id": FLAG_RECORD}],
        **extra,
    }


def refer(app: FastAPI, sessions: sessionmaker[Session], world: World, **extra: Any) -> tuple[As, int]:
    """The hub refers the test flag through the API; its client and the referral's id."""
    hub = As(app, sessions, world, HUB)
    made = hub.post("/api/referrals", json=body(world, **extra))
    assert made.status_code == 201, made.text
    return hub, int(made.json()["id"])


class FakeView:
    """Just enough of a build's person view for the referral pages and the person page."""

    def identity(self, person_id: str) -> Identity | None:
        if person_id != PERSON:
            return None
        return Identity(
            person_id,
            "Alex",
            "Example",
            dt.date(2015, 5, 1),
            "F",
            None,
            2,
            (FEED,),
            dt.date(2024, 1, 1),
            dt.date(2025, 1, 1),
        )

    def rule_results(self, person_id: str, *, feeds: frozenset[str] | None) -> list[RuleResult]:
        evidence = (EvidenceItem(FEED, FLAG_RECORD, "incident", "incident", None, None),)
        result = RuleResult(
            "test.rule", 1, "flag", "A test flag", "Flag for testing.", LEGAL_BASIS, None, None, evidence
        )
        return [dataclasses.replace(result, labels={"incident": "an incident at home"})]

    def others_of(self, person_id: str) -> set[str]:
        return set()

    def rule_titles(self) -> dict[str, str]:
        return {"test.rule": "A test flag"}

    def feeds_of(self, person_id: str) -> frozenset[str]:
        return frozenset({FEED})

    def records(self, person_id: str, *, feeds: frozenset[str]) -> list[LinkedRecord]:
        return [
            LinkedRecord(FEED, record_id, 1.0, {"given_name": "Alex", "family_name": "Example"})
            for record_id in (FLAG_RECORD, OTHER_RECORD)
            if FEED in feeds
        ]

    def events(self, person_id: str, *, feeds: frozenset[str]) -> list[Event]:
        return (
            [
                Event(FEED, FLAG_RECORD, dt.datetime(2025, 1, 1, 21, 30, tzinfo=dt.UTC), {"role": "victim"}),
                Event(FEED, OTHER_RECORD, dt.datetime(2024, 3, 2, 10, 0, tzinfo=dt.UTC), {"role": "witness"}),
            ]
            if FEED in feeds
            else []
        )

    def links(self, person_id: str) -> list[Any]:
        return []

    def household(self, person_id: str) -> list[Any]:
        return []


class AdultView(FakeView):
    def identity(self, person_id: str) -> Identity | None:
        found = super().identity(person_id)
        return dataclasses.replace(found, date_of_birth=dt.date(1987, 7, 23)) if found else None
