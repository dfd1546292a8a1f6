"""Words shown to people never carry the service's internal identifiers: the pages a practitioner, a control-room
professional, a school's lead, the administrator and the data protection officer walk through in a day say
"Safeguarding adults" and "find a person", never ``safeguarding_adults`` or ``find-person``, in their visible text
(what is left when the tags are stripped: a form's values and a link's address may carry them) (#17)."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape

import pytest
from fastapi.testclient import TestClient
from person_view_fixture import ViewPerson, write_test_view
from service_support import form_csrf, login_as
from service_world import ITEMS, World, build_world
from sqlalchemy.orm import Session, sessionmaker

from commonground.access.actions import ACTIONS
from commonground.access.purposes import Purpose
from commonground.cases.person_view import Event
from commonground.web.present import headline
from commonground.web.render import action_label, in_words, purpose_label

ENGLISH = {"sign-in", "break-glass"}
"""Action names that are also ordinary English compounds ("the sign-in page", "break-glass access")."""
ACTION_NAMES = sorted(name for name in ACTIONS if "-" in name and name not in ENGLISH)
IDENTIFIERS = re.compile(
    r"(?<![\w-])(" + "|".join(re.escape(n) for n in [*(p.value for p in Purpose), *ACTION_NAMES]) + r")(?![\w-])"
)
PEOPLE = [
    ViewPerson(person, "Testgiven", f"Zed{person.replace('-', '')}", dt.date(2012, 5, 1), *evidence.split(":"))
    for person, _code, _role, evidence, _purpose in ITEMS
]


def visible(html: str) -> str:
    """The text a person reads: scripts, styles and tags (with their attributes) removed, entities decoded."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S | re.I)
    return unescape(re.sub(r"<[^>]+>", " ", html))


def problems(path: str, html: str) -> list[str]:
    text = visible(html)
    found = [
        f"{path}: {m[1]!r} in “…{text[max(0, m.start() - 40) : m.end() + 40].strip()}…”"
        for m in IDENTIFIERS.finditer(text)
    ]
    if re.search(r"\brisk risk\b", text, re.I):
        found.append(f"{path}: 'risk risk'")
    return found


@pytest.fixture
def world(client: TestClient, sessions: sessionmaker[Session]) -> World:
    built = build_world(sessions, with_agreements=True)
    write_test_view(client.app.state.settings.data_dir, PEOPLE)  # type: ignore[attr-defined]
    return built


def _walk(client: TestClient, paths: dict[str, set[int]]) -> list[str]:
    found: list[str] = []
    for path, statuses in paths.items():
        response = client.get(path, headers={"Accept": "text/html"})
        assert response.status_code in statuses, (path, response.status_code)
        found += problems(path, response.text)
    return found


def test_the_pages_of_a_day_show_labels_not_identifiers(
    client: TestClient, sessions: sessionmaker[Session], world: World
) -> None:
    found: list[str] = []
    ok, refused = {200}, {403}

    # a police officer breaks glass on a child no agreement of theirs covers, for the DPO to review
    csrf = login_as(client, sessions, world.users["officer@pol.example"])
    glass = client.post(
        "/people/P-LA-1/break-glass",
        data={
            "csrf_token": csrf,
            "purpose": "safeguarding_children",
            "reason": "Child reported missing tonight, officers at the door need the history now",
        },
    )
    assert glass.status_code == 200, glass.text
    found += problems("POST /people/P-LA-1/break-glass", glass.text)

    login_as(client, sessions, world.users["hub@la.example"])
    item = world.items["P-LA-1"]
    found += _walk(
        client,
        {
            "/": ok,
            "/queue": ok,
            f"/queue/{item}": ok,
            "/people/P-LA-1": ok,  # the purpose form
            "/people/P-LA-1?purpose=safeguarding_children": ok,
            "/people/P-LA-1?purpose=direct_care": refused,  # the purpose form again, saying why not
            "/people?family_name=ZedPLA1&purpose=safeguarding_children": ok,
            "/referrals": ok,
            "/agreements": ok,
            "/audit": refused,  # an error page with the resolver's reason
            "/subject-access": refused,
        },
    )
    login_as(client, sessions, world.users["triage@nhs.example"])
    found += _walk(client, {"/triage": ok, "/triage/new?person=P-NHS-3": ok, "/people/P-NHS-3": ok})
    login_as(client, sessions, world.users["dsl@scha.example"])
    found += _walk(client, {"/": ok, "/queue": ok, "/notices": ok, "/people?family_name=ZedPSCHA4": refused})
    login_as(client, sessions, world.users["admin@la.example"])
    found += _walk(client, {"/": ok, "/people/P-LA-1?purpose=safeguarding_children": refused})
    login_as(client, sessions, world.users["dpo@la.example"])
    found += _walk(
        client,
        {
            "/": ok,
            "/audit": ok,
            "/audit?action=find-person": ok,
            "/audit/break-glass": ok,
            "/agreements": ok,
            "/subject-access": ok,
            "/rule-packs": ok,
            "/people?family_name=ZedPLA1&purpose=safeguarding_children": refused,
        },
    )
    start = client.get("/subject-access")
    searched = client.post(
        "/subject-access/search", data={"csrf_token": form_csrf(start.text), "family_name": "ZedPLA1"}
    )
    found += problems("POST /subject-access/search", searched.text)
    assert not found, "\n".join(found)


def test_the_dpos_audit_log_says_each_action_and_purpose_in_words(
    client: TestClient, sessions: sessionmaker[Session], world: World
) -> None:
    login_as(client, sessions, world.users["hub@la.example"])
    assert client.get("/people/P-LA-1?purpose=safeguarding_children").status_code == 200
    login_as(client, sessions, world.users["dpo@la.example"])
    text = visible(client.get("/audit").text)
    assert "Open a person's record" in text and "Safeguarding children" in text
    assert '<option value="find-person">Find a person</option>' in client.get("/audit").text


def test_labels_and_refusals_in_words() -> None:
    assert purpose_label("safeguarding_adults") == "Safeguarding adults"
    assert purpose_label(Purpose.OPERATION_ENCOMPASS) == "Operation Encompass"
    assert purpose_label(None) == "" and purpose_label("something_else") == "something_else"
    assert action_label("find-person") == "Find a person"
    assert all(act.label[:1].islower() for act in ACTIONS.values())  # every action has one, said in running text
    assert (
        in_words("the role Data protection officer is not granted 'find-person'")
        == "the role Data protection officer may not find a person"
    )
    assert in_words(
        "no agreement of your organisation in force covers safeguarding_adults for these records about this person"
    ) == ("no agreement of your organisation in force covers safeguarding adults for these records about this person")
    assert in_words("covers operation_encompass") == "covers Operation Encompass"
    assert in_words("break-glass needs a reason: write more") == "break glass needs a reason: write more"


def test_a_missing_episode_says_its_risk_once() -> None:
    line = headline(Event(feed="missing_episodes", record_id="M-1", at=None, data={"risk_level": "medium"}))
    assert "risk risk" not in line, line
