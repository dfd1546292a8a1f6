"""The soak's clients (#18): practitioners signed in through the sign-in form, each doing a realistic mix of reads
and writes with a pause between requests, and what every request was answered.

Most clients are hub practitioners (the MASH's and the police vulnerability hub's, alternately: the demo's work
items are the police hub's): the queue page and API, a work item's page and API, a person's page and API with a
purpose, notes (each with its form's idempotency key; one in five sent again with the same key a moment later, as a
browser retries after a lost answer) and work item moves (claimed on the page, put back through the API). One client
in five is a mental-health professional in the police control room: the triage log, the form started from a
person's record, triage contacts recorded, and people's pages.
"""

from __future__ import annotations

import asyncio
import random
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import httpx

HUB = ("mash@qxla.example", "vulnerability-hub@qxp.example")
CONTROL_ROOM = "control-room@qxmh.example"
HUB_PURPOSE = "safeguarding_children"
TRIAGE_PURPOSE = "mental_health_crisis_care"
NOTE_PREFIX = "Soak note"
JSON = {"Accept": "application/json"}


@dataclass
class Record:
    """Every answer (seconds since the start, what was asked, its status or error, how long it took) and what the
    writes were told."""

    started: float = field(default_factory=time.monotonic)
    run: str = field(default_factory=lambda: secrets.token_hex(4))
    """Written into every note of this soak, so that its notes are told from an earlier soak's on the same store."""
    answers: list[tuple[float, str, str, float]] = field(default_factory=list)
    notes_acknowledged: set[str] = field(default_factory=set)
    retries_answered_alike: int = 0
    retries_answered_otherwise: int = 0

    def add(self, kind: str, status: str, seconds: float) -> None:
        self.answers.append((time.monotonic() - self.started, kind, status, seconds))


RETRY_IN_FLIGHT = "409 (retry in flight)"
"""A retry answered 409 "received already; reload to see whether it was done": the first answer was sent and not
yet kept for retries (it is kept just after it is sent). An expected answer, counted apart, never an error."""


def is_error(status: str) -> bool:
    """Any answer but 2xx and 3xx, and any failed request: the clients ask only for what they may see, so the only
    4xx expected is a retry's 409 while the first answer is being kept (:data:`RETRY_IN_FLIGHT`)."""
    return status != RETRY_IN_FLIGHT and not (status.isdigit() and 200 <= int(status) < 400)


def area_people(build: Path, n: int = 400) -> list[str]:
    """A fixed sample of the people of a build, for the clients to open and write about."""
    con = duckdb.connect(str(build / "build.duckdb"), read_only=True)
    try:
        rows = con.execute(f"SELECT person_id FROM persons USING SAMPLE {n} ROWS (reservoir, 18)").fetchall()
    finally:
        con.close()
    return sorted(str(r[0]) for r in rows)


async def sign_in(base: str, email: str, password: str) -> tuple[httpx.AsyncClient, str]:
    """A client signed in through the sign-in form (its CSRF token, the password, the cookie it sets), with the
    CSRF token its forms send (from ``/api/me``)."""
    client = httpx.AsyncClient(base_url=base, timeout=120, headers={"Accept": "text/html"})
    form = await client.get("/sign-in")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    if token is None:
        await client.aclose()
        raise RuntimeError("the sign-in form has no CSRF token")
    signed = await client.post("/sign-in", data={"email": email, "password": password, "csrf_token": token.group(1)})
    if signed.status_code != 303:
        await client.aclose()
        raise RuntimeError(f"sign-in refused: {signed.status_code}")
    me = await client.get("/api/me", headers=JSON)
    return client, str(me.json()["csrf_token"])


async def work_items(client: httpx.AsyncClient) -> list[tuple[int, str]]:
    """The work items in the signed-in practitioner's queue, with the purpose each serves."""
    found: set[tuple[int, str]] = set()
    for purpose in ("safeguarding_children", "safeguarding_adults"):
        answer = await client.get(f"/api/work-items?purpose={purpose}", headers=JSON)
        answer.raise_for_status()
        found |= {(int(i["id"]), str(i["purpose"])) for i in answer.json()["items"]}
    return sorted(found)


