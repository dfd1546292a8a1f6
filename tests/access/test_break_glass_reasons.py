"""A break-glass reason must be real words (#18): padding with invisible characters or dots is refused, at the
resolver, through the API's header, and (the page uses the same rule) on the person page."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from service_support import login_as
from service_world import build_world
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from commonground.access.models import BreakGlassReport
from commonground.access.reasons import reason_problem, visible

ZERO_WIDTH = "\u200b"


@pytest.mark.parametrize(
    ("reason", "problem"),
    [
        (ZERO_WIDTH * 25, "at least 20 characters"),
        ("." * 20, "at least 4 words"),
        ("...................................................", "at least 4 words"),
        ("a b c d e f g h i j k l m n o p", "at least 4 words"),  # one-letter words are not words
        ("\u2060\ufeff\u00ad" * 10 + "urgent", "at least 20 characters"),  # joiners, BOM, soft hyphens
        ("x" * 40, "at least 4 words"),
        ("Threat to life reported, need custody history now", None),
        ("Child missing; police ask for school contact now", None),
        ("Ärztliche Notfall: Patientin in Krise, Verlauf nötig", None),  # letters of any script count
    ],
)
def test_a_reason_is_words_not_padding(reason: str, problem: str | None) -> None:
    found = reason_problem(reason)
    assert (found is None) == (problem is None)
    if problem is not None:
        assert found is not None and problem in found


def test_invisible_characters_are_removed_before_counting() -> None:
    assert visible(f"need{ZERO_WIDTH}{ZERO_WIDTH} the  record\u2060 now") == "need the record now"


@pytest.mark.parametrize("padding", [ZERO_WIDTH * 25, "." * 20, "        padding          "])
def test_the_api_refuses_a_padded_break_glass_header_and_reports_nothing(
    client: TestClient, sessions: sessionmaker[Session], padding: str
) -> None:
    world = build_world(sessions, with_agreements=False)
    login_as(client, sessions, world.users["officer@pol.example"])
    item = str(world.items["P-POL-2"])
    url = f"/api/work-items/{item}?purpose=crime_prevention"
    refused = client.get(url, headers={"Commonground-Break-Glass-Reason": padding.encode("utf-8")})  # as sent
    assert refused.status_code == 403
    assert "break-glass needs a reason" in refused.json()["detail"]
    with sessions() as db:
        assert list(db.scalars(select(BreakGlassReport).where(BreakGlassReport.subject_id == item))) == []
