"""Rules: indicators and flags from declarative rule packs, each with its evidence.

The public API (the CLI wires it):

- :func:`run_rules` runs every pack on a build and writes ``<build_dir>/rules.duckdb``;
- :func:`explain_person` gives a person's indicators and flags with each rule's description and
  the records behind it (``.to_text()``);
- :func:`export_flags` writes one CSV row per indicator and flag;
- :func:`sensitivity_report` measures each ACE indicator against the synthetic truth, with and
  without linkage; :func:`flag_quality_report` measures the flags the truth can judge (and every flag against
  what partners recorded); :func:`fairness_report` gives flag rates by sex, age band and deprivation decile.

Rule packs are YAML beside this module (``packs/``), validated by :mod:`commonground.rules.spec`.
"""

from __future__ import annotations

from commonground.rules.explain import PersonExplanation, explain_person, export_flags
from commonground.rules.fairness import FairnessReport, fairness_report
from commonground.rules.flag_quality import FlagQualityReport, flag_quality_report
from commonground.rules.packs import RulePackError, RuleSet, default_rules, load_rules
from commonground.rules.quality import QualityReport, sensitivity_report
from commonground.rules.run import RulesResult, run_rules

__all__ = [
    "FairnessReport",
    "FlagQualityReport",
    "PersonExplanation",
    "QualityReport",
    "RulePackError",
    "RuleSet",
    "RulesResult",
    "default_rules",
    "explain_person",
    "export_flags",
    "fairness_report",
    "flag_quality_report",
    "load_rules",
    "run_rules",
    "sensitivity_report",
]
