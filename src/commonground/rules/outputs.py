"""The tables a rules run writes to ``<build_dir>/rules.duckdb``, and reading them back.

- ``indicators``: one row per person and indicator rule: ``person_id, rule_id, rule_version,
  first_evidence, latest_evidence, evidence_count``;
- ``flags``: one row per person and flag rule, routed: the same columns and ``organisation_type,
  organisation_id, role, route_to, rag_usual, rag, rag_reason, due_by, raised_at`` (``rag``: the flag's rating);
- ``evidence``: one row per record behind an indicator or flag: ``person_id, rule_id, rule_version,
  kind, item, signal, feed, record_id, via_person_id, evidence_at``;
- ``rules``: the rules in force (pack, version, kind, population, title, description, legal basis, purpose);
- ``rule_evidence_items``: each rule's evidence items (``rule_id, item, source, relation, signal, label``);
- ``rules_run``: facts about the run (``key``, ``value``): as_of, engine, packs and their versions;
- ``age_unknown``: one row per person with no date of birth on any record (#15): ``person_id, child_until`` (the
  latest record saying they were a child, up to whose day the rules count them as one; blank: never), ``feeds``
  (the feeds of their records, comma-separated).
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from commonground.errors import UserError
from commonground.rules.packs import RuleSet
from commonground.rules.sources import SOURCES

_TABLE = re.compile(r"^[a-z_]+$")


def table_name(name: str) -> str:
    if not _TABLE.match(name):
        raise ValueError(f"not an output table name: {name!r}")
    return name


def normalise(table: pa.Table) -> pa.Table:
    """Same types whichever engine ran: naive timestamps (microseconds), text ids, 32-bit versions."""
    columns = []
    fields = []
    for field, column in zip(table.schema, table.columns, strict=True):
        target = field.type
        if pa.types.is_timestamp(field.type):
            target = pa.timestamp("us")
            if field.type.tz is not None:  # Spark's session time zone is UTC: its wall time is the naive value
                column = pc.local_timestamp(column.cast(pa.timestamp("us", tz="UTC")))
        elif field.name in ("person_id", "via_person_id", "record_id", "organisation_id"):
            target = pa.string()
        elif field.name in ("rule_version", "item"):
            target = pa.int32()
        elif pa.types.is_integer(field.type):
            target = pa.int64()
        columns.append(column.cast(target))
        fields.append(pa.field(field.name, target))
    return pa.table(columns, schema=pa.schema(fields))


def metadata_tables(rule_set: RuleSet) -> dict[str, pa.Table]:
    rules = []
    items = []
    for pack in rule_set.packs:
        for rule in pack.rules:
            rules.append(
                {
                    "rule_id": rule.id,
                    "pack": pack.pack,
                    "pack_version": pack.version,
                    "version": rule.version,
                    "kind": rule.produces.value,
                    "population": rule.population.value,
                    "title": rule.title,
                    "description": rule.description,
                    "legal_basis": rule.legal_basis,
                    "purpose": rule.purpose,
                    "window_days": rule.window_days,
                    "raise_within_days": rule.raise_within_days,
                    "feeds": ",".join(rule.feeds),
                    "citation": rule.citation,
                    "owner": rule.owner,
                    "review_by": rule.review_by,
                }
            )
            for index, item in enumerate(rule.evidence):
                items.append(
                    {
                        "rule_id": rule.id,
                        "item": index,
                        "source": item.source,
                        "source_title": SOURCES[item.source].title,
                        "relation": item.relation.value,
                        "signal": item.signal,
                        "label": item.label,
                    }
                )
    return {"rules": pa.Table.from_pylist(rules), "rule_evidence_items": pa.Table.from_pylist(items)}


def open_output(build_dir: Path) -> duckdb.DuckDBPyConnection:
    """The rules output of a build, read-only; a clear error if the rules have not run."""
    path = build_dir / "rules.duckdb"
    if not path.exists():
        raise UserError(f"{build_dir}: the rules have not run on this build (no rules.duckdb); run them first")
    return duckdb.connect(str(path), read_only=True)
