"""The README's demo command, run as a newcomer runs it (at a small size): the area is built, linked, flagged and
served; the printed demo accounts sign in to the web app; a second run reuses everything."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait_for_app(process: subprocess.Popen[str], url: str, *, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the demo stopped before serving: {process.stdout.read() if process.stdout else ''}")
        try:
            if httpx.get(url + "/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(1)
    raise AssertionError("the web app did not answer")


@pytest.mark.slow
def test_dev_demo_builds_flags_and_serves_a_synthetic_area(tmp_path: Path) -> None:
    env = {**os.environ, "COMMONGROUND_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "160"}
    port = _free_port()
    process = subprocess.Popen(
        [str(ROOT / "dev"), "demo", "--people", "400", "--seed", "3", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for_app(process, url, seconds=600)
        with httpx.Client(base_url=url, follow_redirects=False, timeout=30) as client:
            form = client.get("/sign-in")
            token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
            assert token is not None
            password = (tmp_path / "data" / "demo-password").read_text(encoding="ascii").strip()
            signed_in = client.post(
                "/sign-in", data={"email": "mash@qxla.example", "password": password, "csrf_token": token.group(1)}
            )
            assert signed_in.status_code == 303, signed_in.text[:500]
            home = client.get("/", headers={"Accept": "text/html"})
            assert home.status_code == 200 and "Your queue" in home.text
            assert client.get("/queue", headers={"Accept": "text/html"}).status_code == 200
    finally:
        os.killpg(process.pid, signal.SIGINT)
        output, _ = process.communicate(timeout=60)
    assert "Synthetic area" in output
    assert "published" in output
    assert "Hub up to date with build" in output
    assert "mash@qxla.example" in output and "Every demo account's password" in output
    assert f"http://127.0.0.1:{port}/" in output
    assert (tmp_path / "data" / "analytical" / "builds" / "CURRENT").is_file()
    # Running it again reuses the area and the build, and loads nothing twice.
    again = subprocess.run(
        [str(ROOT / "dev"), "demo", "--people", "400", "--seed", "3", "--no-serve"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert again.returncode == 0, again.stderr[-2000:]
    assert "Reusing the synthetic area" in again.stdout
    assert "already_loaded" in again.stdout
    assert "stays current" in again.stdout
    assert "mash@qxla.example" in again.stdout
