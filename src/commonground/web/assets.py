"""The service's own static assets (its stylesheet), served from the package: no CDN, nothing from outside."""

from __future__ import annotations

from importlib import resources
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import Response

from commonground.web.deps import Access, require

router = APIRouter(include_in_schema=False)

ASSETS: dict[str, str] = {"commonground.css": "text/css; charset=utf-8"}


@router.get("/assets/{name}")
def asset(name: str, access: Annotated[Access, Depends(require("view-assets"))]) -> Response:
    media_type = ASSETS.get(name)
    if media_type is None:
        raise HTTPException(404, "no such asset")
    body = (resources.files("commonground.web") / "static" / name).read_bytes()
    return Response(body, media_type=media_type, headers={"cache-control": "public, max-age=3600"})
