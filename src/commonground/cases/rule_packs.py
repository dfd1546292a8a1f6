"""Which rule packs are in use, with history: each time the hub is brought up to date with a build, the packs and
rule versions its flags came from are compared with the last recorded; a change is a new row and an audit event.

So the data protection officer can say which version of which rule raised a flag on any day, and when the rules
in use changed (a configuration change, like an agreement's, keeps its history).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import duckdb
from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from commonground.access import audit
from commonground.access.audit import Actor
from commonground.store.db import Base, utcnow


class RulePackVersion(Base):
    """The rules of one pack in use from ``in_use_from`` (until the next row of the same pack)."""

    __tablename__ = "rule_pack_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    pack: Mapped[str] = mapped_column(String(100), index=True)
    pack_version: Mapped[str] = mapped_column(String(40))
    rules: Mapped[dict[str, Any]]
    """rule id -> {version, kind, title, and (since #16) owner, review_by}."""
    routing: Mapped[dict[str, Any]]
    """The routing pack's area and version at the time."""
    build_id: Mapped[str] = mapped_column(String(64))
    in_use_from: Mapped[dt.datetime] = mapped_column(default=utcnow)


def packs_of_build(build_path: Path) -> tuple[dict[str, tuple[str, dict[str, Any]]], dict[str, Any]]:
    """The packs (name -> (version, rules)) and the routing of a build's rules output."""
    rules_file = build_path / "rules.duckdb"
    if not rules_file.exists():
        return {}, {}
    con = duckdb.connect(str(rules_file), read_only=True)
    try:
        columns = {r[0] for r in con.execute("DESCRIBE rules").fetchall()}
        owned = "owner, CAST(review_by AS VARCHAR)" if {"owner", "review_by"} <= columns else "NULL, NULL"
        rows = con.execute(
            f"SELECT pack, pack_version, rule_id, version, kind, title, {owned} FROM rules ORDER BY 1, 3"
        ).fetchall()
        run = dict(con.execute("SELECT key, value FROM rules_run").fetchall())
    finally:
        con.close()
    packs: dict[str, tuple[str, dict[str, Any]]] = {}
    for pack, pack_version, rule_id, version, kind, title, owner, review_by in rows:
        entry = packs.setdefault(str(pack), (str(pack_version), {}))
        entry[1][str(rule_id)] = {"version": int(version), "kind": str(kind), "title": str(title)}
        if owner is not None:  # builds from before rules had owners (#16) have none
            entry[1][str(rule_id)] |= {"owner": str(owner), "review_by": str(review_by)}
    routing = {"area": run.get("routing_area"), "version": run.get("routing_version")}
    return packs, routing


def record_rule_packs(session: Session, *, build_path: Path, build_id: str, by: Actor) -> list[RulePackVersion]:
    """Record the build's packs that differ from the last recorded (new packs, new versions, changed rules, a new
    routing); each new row is audited in the caller's transaction. Returns the new rows."""
    packs, routing = packs_of_build(build_path)
    added = []
    for pack, (version, rules) in packs.items():
        last = session.scalars(
            select(RulePackVersion).where(RulePackVersion.pack == pack).order_by(RulePackVersion.id.desc()).limit(1)
        ).first()
        if last is not None and (last.pack_version, last.rules, last.routing) == (version, rules, routing):
            continue
        row = RulePackVersion(pack=pack, pack_version=version, rules=rules, routing=routing, build_id=build_id)
        session.add(row)
        session.flush()
        audit.record(
            session,
            audit.Event(
                actor=by,
                action="rule-packs-in-use",
                subject_type="rule_pack",
                subject_id=pack,
                detail={
                    "change": "first use" if last is None else "changed",
                    "pack_version": version,
                    "rules": {rule: r["version"] for rule, r in rules.items()},
                    "routing": routing,
                },
            ),
        )
        added.append(row)
    return added


def rule_pack_history(session: Session) -> list[RulePackVersion]:
    return list(session.scalars(select(RulePackVersion).order_by(RulePackVersion.in_use_from.desc())))
