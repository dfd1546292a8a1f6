"""The RAG rating in every queue (#17): an item's colour is its rating (its priority, given by the rules with the
reason in words), and the time left is said apart ("due in 3 hours", "overdue by 2 days", an "Overdue" tag of its
own). The queue sorts red first and filters by rating and by deadline; the work item page and the home page show the
rating. Read through the app as the local authority's hub practitioner."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from fastapi.testclient import TestClient
from service_support import login_as
from service_world import World, build_world
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from commonground.access.purposes import Purpose
from commonground.access.roles import Role
from commonground.cases.work_items import FlagRecord, Rating, RouteTo, WorkItem, upsert_work_items
from commonground.store.db import utcnow
from commonground.store.organisation_types import OrganisationType as OT
from commonground.web.render import due_words

HUB = "hub@la.example"
RED_WHY = "Red: usually amber; raised one step because the latest record behind it is from 2 days ago."
AMBER_WHY = "Amber: the usual rating for this flag."
GREEN_WHY = "Green: usually amber; lowered one step because the latest record behind it is 20 days old."
RATING = re.compile(r'data-rating="(red|amber|green|none)"')


def _rated(sessions: sessionmaker[Session]) -> World:
    """The service world, and three rated items for the hub beside its unrated one (due in a day): green and two
    days overdue, amber due in 5 hours, red due in 90 minutes."""
    world = build_world(sessions, with_agreements=True)
    now = utcnow()
    rows = [
        ("P-GREEN", Rating.GREEN, GREEN_WHY, now - dt.timedelta(days=2, minutes=5)),
        ("P-AMBER", Rating.AMBER, AMBER_WHY, now + dt.timedelta(hours=5, minutes=5)),
        ("P-RED", Rating.RED, RED_WHY, now + dt.timedelta(minutes=95)),
    ]
    with sessions() as db:
        upsert_work_items(
            db,
            [
                FlagRecord(
                    person_id=person,
                    rule_id="test.rule",
                    rule_version="1",
                    route_to=RouteTo(organisation_type=OT.LOCAL_AUTHORITY_CHILDRENS, role=Role.HUB_PRACTITIONER),
                    due_by=due,
                    evidence_ids=(f"police_incident_persons:I-{person}",),
                    purpose=Purpose.SAFEGUARDING_CHILDREN,
                    rating=rating,
                    rating_reason=why,
                )
                for person, rating, why, due in rows
            ],
        )
        db.commit()
        world.items |= {i.person_id: i.id for i in db.scalars(select(WorkItem).where(WorkItem.person_id.like("P-%")))}
    return world


def _table(text: str) -> str:
    return text.split('id="queue"', 1)[1].split("</table>", 1)[0]


def _people(text: str) -> list[str]:
    return re.findall(r"P-(?:RED|AMBER|GREEN|LA-1)", _table(text))


@pytest.fixture
def hub(client: TestClient, sessions: sessionmaker[Session]) -> TestClient:
    world = _rated(sessions)
    login_as(client, sessions, world.users[HUB])
    return client


def test_the_queue_colours_each_item_by_its_rating_red_first_with_the_reason(hub: TestClient) -> None:
    page = hub.get("/queue")
    assert page.status_code == 200
    table = _table(page.text)
    assert RATING.findall(table) == ["red", "amber", "green", "none"]
    assert _people(page.text) == ["P-RED", "P-AMBER", "P-GREEN", "P-LA-1"]
    for why in (RED_WHY, AMBER_WHY, GREEN_WHY):
        assert why in table
    assert ">Not rated<" in table


def test_the_time_left_is_said_apart_with_an_overdue_tag_of_its_own(hub: TestClient) -> None:
    table = _table(hub.get("/queue").text)
    assert table.count("cg-tag--overdue") == 1 and ">Overdue<" in table
    assert "overdue by 2 days" in table
    assert "due in 5 hours" in table and "due in 1 hour" in table and "due in 23 hours" in table
    assert "cg-tag--red" in table and "cg-tag--green" in table  # the colours are the ratings


@pytest.mark.parametrize(
    ("query", "people"),
    [
        ("rag=red", ["P-RED"]),
        ("rag=green", ["P-GREEN"]),
        ("rag=none", ["P-LA-1"]),
        ("due=overdue", ["P-GREEN"]),
        ("due=not_overdue", ["P-RED", "P-AMBER", "P-LA-1"]),
        ("rag=amber&due=overdue", []),
        ("sort=due", ["P-GREEN", "P-RED", "P-AMBER", "P-LA-1"]),
    ],
)
def test_the_queue_filters_and_sorts_by_rating_and_deadline(hub: TestClient, query: str, people: list[str]) -> None:
    page = hub.get(f"/queue?{query}")
    assert page.status_code == 200
    shown = _people(page.text) if 'id="queue"' in page.text else []
    assert shown == people


def test_the_queue_charts_count_open_work_by_rating_and_by_deadline(hub: TestClient) -> None:
    text = hub.get("/queue").text
    assert 'aria-label="Open work by rating: Red 1; Amber 1; Green 1; Not rated 1"' in text
    assert 'aria-label="Open work by deadline: Overdue 1; Not yet due 3"' in text


def test_the_work_item_page_shows_the_rating_the_reason_and_the_time_left(
    hub: TestClient, sessions: sessionmaker[Session]
) -> None:
    with sessions() as db:
        green = db.scalars(select(WorkItem.id).where(WorkItem.person_id == "P-GREEN")).one()
        red = db.scalars(select(WorkItem.id).where(WorkItem.person_id == "P-RED")).one()
    text = hub.get(f"/queue/{green}").text
    rating = text.split('id="rating"', 1)[1].split("</p>", 1)[0]
    assert 'data-rating="green"' in rating and "Usually amber; lowered one step because the latest record" in rating
    deadline = text.split('id="deadline"', 1)[1].split("</p>", 1)[0]
    assert ">Overdue<" in deadline and "Overdue by 2 days" in deadline
    text = hub.get(f"/queue/{red}").text
    assert RED_WHY.removeprefix("Red: u") in text and ">Overdue<" not in text and "Due in 1 hour" in text


def test_the_api_gives_the_rating_and_the_reason(hub: TestClient, sessions: sessionmaker[Session]) -> None:
    with sessions() as db:
        red = db.scalars(select(WorkItem.id).where(WorkItem.person_id == "P-RED")).one()
    item = hub.get(f"/api/work-items/{red}?purpose=safeguarding_children")
    assert item.status_code == 200
    assert (item.json()["rating"], item.json()["rating_reason"]) == ("red", RED_WHY)


def test_the_home_page_counts_open_work_by_rating_and_overdue_apart(hub: TestClient) -> None:
    text = hub.get("/").text
    assert re.search(r'id="queue-red">1<', text) and re.search(r'id="queue-overdue">1<', text)
    assert 'aria-label="Open work by rating: Red 1; Amber 1; Green 1; Not rated 1"' in text


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [
        (180, (False, "due in 3 hours")),
        (-2 * 24 * 60 - 5, (True, "overdue by 2 days")),
        (30, (False, "due in 30 minutes")),
        (-1, (True, "overdue by 1 minute")),
    ],
)
def test_the_time_left_in_words(minutes: int, expected: tuple[bool, str]) -> None:
    now = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC)
    assert due_words(now + dt.timedelta(minutes=minutes), now) == expected
