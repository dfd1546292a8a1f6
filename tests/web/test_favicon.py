"""The service's icon: every page's head links it, and the browser's own request for ``/favicon.ico`` is answered
with it rather than a 404 on every page (#17)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from service_support import login_as
from service_world import build_world
from sqlalchemy.orm import Session, sessionmaker

ICON_LINK = re.compile(r'<link rel="icon" href="(/assets/[a-z]+\.svg)" type="image/svg\+xml">')


def _head(html: str) -> str:
    return html.split("</head>", 1)[0]


def test_favicon_and_the_linked_icon_answer_with_an_image(client: TestClient) -> None:
    ico = client.get("/favicon.ico")
    assert ico.status_code == 200
    assert ico.headers["content-type"].startswith("image/svg+xml")
    assert ico.content.lstrip().startswith(b"<svg")
    sign_in = client.get("/sign-in")
    found = ICON_LINK.search(_head(sign_in.text))
    assert found is not None, "the sign-in page links no icon"
    linked = client.get(found[1])
    assert linked.status_code == 200 and linked.headers["content-type"].startswith("image/")
    assert linked.content == ico.content
    assert client.get("/assets/nothing.svg").status_code == 404


def test_every_kind_of_page_links_the_icon(client: TestClient, sessions: sessionmaker[Session]) -> None:
    world = build_world(sessions, with_agreements=True)
    pages = {"/api/docs": client.get("/api/docs"), "/sign-in": client.get("/sign-in")}
    login_as(client, sessions, world.users["hub@la.example"])
    for path in ("/", "/queue", "/referrals", "/account", "/agreements", "/no-such-page", "/audit"):
        pages[path] = client.get(path, headers={"Accept": "text/html"})
    assert pages["/no-such-page"].status_code == 404 and pages["/audit"].status_code == 403  # the error pages too
    for path, response in pages.items():
        assert ICON_LINK.search(_head(response.text)), f"{path} links no icon"
