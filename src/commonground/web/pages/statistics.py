"""The public-health analyst's pages: the current build's published statistics (tables, a chart of each, the
small-number rule applied, CSV downloads). The tables are :mod:`commonground.cases.statistics`'."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import FileResponse, HTMLResponse

from commonground.cases import statistics
from commonground.cases.person_view import PersonView
from commonground.errors import NotFound
from commonground.web.deps import Access, require
from commonground.web.params import PersonIdPath
from commonground.web.render import page

router = APIRouter(include_in_schema=False)

TableName = PersonIdPath
"""A table's name: letters, digits and underscores, as the manifest lists them."""


def _build_dir(access: Access) -> Path | None:
    view: PersonView | None = access.request.app.state.person_views.current()
    return None if view is None else view.build_dir


@router.get("/statistics", response_class=HTMLResponse)
def statistics_page(access: Annotated[Access, Depends(require("view-statistics"))]) -> HTMLResponse:
    stats = statistics.published(access, build_dir=_build_dir(access))
    return page(access, "statistics.html", title="Statistics", stats=stats)


@router.get("/statistics/{name}", response_class=HTMLResponse)
def statistics_table(name: TableName, access: Annotated[Access, Depends(require("view-statistics"))]) -> HTMLResponse:
    stats = statistics.published(access, build_dir=_build_dir(access))
    if stats is None:
        raise NotFound()
    table = stats.table(name)
    bars = table.bars()
    top = max((v for _, v in bars if v is not None), default=0)
    return page(access, "statistics_table.html", title=table.title, stats=stats, table=table, bars=bars, top=top)


@router.get("/statistics/{name}/csv")
def statistics_csv(name: TableName, access: Annotated[Access, Depends(require("view-statistics"))]) -> FileResponse:
    path = statistics.table_file(access, build_dir=_build_dir(access), name=name)
    return FileResponse(path, media_type="text/csv; charset=utf-8", filename=path.name)
