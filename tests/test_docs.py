"""Documentation that is generated must not go stale; the README's two commands must stay true."""

from __future__ import annotations

import re
from pathlib import Path

from commonground.cli.reference import render_markdown

ROOT = Path(__file__).resolve().parents[1]


def test_docs_cli_md_is_generated_from_the_commands() -> None:
    on_disk = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert on_disk == render_markdown(), (
        "docs/cli.md is stale: run `.venv/bin/python -m commonground.cli.reference > docs/cli.md`"
    )


def test_readme_gives_the_two_commands_and_ci_runs_the_test_one() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "./dev demo" in readme
    assert "./dev test" in readme
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "./dev test" in ci.splitlines()[-1] or any(line.strip() == "./dev test" for line in ci.splitlines())


def test_every_local_link_in_the_readme_exists() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    targets = [t for t in re.findall(r"\]\(([^)#]+)\)", readme) if "://" not in t]
    assert targets, "the README links its docs"
    missing = [t for t in targets if not (ROOT / t).exists()]
    assert not missing, f"README links to missing files: {missing}"
