"""The ASGI application for a production server with several workers:
``uvicorn commonground.api.asgi:app --workers 4`` (settings from ``COMMONGROUND_*``, as ``commonground serve``)."""

from __future__ import annotations

from commonground.api.app import create_app, settle_for_serving
from commonground.hub.settings import hub_settings
from commonground.settings import load_settings

app = create_app(hub_settings(load_settings()))
settle_for_serving()
