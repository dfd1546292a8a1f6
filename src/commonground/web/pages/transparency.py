"""The public record of the rules and the linkage (Algorithmic Transparency Recording Standard), served without
signing in, as a page and as JSON. The record is :mod:`commonground.cases.transparency`'s, generated from what
runs."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse

from commonground.cases.transparency import TO_COMPLETE, atrs_record
from commonground.web.deps import Access, require
from commonground.web.render import page

router = APIRouter(include_in_schema=False)


@router.get("/transparency", response_class=HTMLResponse)
def transparency_page(access: Annotated[Access, Depends(require("view-transparency"))]) -> HTMLResponse:
    record = atrs_record(access.db, now=access.now)
    return page(
        access,
        "transparency.html",
        title="How commonground works: the public record",
        record=record,
        to_complete=TO_COMPLETE,
    )


@router.get("/transparency.json")
def transparency_json(access: Annotated[Access, Depends(require("view-transparency"))]) -> dict[str, Any]:
    return atrs_record(access.db, now=access.now)
