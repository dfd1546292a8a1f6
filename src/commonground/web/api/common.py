"""Pieces shared by the API routers: the error responses every route declares, and type aliases."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class ErrorOut(BaseModel):
    detail: str


ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "Refused: the request cannot be carried out (the message says why)"},
    401: {"model": ErrorOut, "description": "Not signed in"},
    403: {"model": ErrorOut, "description": "Not allowed (the message says why), or no valid CSRF token"},
    404: {"model": ErrorOut, "description": "Not found, or not yours to see"},
    409: {"model": ErrorOut, "description": "Conflicts with what is already there"},
}
