"""The rule packs in use and their history, for the data protection officer: which version of which rule raised
flags from when; and what closed work says about each rule (its positive predictive value in the world)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse

from commonground.cases.rule_outcomes import MIN_JUDGED, PPV_FLOOR, rule_outcomes
from commonground.cases.rule_packs import rule_pack_history
from commonground.cases.work_items import Outcome
from commonground.web.deps import Access, require
from commonground.web.render import page
from commonground.web.rule_titles import rule_title

router = APIRouter(include_in_schema=False)


@router.get("/rule-packs", response_class=HTMLResponse)
def rule_packs_page(access: Annotated[Access, Depends(require("view-audit"))]) -> HTMLResponse:
    history = rule_pack_history(access.db)
    current: dict[str, object] = {}
    for row in history:
        current.setdefault(row.pack, row)
    return page(
        access,
        "rule_packs.html",
        title="Rule packs in use",
        history=history,
        current=list(current.values()),
        today=access.now.date().isoformat(),
    )


@router.get("/rule-outcomes", response_class=HTMLResponse)
def rule_outcomes_page(access: Annotated[Access, Depends(require("view-rule-outcomes"))]) -> HTMLResponse:
    rows = rule_outcomes(access.db)
    return page(
        access,
        "rule_outcomes.html",
        title="What closed work says about each rule",
        rows=rows,
        titles={row.rule_id: rule_title(access, row.rule_id) for row in rows},
        outcomes=list(Outcome),
        floor=PPV_FLOOR,
        min_judged=MIN_JUDGED,
    )
