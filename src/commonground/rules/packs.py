"""Loading rule packs and the routing pack from YAML, with errors a person can act on.

The packs kept in the repository live beside this module in ``packs/``: ``ace.yaml`` (the ten
Adverse Childhood Experiences), ``adult.yaml`` (adults, and children at risk of exploitation),
``notices.yaml`` (the Operation Encompass school notice) and ``routing.yaml`` (where each flag goes
and by when). :func:`default_rules` loads them all.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from commonground.errors import UserError
from commonground.rules.routing import RoutingPack
from commonground.rules.spec import Kind, RulePack, RuleSpec

RULE_PACKS = ("ace.yaml", "adult.yaml", "notices.yaml")
ROUTING_PACK = "routing.yaml"

M = TypeVar("M", bound=BaseModel)


class RulePackError(UserError):
    """A rule or routing pack that cannot be used; the message names the file, the place and the reason."""


@dataclass(frozen=True)
class RuleSet:
    """Every rule pack in force, with the routing pack; checked together when built."""

    packs: tuple[RulePack, ...]
    routing: RoutingPack

    def __post_init__(self) -> None:
        seen: dict[str, str] = {}
        for pack in self.packs:
            for rule in pack.rules:
                if rule.id in seen:
                    raise RulePackError(f"rule {rule.id!r} is in both the {seen[rule.id]} and {pack.pack} packs")
                seen[rule.id] = pack.pack
        flags = {r.id for r in self.rules if r.produces is Kind.FLAG}
        routed = {r.rule for r in self.routing.routes}
        if flags - routed:
            raise RulePackError(f"routing pack: no route for the flags {sorted(flags - routed)}")
        if routed - flags:
            raise RulePackError(f"routing pack: routes for rules that raise no flag {sorted(routed - flags)}")

    @property
    def rules(self) -> tuple[RuleSpec, ...]:
        return tuple(rule for pack in self.packs for rule in pack.rules)

    def rule(self, rule_id: str) -> RuleSpec:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)

    def due_for_review(self, today: dt.date) -> tuple[RuleSpec, ...]:
        """The rules whose review date has passed (reported, never refused: a rule keeps working while its owner
        reviews it)."""
        return tuple(rule for rule in self.rules if rule.review_by < today)

    def pack_of(self, rule_id: str) -> RulePack:
        for pack in self.packs:
            if any(r.id == rule_id for r in pack.rules):
                return pack
        raise KeyError(rule_id)


def parse_pack(text: str, *, name: str = "<pack>") -> RulePack:
    """A rule pack from YAML text."""
    return _parse(RulePack, text, name=name)


def parse_routing(text: str, *, name: str = "<routing>") -> RoutingPack:
    """The routing pack from YAML text."""
    return _parse(RoutingPack, text, name=name)


def load_pack(path: Path) -> RulePack:
    return parse_pack(_read(path), name=path.name)


def load_routing(path: Path) -> RoutingPack:
    return parse_routing(_read(path), name=path.name)


@functools.cache
def default_rules(*, notices: str = "notices.yaml") -> RuleSet:
    """The packs kept in the repository (read once; specs are immutable). ``notices`` names the notices pack: the
    default, or ``notices_every_child.yaml``, held back (its header says why)."""
    folder = resources.files("commonground.rules") / "packs"
    files = tuple(notices if f == "notices.yaml" else f for f in RULE_PACKS)
    packs = tuple(parse_pack(folder.joinpath(f).read_text(encoding="utf-8"), name=f) for f in files)
    routing = parse_routing(folder.joinpath(ROUTING_PACK).read_text(encoding="utf-8"), name=ROUTING_PACK)
    return RuleSet(packs=packs, routing=routing)


def load_rules(*, packs: Sequence[Path], routing: Path) -> RuleSet:
    """A rule set from files (an area's own packs)."""
    return RuleSet(packs=tuple(load_pack(p) for p in packs), routing=load_routing(routing))


def dump_pack(pack: RulePack) -> str:
    """YAML for a pack; :func:`parse_pack` reads it back to an equal pack."""
    data = pack.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=110)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as error:
        raise RulePackError(f"{path}: cannot read the pack ({error.strerror})") from None


def _parse(model: type[M], text: str, *, name: str) -> M:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise RulePackError(f"{name}: not valid YAML{where}: {getattr(error, 'problem', error)}") from None
    if not isinstance(data, dict):
        raise RulePackError(f"{name}: a pack is a YAML mapping (pack, version, title, description, rules)")
    try:
        return model.model_validate(data)
    except ValidationError as error:
        errors = error.errors()
        # pydantic also reports "too short" for a list whose only items failed: keep the cause
        kept = [e for e in errors if not (e["type"] == "too_short" and _has_deeper(e, errors))]
        lines = [f"{name}: {_place(data, e['loc'])}: {_message(e)}" for e in kept]
        raise RulePackError("\n".join(lines)) from None


def _has_deeper(error: Any, errors: Sequence[Any]) -> bool:
    loc = tuple(error["loc"])
    return any(len(other["loc"]) > len(loc) and tuple(other["loc"][: len(loc)]) == loc for other in errors)


def _message(error: Any) -> str:
    message = str(error["msg"])
    return message.removeprefix("Value error, ")


def _place(data: Any, loc: Sequence[int | str]) -> str:
    """A readable path into the YAML: ``rule 'ace.x' > evidence[0] > where[1]``.

    pydantic puts union tags into ``loc``; parts that are not keys of the data are left out.
    """
    parts: list[str] = []
    current = data
    for part in loc:
        if isinstance(part, int) and isinstance(current, list) and 0 <= part < len(current):
            current = current[part]
            rule_id = current.get("id") if isinstance(current, dict) else None
            if parts and parts[-1] == "rules" and isinstance(rule_id, str):
                parts[-1] = f"rule {rule_id!r}"
            else:
                parts[-1] = f"{parts[-1]}[{part}]" if parts else f"[{part}]"
        elif isinstance(part, str) and isinstance(current, dict) and part in current:
            current = current[part]
            parts.append(part)
        elif isinstance(part, str) and isinstance(current, dict) and _alias_missing(part):
            parts.append(part.rstrip("_"))
    return " > ".join(parts) or "top level"


def _alias_missing(part: str) -> bool:
    """A required field the data does not have: name it (a tag name has no letters after a '[')."""
    return "[" not in part and "-" not in part


def iter_conditions(rule: RuleSpec) -> Iterator[tuple[int, str]]:
    """Every column a rule's conditions test, with the index of its evidence item."""
    for index, item in enumerate(rule.evidence):
        for condition in item.where:
            for column, _kind, _values in condition.columns():
                yield index, column
