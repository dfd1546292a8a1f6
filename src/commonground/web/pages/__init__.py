"""One module per area of the pages; each router's routes declare their action like the API's."""

from __future__ import annotations

from fastapi import APIRouter

from commonground.web.pages import (
    account,
    admin,
    dpo,
    home,
    landscape,
    library,
    people,
    queue,
    rule_packs,
    subject_access,
)
from commonground.web.pages import evaluations as evaluation_pages  # evaluation of interventions (#7)
from commonground.web.pages import notices as notice_pages  # school notices (#6)
from commonground.web.pages import referrals as referral_pages
from commonground.web.pages import triage as triage_pages  # street-triage log (#6)

ROUTERS: tuple[APIRouter, ...] = (
    home.router,
    queue.router,
    people.router,
    referral_pages.router,
    dpo.router,
    subject_access.router,
    account.router,
    admin.router,
    notice_pages.router,
    triage_pages.router,
    library.router,
    landscape.router,
    evaluation_pages.router,
    rule_packs.router,
)