def new_key() -> str:
    return secrets.token_urlsafe(18)


class Client:
    """One practitioner's browser or API client: signed in, then a request, a pause, a request ... until told."""

    ACTIONS: tuple[tuple[str, int], ...] = ()

    def __init__(
        self, number: int, http: httpx.AsyncClient, csrf: str, *, people: list[str], record: Record, think: float
    ) -> None:
        self.number, self.http, self.csrf, self.people, self.record = number, http, csrf, people, record
        self.think = think
        self.rng = random.Random(f"soak-{number}")

    async def timed(self, kind: str, method: str, url: str, **kwargs: object) -> httpx.Response | None:
        """The request, its answer recorded (a failed connection or a timeout as its error's name)."""
        started = time.monotonic()
        try:
            answer = await self.http.request(method, url, **kwargs)  # type: ignore[arg-type]
        except httpx.HTTPError as error:
            self.record.add(kind, type(error).__name__, time.monotonic() - started)
            return None
        self.record.add(kind, str(answer.status_code), time.monotonic() - started)
        return answer

    def person(self) -> str:
        return self.rng.choice(self.people)

    async def pause(self) -> None:
        await asyncio.sleep(self.rng.uniform(0, 2 * self.think))

    async def run(self, until: float) -> None:
        actions = self.actions()
        names = list(actions)
        weights = [dict(self.ACTIONS)[name] for name in names]
        while time.monotonic() < until:
            await actions[self.rng.choices(names, weights)[0]]()
            await self.pause()

    def actions(self) -> dict[str, Callable[[], Awaitable[object]]]:
        raise NotImplementedError


