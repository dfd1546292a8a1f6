"""``X-Forwarded-For`` is believed only from the configured proxies (``COMMONGROUND_TRUSTED_PROXIES``): without the
setting, a client that changes the header at each attempt is still one client to the sign-in rate limit.

The server is the one ``commonground serve`` starts (its call to uvicorn is caught and run in a thread here)."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.requests import Request
from typer.testing import CliRunner

from commonground.cli import app as cli
from commonground.store.settings import HubSettings
from commonground.web.security import client_address


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def served(sqlite_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """``commonground serve`` on a free port, with the options it gives uvicorn, over a migrated SQLite store."""
    store = tmp_path / "operational.sqlite"  # how headers are read does not depend on the store: SQLite only
    shutil.copy(sqlite_template, store)
    store_url = f"sqlite:///{store}"
    monkeypatch.setenv("COMMONGROUND_DATABASE_URL", store_url)
    monkeypatch.setenv("COMMONGROUND_COOKIE_SECURE", "false")
    monkeypatch.setenv("COMMONGROUND_SECRET_KEY", "k" * 40)
    monkeypatch.delenv("COMMONGROUND_TRUSTED_PROXIES", raising=False)
    monkeypatch.delenv("FORWARDED_ALLOW_IPS", raising=False)
    port = _free_port()
    servers: list[uvicorn.Server] = []

    def run(app: Any, **options: Any) -> None:
        options.update(host="127.0.0.1", port=port, log_level="warning")
        servers.append(uvicorn.Server(uvicorn.Config(app, **options)))

    monkeypatch.setattr(uvicorn, "run", run)
    monkeypatch.setattr("commonground.web.app.settle_for_serving", lambda: None)  # no gc.freeze in the tests
    result = CliRunner().invoke(cli, ["--data-dir", str(tmp_path), "serve", "--port", str(port)])
    assert result.exit_code == 0, result.output
    (server,) = servers
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=20)


def test_a_changed_forwarded_for_does_not_get_round_the_rate_limit(served: str) -> None:
    with httpx.Client(base_url=served) as http:
        page = http.get("/sign-in").text
        token = page.split('name="csrf_token" value="')[1].split('"')[0]
        answers = []
        for i in range(11):
            answers.append(
                http.post(
                    "/sign-in",
                    data={"email": f"guess{i}@school.example", "password": "not the password", "csrf_token": token},
                    headers={"X-Forwarded-For": f"203.0.113.{i + 1}"},
                ).status_code
            )
    assert answers[:10] == [401] * 10
    assert answers[10] == 429


def _request(peer: str, forwarded: str | None) -> Request:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    return Request({"type": "http", "method": "POST", "path": "/", "headers": headers, "client": (peer, 5000)})


def test_the_client_is_read_from_trusted_proxies_only(tmp_path: Path) -> None:
    plain = HubSettings(data_dir=tmp_path, secret_key="s" * 40)  # type: ignore[arg-type]
    behind = HubSettings(data_dir=tmp_path, secret_key="s" * 40, trusted_proxies="10.0.0.5, 10.1.0.0/16")  # type: ignore[arg-type]
    assert client_address(_request("10.0.0.5", "198.51.100.7"), plain) == "10.0.0.5"
    assert client_address(_request("10.0.0.5", "198.51.100.7"), behind) == "198.51.100.7"
    assert client_address(_request("10.0.0.5", "1.2.3.4, 198.51.100.7, 10.1.2.3"), behind) == "198.51.100.7"
    assert client_address(_request("192.0.2.9", "198.51.100.7"), behind) == "192.0.2.9"  # not a proxy of ours


def test_trusted_proxies_that_are_not_addresses_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="TRUSTED_PROXIES"):
        HubSettings(data_dir=tmp_path, secret_key="s" * 40, trusted_proxies="proxy.example")  # type: ignore[arg-type]
