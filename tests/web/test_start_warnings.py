"""The service starts without a deprecation warning (#17: "AuthlibDeprecationWarning: The httpx module is
deprecated; please use httpx2 instead" on every start: authlib's OIDC client now has httpx2, a direct dependency)."""

from __future__ import annotations

import subprocess
import sys


def test_the_app_imports_with_deprecation_warnings_as_errors() -> None:
    started = subprocess.run(
        [sys.executable, "-W", "error::DeprecationWarning", "-c", "import commonground.web.asgi"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert started.returncode == 0, started.stderr[-2000:]
    assert "Deprecat" not in started.stderr
