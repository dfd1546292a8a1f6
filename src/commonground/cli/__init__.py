"""The ``commonground`` command line.

Each group of commands lives in its own module and registers itself on :data:`app`. Heavy parts
(the synthetic area, ingest, linkage) are imported inside the command that needs them, so
``commonground --help`` stays fast.
"""

from __future__ import annotations

import commonground.cli.evaluation_cmd  # registers evaluate-intervention
import commonground.cli.retention_cmd  # registers retention
import commonground.cli.sar_cmd  # noqa: F401  (registers sar)
from commonground.cli import contracts_cmd, data_cmd, demo_cmd, hub_cmd, link_cmd, rules_cmd, stats_cmd  # noqa: F401  (they register commands)
from commonground.cli.app import app


def main() -> None:
    app()


__all__ = ["app", "main"]
