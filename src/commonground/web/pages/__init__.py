"""One module per area of the pages; each router's routes declare their action like the API's.

Registration is explicit: :data:`AREAS` lists the page modules, the app includes each one's ``router``, and
:func:`done_messages` gathers each one's ``DONE`` confirmations into one table when the app is built (nothing is
registered as a side effect of importing a module); likewise :func:`person_sections` gathers the parts other
areas add to the person page (each area's ``PERSON_SECTION``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any

from fastapi import APIRouter

from commonground.web.pages import (
    account,
    admin,
    dpo,
    home,
    landscape,
    library,
    link_reviews,
    people,
    queue,
    rule_packs,
    statistics,
    subject_access,
    transparency,
)
from commonground.web.pages import evaluations as evaluation_pages  # evaluation of interventions (#7)
from commonground.web.pages import notices as notice_pages  # school notices (#6)
from commonground.web.pages import referrals as referral_pages
from commonground.web.pages import triage as triage_pages  # street-triage log (#6)

AREAS: tuple[ModuleType, ...] = (
    home,
    queue,
    people,
    link_reviews,
    referral_pages,
    dpo,
    subject_access,
    account,
    admin,
    notice_pages,
    triage_pages,
    library,
    landscape,
    evaluation_pages,
    rule_packs,
    statistics,
    transparency,
)

ROUTERS: tuple[APIRouter, ...] = tuple(area.router for area in AREAS)


def done_messages() -> dict[str, str]:
    """Every area's confirmations by code; two areas may not use the same code."""
    table: dict[str, str] = {}
    for area in AREAS:
        for code, words in getattr(area, "DONE", {}).items():
            if code in table:
                raise ValueError(f"the confirmation code '{code}' is used by two page areas")
            table[code] = words
    return table


def person_sections() -> tuple[Callable[..., Mapping[str, Any]], ...]:
    """The functions ``(access, person_id, purpose) -> dict`` that add an area's part to the person page (the
    person's referrals, triage logs), in the order of :data:`AREAS`."""
    return tuple(area.PERSON_SECTION for area in AREAS if hasattr(area, "PERSON_SECTION"))
