"""The rule packs in use and their history, for the data protection officer: which version of which rule raised
flags from when."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse

from commonground.cases.rule_packs import rule_pack_history
from commonground.web.deps import Access, require
from commonground.web.render import page

router = APIRouter(include_in_schema=False)


@router.get("/rule-packs", response_class=HTMLResponse)
def rule_packs_page(access: Annotated[Access, Depends(require("view-audit"))]) -> HTMLResponse:
    history = rule_pack_history(access.db)
    current: dict[str, object] = {}
    for row in history:
        current.setdefault(row.pack, row)
    return page(access, "rule_packs.html", title="Rule packs in use", history=history, current=list(current.values()))
