"""The ASGI application for a production server with several workers:
``uvicorn commonground.web.asgi:app --workers 4`` (settings from ``COMMONGROUND_*``, as ``commonground serve``)."""

from __future__ import annotations

from commonground.settings import load_settings
from commonground.store.settings import hub_settings
from commonground.web.app import create_app, settle_for_serving

app = create_app(hub_settings(load_settings()))
settle_for_serving()
