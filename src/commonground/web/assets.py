"""The service's own static assets (its stylesheet and its icon), served from the package: no CDN, nothing from
outside. Every page's ``<head>`` links the icon (``/assets/commonground.svg``); ``/favicon.ico``, which browsers
ask for whatever the page says, answers with the same icon."""

from __future__ import annotations

from importlib import resources
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import Response

from commonground.web.deps import Access, require

router = APIRouter(include_in_schema=False)

ICON = "commonground.svg"
ASSETS: dict[str, str] = {"commonground.css": "text/css; charset=utf-8", ICON: "image/svg+xml"}


def _asset(name: str) -> Response:
    media_type = ASSETS.get(name)
    if media_type is None:
        raise HTTPException(404, "no such asset")
    body = (resources.files("commonground.web") / "static" / name).read_bytes()
    return Response(body, media_type=media_type, headers={"cache-control": "public, max-age=3600"})


@router.get("/assets/{name}")
def asset(name: str, access: Annotated[Access, Depends(require("view-assets"))]) -> Response:
    return _asset(name)


@router.get("/favicon.ico")
def favicon(access: Annotated[Access, Depends(require("view-assets"))]) -> Response:
    """The icon, for browsers that ask for it at the conventional address (an SVG: every current browser reads one
    whatever the address's ending)."""
    return _asset(ICON)
