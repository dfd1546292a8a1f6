"""The ASGI application for a production server with several workers:
``uvicorn commonground.web.asgi:app --workers 4`` (settings from ``COMMONGROUND_*``, as ``commonground serve``).

uvicorn believes ``X-Forwarded-For`` from 127.0.0.1 unless told otherwise, before the application sees the request:
start it with ``--no-proxy-headers``, or, behind a reverse proxy, with ``--forwarded-allow-ips`` set to the same
addresses as ``COMMONGROUND_TRUSTED_PROXIES`` (``commonground serve`` does this itself)."""

from __future__ import annotations

from commonground.settings import load_settings
from commonground.store.settings import hub_settings
from commonground.web.app import create_app, settle_for_serving

app = create_app(hub_settings(load_settings()))
settle_for_serving()
