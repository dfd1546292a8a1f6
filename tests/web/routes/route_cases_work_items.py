"""The route matrix: work items, by API and in the queue (web/api/work_items.py, web/pages/queue.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from route_matrix import CASEWORK, Builder, Oracle, Probe, fixed, one, roles
from service_world import ITEMS


def _work_item_list(o: Oracle, email: str | None) -> Callable[[Any], None]:
    def check(body: Any) -> None:
        shown = {item["person_id"] for item in body["items"]}
        expected = {p for p, *_ in ITEMS if o.item_visible(email, p)}
        assert shown == expected, (email, shown, expected)

    return check


def _each_item(method: str, suffix: str = "", **extra: Any) -> Builder:
    def build(o: Oracle, email: str | None, n: int) -> list[Probe]:
        return [
            Probe(
                method,
                f"/api/work-items/{o.world.items[p]}{suffix}?purpose={o.world.item_purposes[p].value}",
                allowed=o.item_visible(email, p),
                **extra,
            )
            for p, *_ in ITEMS
        ]

    return build


def _each_queue_item(method: str, **extra: Any) -> Builder:
    def build(o: Oracle, email: str | None, n: int) -> list[Probe]:
        return [
            Probe(method, f"/queue/{o.world.items[p]}", allowed=o.item_visible(email, p), echo=p, **extra)
            for p, *_ in ITEMS
        ]

    return build


ROUTES: dict[tuple[str, str], Builder] = {
    ("GET", "/api/work-items"): lambda o, e, n: [
        Probe(
            "GET",
            f"/api/work-items?purpose={o.purpose_for(e).value}",
            allowed=o.role(e) in CASEWORK,
            check=_work_item_list(o, e),
        )
    ],
    ("GET", "/api/work-items/{item_id}"): _each_item("GET"),
    ("GET", "/queue"): one("GET", fixed("/queue"), roles(*CASEWORK)),
    ("GET", "/queue/{item_id}"): _each_queue_item("GET"),
    ("POST", "/queue/{item_id}"): _each_queue_item("POST", form={"do": "claim"}, allowed_status=frozenset({303})),
    ("PATCH", "/api/work-items/{item_id}"): _each_item("PATCH", json={"status": "in_progress"}),
}