class HubClient(Client):
    """A hub practitioner: the queue, work items, people's pages and API, notes and work item moves."""

    ACTIONS = (
        ("queue page", 3),
        ("queue API", 1),
        ("work item page", 2),
        ("work item API", 1),
        ("person page", 3),
        ("person API", 2),
        ("note", 2),
        ("work item move", 1),
    )

    def __init__(self, *args: object, items: list[tuple[int, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.items = items
        self.sent = 0

    def actions(self) -> dict[str, Callable[[], Awaitable[object]]]:
        found: dict[str, Callable[[], Awaitable[object]]] = {
            "queue page": lambda: self.timed("queue page", "GET", "/queue"),
            "queue API": lambda: self.timed("queue API", "GET", f"/api/work-items?purpose={HUB_PURPOSE}", headers=JSON),
            "person page": lambda: self.timed("person page", "GET", f"/people/{self.person()}?purpose={HUB_PURPOSE}"),
            "person API": lambda: self.timed(
                "person API", "GET", f"/api/people/{self.person()}?purpose={HUB_PURPOSE}", headers=JSON
            ),
            "note": self.note,
        }
        if self.items:  # the MASH's queue in the demo is empty: its practitioners read people and write notes
            found["work item page"] = lambda: self.timed(
                "work item page", "GET", f"/queue/{self.rng.choice(self.items)[0]}"
            )
            found["work item API"] = self.item_api
            found["work item move"] = self.move
        return found

    async def item_api(self) -> None:
        item, purpose = self.rng.choice(self.items)
        await self.timed("work item API", "GET", f"/api/work-items/{item}?purpose={purpose}", headers=JSON)

    async def note(self) -> None:
        """A note with its form's idempotency key; one in five is sent again with the same key after a moment: the
        retry must be answered as the first was, and add nothing."""
        self.sent += 1
        text = f"{NOTE_PREFIX} {self.record.run} {self.number}-{self.sent}: spoke to the school; no new concern."
        data = {"csrf_token": self.csrf, "purpose": HUB_PURPOSE, "text": text, "idempotency_key": new_key()}
        url = f"/people/{self.person()}/notes"
        first = await self.timed("note", "POST", url, data=data)
        if first is None or first.status_code != 303:
            return
        self.record.notes_acknowledged.add(text)
        if self.rng.random() >= 0.2:
            return
        await self.pause()
        started = time.monotonic()
        try:
            again = await self.http.post(url, data=data)
        except httpx.HTTPError as error:
            self.record.add("note (retry)", type(error).__name__, time.monotonic() - started)
            return
        status = RETRY_IN_FLIGHT if again.status_code == 409 else str(again.status_code)
        self.record.add("note (retry)", status, time.monotonic() - started)
        if again.status_code == 303:
            alike = again.headers.get("location") == first.headers.get("location")
            self.record.retries_answered_alike += alike
            self.record.retries_answered_otherwise += not alike

    async def move(self) -> None:
        """Claim an item on its page (a form with an idempotency key), or put it back in the queue through the API
        (``PATCH`` with an ``Idempotency-Key``). Never closed: a closed item cannot be reopened, and the demo's
        queue is short."""
        item, purpose = self.rng.choice(self.items)
        if self.rng.random() < 0.5:
            data = {"csrf_token": self.csrf, "do": "claim", "idempotency_key": new_key()}
            await self.timed("work item move", "POST", f"/queue/{item}", data=data)
            return
        headers = {**JSON, "X-CSRF-Token": self.csrf, "Idempotency-Key": new_key()}
        url = f"/api/work-items/{item}?purpose={purpose}"
        await self.timed("work item move", "PATCH", url, json={"status": "open"}, headers=headers)


class ControlRoomClient(Client):
    """A mental-health professional in the police control room: the triage log, the triage form started from a
    person's record, triage contacts recorded, and people's pages."""

    ACTIONS = (("triage log", 2), ("triage form", 2), ("triage contact", 2), ("person page", 2))

    def actions(self) -> dict[str, Callable[[], Awaitable[object]]]:
        return {
            "triage log": lambda: self.timed("triage log", "GET", "/triage"),
            "triage form": lambda: self.timed("triage form", "GET", f"/triage/new?person={self.person()}"),
            "triage contact": lambda: self.timed("triage contact", "POST", "/triage/new", data=self.contact()),
            "person page": lambda: self.timed(
                "person page", "GET", f"/people/{self.person()}?purpose={TRIAGE_PURPOSE}"
            ),
        }

    def contact(self) -> dict[str, str]:
        moment = time.gmtime(time.time() - 3600)  # an hour ago (UTC; UK time in winter): never in the future
        referred = self.rng.random() < 0.5
        return {
            "csrf_token": self.csrf,
            "idempotency_key": new_key(),
            "person_id": self.person(),
            "contacted_date": time.strftime("%Y-%m-%d", moment),
            "contacted_time": time.strftime("%H:%M", moment),
            "duration_minutes": str(self.rng.randint(5, 60)),
            "setting": "control_room",
            "advice": "Advised the officers on the person's known care plan.",
            "outcome": "crisis_team_referral" if referred else "gp_referral",
            "s136": self.rng.choice(["avoided", "not_considered"]),
            "conveyance": "none",
            "crisis_team_referral": "yes" if referred else "no",
        }


async def start_clients(
    base: str, password: str, people: list[str], *, clients: int, think: float, record: Record
) -> list[Client]:
    """Every client signed in (one after the other, before the clock starts): four in five hub practitioners,
    alternately of the MASH and of the police hub, one in five in the control room."""
    started: list[Client] = []
    queues: dict[str, list[tuple[int, str]]] = {}
    for n in range(clients):
        if n % 5 == 4:
            http, csrf = await sign_in(base, CONTROL_ROOM, password)
            started.append(ControlRoomClient(n, http, csrf, people=people, record=record, think=think))
            continue
        email = HUB[n % 2]
        http, csrf = await sign_in(base, email, password)
        if email not in queues:
            queues[email] = await work_items(http)
        items = queues[email]
        started.append(HubClient(n, http, csrf, people=people, record=record, think=think, items=items))
    return started
