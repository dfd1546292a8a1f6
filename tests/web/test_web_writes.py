"""The web's two faces (``web/api``, ``web/pages``) write nothing themselves: each write is an operation in
``cases`` or ``whatworks`` (authorise, act, audit in one place). import-linter checks the imports
(pyproject.toml ``[tool.importlinter]``); what an import cannot show, this reads from the source (ast, nothing runs):

- a session write: ``<...>.db.add(...)``, ``session.delete(...)``, ``.add_all``, ``.merge``, ``.bulk_*``;
- SQL that writes: ``insert``, ``update`` or ``delete`` imported from SQLAlchemy, or ``text("INSERT ...")``;
- an audit entry: ``audit.record(...)``.

Committing (``access.db.commit()``) is the web's: it ends the request's unit of work, so it is allowed.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

WEB = Path(__file__).resolve().parents[2] / "src" / "commonground" / "web"
FACES = ("api", "pages")
SESSION_NAMES = {"db", "session"}
SESSION_WRITES = {"add", "add_all", "delete", "merge", "bulk_save_objects", "bulk_insert_mappings"}
SESSION_WRITES |= {"bulk_update_mappings"}
SQL_WRITES = {"insert", "update", "delete"}
SQL_VERBS = ("INSERT", "UPDATE", "DELETE", "MERGE", "TRUNCATE", "DROP", "ALTER", "CREATE")


def _last_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def writes_in(source: str) -> list[str]:
    """Each write the source makes itself, as 'line: what'."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "sqlalchemy":
            found += [f"{node.lineno}: imports {a.name} from {node.module}" for a in node.names if a.name in SQL_WRITES]
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        receiver, method = _last_name(node.func.value), node.func.attr
        if method in SESSION_WRITES and receiver in SESSION_NAMES:
            found.append(f"{node.lineno}: {receiver}.{method}(...)")
        elif method == "record" and receiver == "audit":
            found.append(f"{node.lineno}: audit.record(...)")
        elif method in SQL_WRITES and receiver in {"sqlalchemy", "sa"}:
            found.append(f"{node.lineno}: {receiver}.{method}(...)")
        elif method == "execute" and node.args and _writes_text(node.args[0]):
            found.append(f"{node.lineno}: execute(text('{_text_of(node.args[0]).split()[0]} ...'))")
    return found


def _text_of(node: ast.expr) -> str:
    if isinstance(node, ast.Call) and _last_name(node.func) == "text" and node.args:
        first = node.args[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            return first.value.strip()
    return ""


def _writes_text(node: ast.expr) -> bool:
    return _text_of(node).upper().startswith(SQL_VERBS)


def face_modules() -> list[Path]:
    return sorted(p for face in FACES for p in (WEB / face).rglob("*.py"))


def test_the_web_faces_write_nothing_themselves() -> None:
    modules = face_modules()
    assert len(modules) > 20, "the check reads the web's faces"
    offenders = [
        f"{path.relative_to(WEB.parents[1])}:{write}"
        for path in modules
        for write in writes_in(path.read_text(encoding="utf-8"))
    ]
    assert not offenders, "writes belong in cases or whatworks, not in web/api or web/pages:\n" + "\n".join(offenders)


@pytest.mark.parametrize(
    "source",
    [
        "access.db.add(note)",
        "db.delete(row)",
        "self.session.add_all(rows)",
        "access.db.merge(item)",
        "from sqlalchemy import insert",
        "from sqlalchemy.sql import update, select",
        "access.db.execute(sa.delete(Note))",
        "access.db.execute(text('UPDATE notes SET text = 1'))",
        "audit.record(access.db, event)",
    ],
)
def test_the_write_check_finds_each_kind_of_write(source: str) -> None:
    assert writes_in(source), source


@pytest.mark.parametrize(
    "source",
    [
        "access.db.commit()",
        "seen.add(person_id)",
        "rows = access.db.execute(select(Note)).all()",
        "access.db.execute(text('SELECT 1'))",
        "errors.update({'field': 'message'})",
        "notes.record(text)",
    ],
)
def test_the_write_check_lets_reads_and_commits_pass(source: str) -> None:
    assert writes_in(source) == [], source
