"""The service about itself: health, the signed-in person (``/api/me``), the OpenAPI document and reference."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import text

from commonground.access.roles import ROLE_GRANTS
from commonground.web.api.common import ERRORS
from commonground.web.api.schemas import Health, MeOut, OrganisationOut
from commonground.web.api.users import user_out
from commonground.web.deps import Access, require
from commonground.web.security import csrf_basis, csrf_token

router = APIRouter(tags=["service"], responses=ERRORS)


@router.get("/health", response_model=Health, summary="Whether the service and its database answer")
def health(access: Annotated[Access, Depends(require("check-health"))]) -> Health:
    access.db.execute(text("SELECT 1"))
    return Health(status="ok", database=access.db.get_bind().dialect.name)


@router.get("/api/me", response_model=MeOut, summary="Who you are signed in as, and your CSRF token")
def me(request: Request, access: Annotated[Access, Depends(require("view-self"))]) -> MeOut:
    user = access.user
    assert user is not None  # view-self is never public
    basis = csrf_basis(request, request.app.state.settings) or ""
    return MeOut(
        user=user_out(user, now=access.now),
        organisation=OrganisationOut.model_validate(user.organisation),
        csrf_token=csrf_token(request.app.state.secret, basis),
        actions=sorted(ROLE_GRANTS[user.role]),
    )


@router.get("/api/openapi.json", include_in_schema=False)
def openapi(request: Request, access: Annotated[Access, Depends(require("view-api-docs"))]) -> dict[str, Any]:
    document: dict[str, Any] = request.app.openapi()
    return document


@router.get("/api/docs", include_in_schema=False, response_class=HTMLResponse)
def api_docs(request: Request, access: Annotated[Access, Depends(require("view-api-docs"))]) -> HTMLResponse:
    """The API reference, rendered on the server from the OpenAPI document (no JavaScript, no CDN)."""
    document = request.app.openapi()
    operations = [
        {"method": method.upper(), "path": path, **operation}
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    ]
    rendered = request.app.state.templates.get_template("api_docs.html").render(
        title=document["info"]["title"], version=document["info"]["version"], operations=operations
    )
    return HTMLResponse(rendered)
