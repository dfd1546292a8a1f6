"""Fixtures shared by the tests of the operational side (``store``, ``access``, ``cases``, ``web``, ``whatworks``
and the browser tests): the stores on SQLite and PostgreSQL, the app, signed-in clients. They live in
``tests/support``, which this puts on the import path, so a test imports its helpers by name
(``from service_support import login_as``)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "support"))

from service_fixtures import *  # noqa: F403
from service_fixtures import _fast_password_hashing  # noqa: F401  (autouse; a star import skips it)
