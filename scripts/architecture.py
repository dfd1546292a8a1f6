"""The picture of the layers in docs/architecture.md, drawn from the code's imports (read with ast; nothing runs).

    .venv/bin/python scripts/architecture.py            # print the Mermaid flowchart
    .venv/bin/python scripts/architecture.py --write    # rewrite it between the markers in docs/architecture.md

Each box is a package (or, for ``web`` and ``store``, a part of one); an arrow A --> B means that some module of A
imports some module of B: at the top of the file or inside a function, it is an import all the same. A dotted arrow
is an import made only for type annotations (under ``if TYPE_CHECKING:``). tests/test_docs.py fails when the doc's
picture is not what this prints.
"""

from __future__ import annotations

import argparse
import ast
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "commonground"
DOC = ROOT / "docs" / "architecture.md"
BEGIN = "<!-- architecture:begin (drawn by scripts/architecture.py from the imports; do not edit by hand) -->"
END = "<!-- architecture:end -->"


@dataclass(frozen=True)
class Box:
    id: str
    label: str
    prefixes: tuple[str, ...]  # dotted module prefixes under commonground
    group: str = ""  # the layer it is drawn in, where a layer holds more than one box


GROUPS = {"web": "web", "middle": "cases | whatworks", "store": "store"}
BOXES = [
    Box("cli", "cli: the command line", ("cli",)),
    Box("web_api", "web.api: JSON routers", ("web.api",), "web"),
    Box("web_pages", "web.pages: forms and templates", ("web.pages",), "web"),
    Box("web", "web: app, deps, sign-in, params, render", ("web",), "web"),
    Box("cases", "cases: each operation", ("cases",), "middle"),
    Box("whatworks", "whatworks: library, landscape, plan", ("whatworks",), "middle"),
    Box("access", "access: accounts, agreements, resolver, audit, context", ("access",)),
    Box("store_migrations", "store.migrations: Alembic, every model", ("store.migrations",), "store"),
    Box("store", "store: engine, sessions, base, Organisation", ("store",), "store"),
    Box(
        "shared",
        "cross-cutting: errors, settings, contracts, spreadsheet",
        ("errors", "settings", "contracts", "spreadsheet"),
    ),
    Box(
        "analytical",
        "analytical: ingest, linkage, rules, engine, evaluation, synth",
        ("ingest", "linkage", "rules", "engine", "evaluation", "synth"),
    ),
]


def box_of(module: str) -> Box | None:
    """The box a dotted module name (``commonground.web.api.referrals``) belongs to, or None outside them.
    The longest prefix wins: ``web.api`` before ``web``, ``store.migrations`` before ``store``."""
    parts = module.split(".")
    if parts[0] != "commonground":
        return None
    dotted = ".".join(parts[1:])
    matches = [
        (len(prefix), box)
        for box in BOXES
        for prefix in box.prefixes
        if dotted == prefix or dotted.startswith(prefix + ".")
    ]
    return max(matches, key=lambda m: m[0])[1] if matches else None


def module_name(path: Path) -> str:
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(path: Path) -> list[tuple[str, bool]]:
    """Each module this file imports, absolute, with whether it is imported for type annotations only."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    this = module_name(path)
    package = this if path.name == "__init__.py" else this.rpartition(".")[0]
    typing_only: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            typing_only |= {id(n) for statement in node.body for n in ast.walk(statement)}
    found: list[tuple[str, bool]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, id(node) in typing_only) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            # ``from commonground.web.pages import people`` imports the module web.pages.people
            found += [(f"{base}.{alias.name}", id(node) in typing_only) for alias in node.names]
    return found


def edges() -> dict[tuple[Box, Box], bool]:
    """(importer, imported) -> True when every such import is for type annotations only."""
    found: dict[tuple[Box, Box], bool] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        source = box_of(module_name(path))
        if source is None:
            continue
        for module, typing_only in imports_of(path):
            target = box_of(module)
            if target is None or target == source:
                continue
            found[(source, target)] = found.get((source, target), True) and typing_only
    return found


def render() -> str:
    """The Mermaid flowchart, as it goes into the doc (fenced)."""
    lines = ["```mermaid", "flowchart TD"]
    drawn: set[str] = set()
    for box in BOXES:
        if box.group and box.group not in drawn:
            drawn.add(box.group)
            lines.append(f'    subgraph {box.group}_layer["{GROUPS[box.group]}"]')
            lines += [f'        {b.id}["{b.label}"]' for b in BOXES if b.group == box.group]
            lines.append("    end")
        elif not box.group:
            lines.append(f'    {box.id}["{box.label}"]')
    order = {b: i for i, b in enumerate(BOXES)}
    for (source, target), typing_only in sorted(edges().items(), key=lambda e: (order[e[0][0]], order[e[0][1]])):
        arrow = "-. types .->" if typing_only else "-->"
        lines.append(f"    {source.id} {arrow} {target.id}")
    lines.append("```")
    return "\n".join(lines) + "\n"


def rewrite(doc: str, picture: str) -> str:
    """The doc with the section between the markers replaced by the picture."""
    head, begin, rest = doc.partition(BEGIN)
    _, end, tail = rest.partition(END)
    if not begin or not end:
        raise SystemExit(f"{DOC.relative_to(ROOT)} lacks the markers {BEGIN!r} and {END!r}")
    return f"{head}{BEGIN}\n{picture}{END}{tail}"


def section(doc: str) -> str:
    """What the doc holds between the markers now."""
    return doc.partition(BEGIN)[2].partition(END)[0].removeprefix("\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--write", action="store_true", help=f"rewrite the picture in {DOC.relative_to(ROOT)}")
    args = parser.parse_args(argv)
    picture = render()
    if args.write:
        DOC.write_text(rewrite(DOC.read_text(encoding="utf-8"), picture), encoding="utf-8")
    else:
        sys.stdout.write(picture)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
