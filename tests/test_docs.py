"""Documentation that is generated must not go stale; the README's two commands must stay true; links between the
docs must lead somewhere."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

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


def _architecture_script() -> ModuleType:
    if "architecture_script" in sys.modules:
        return sys.modules["architecture_script"]
    spec = importlib.util.spec_from_file_location("architecture_script", ROOT / "scripts" / "architecture.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_docs_architecture_md_pictures_the_imports_as_they_are() -> None:
    script = _architecture_script()
    doc = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    assert script.BEGIN in doc and script.END in doc, "docs/architecture.md keeps the picture between its markers"
    assert script.section(doc) == script.render(), (
        "the picture in docs/architecture.md is stale: run `.venv/bin/python scripts/architecture.py --write`"
    )


def test_the_architecture_picture_shows_the_layers_and_their_imports() -> None:
    picture = _architecture_script().render()
    assert picture.startswith("```mermaid\nflowchart TD\n")
    for arrow in ("web_api --> cases", "cases --> access", "access --> store", "store_migrations --> cases"):
        assert f"    {arrow}\n" in picture, arrow
    assert "access --> cases" not in picture and "store --> access" not in picture


def _slug(heading: str) -> str:
    """A heading's anchor as GitHub makes it: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _anchors(markdown: str) -> set[str]:
    text = re.sub(r"(?ms)^```.*?^```", "", markdown)
    return {_slug(h) for h in re.findall(r"(?m)^#{1,6} (.+)$", text)}


def test_every_link_between_the_docs_leads_to_a_file_and_a_heading() -> None:
    broken = []
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = re.sub(r"(?ms)^```.*?^```", "", page.read_text(encoding="utf-8"))
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if "://" in target or target.startswith("mailto:"):
                continue
            path, _, anchor = target.partition("#")
            file = (page.parent / path).resolve() if path else page
            if not file.exists():
                broken.append(f"{page.relative_to(ROOT)}: {target} (no such file)")
            elif anchor and file.suffix == ".md" and anchor not in _anchors(file.read_text(encoding="utf-8")):
                broken.append(f"{page.relative_to(ROOT)}: {target} (no such heading)")
    assert not broken, "\n".join(broken)
