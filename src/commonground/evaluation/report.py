"""An evaluation as people read it: text, Markdown, JSON and CSV, with the small-number rule applied.

No person id appears in any of them. Counts go through the result's :class:`SmallNumbers` rule
(by default 1-7 shown as ``*``, others rounded to 5; percentages from the rounded counts); an
estimate resting on a suppressed count is withheld, and so are means over fewer than the rule's
threshold. Every report carries the caveats in plain English.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from commonground import spreadsheet
from commonground.evaluation.evaluate import SMD_FLAG, EvaluationResult
from commonground.evaluation.stats import Estimate

WITHHELD = "withheld (small numbers)"


def caveats(result: EvaluationResult) -> list[str]:
    """Plain-English warnings that go with every result."""
    out = [
        "This is an observational comparison, not a trial. People were not allocated to the intervention at random, "
        "so the comparison group can differ from the people who received it in ways the records do not show "
        "(how unwell they were, their support at home, their motivation): unmeasured confounding can make an "
        "intervention look better or worse than it is.",
        "The comparison group was matched only on age, sex, area deprivation and contacts with each agency in the "
        "year before. Nothing else was taken into account.",
        f"The outcome counts only what agencies recorded: {result.outcome.title.lower()}. What nobody recorded, or "
        "what happened outside the area, is not seen, and records linked to the wrong person add some error.",
        "A 95 % confidence interval shows the uncertainty from chance alone; it does not cover bias.",
    ]
    if result.matched_treated < 100:
        out.append(
            "The numbers are small, so the intervals are wide: a real effect can be missed and a chance one can "
            "appear. Treat the result as a signal to look further, not as proof."
        )
    if result.unmatched_treated:
        out.append(
            "Some people who received the intervention had no similar comparison person and are left out, so the "
            "result describes the people who could be matched."
        )
    if result.flagged_covariates:
        out.append(
            f"After matching the groups still differ (standardised difference above {SMD_FLAG}) in: "
            f"{', '.join(result.flagged_covariates)}. Read the estimate with more caution."
        )
    return out


def _withheld(result: EvaluationResult) -> bool:
    """An estimate rests on four counts: treated and comparison people with and without the outcome."""
    return result.rule.any_small(
        result.events_treated,
        result.matched_treated - result.events_treated,
        result.comparison_events,
        result.comparison_people - result.comparison_events,
    )


def _did_withheld(result: EvaluationResult) -> bool:
    return _withheld(result) or result.rule.any_small(result.before_treated, result.comparison_before_events)


def _fmt(value: float, *, percent: bool = False, digits: int = 2) -> str:
    if value is None or not math.isfinite(value):
        return "-"
    return f"{100 * value:+.1f} points" if percent else f"{value:.{digits}f}"


def _estimate(est: Estimate, *, percent: bool = False, digits: int = 2) -> str:
    if est.low is None or est.high is None:
        return f"{_fmt(est.value, percent=percent, digits=digits)} (no interval: a group had no outcome)"
    if percent:
        return f"{100 * est.value:+.1f} points (95 % CI {100 * est.low:+.1f} to {100 * est.high:+.1f})"
    return f"{est.value:.{digits}f} (95 % CI {est.low:.{digits}f} to {est.high:.{digits}f})"


def summary(result: EvaluationResult) -> dict[str, Any]:
    """The published figures as a dict (JSON-ready): counts rounded or suppressed, estimates or 'withheld'."""
    rule = result.rule
    withheld = _withheld(result)
    e = result.effects
    effect: dict[str, Any]
    if withheld:
        effect = {"risk_difference": WITHHELD, "risk_ratio": WITHHELD}
    else:
        effect = {
            "risk_treated": rule.percent(result.events_treated, result.matched_treated),
            "risk_comparison": rule.percent(result.comparison_events, result.comparison_people),
            "risk_difference": _triple(e.difference),
            "risk_ratio": _triple(e.ratio),
            "unmatched_risk_ratio": _triple(result.naive.ratio),
        }
    return {
        "outcome": {"name": result.outcome.name, "title": result.outcome.title},
        "window_days": result.window_days,
        "build_id": result.build_id,
        "records_up_to": result.data_end.isoformat(),
        "starts_from": result.period[0].isoformat(),
        "starts_to": result.period[1].isoformat(),
        "cohort": {
            "listed": rule.count(result.cohort_size),
            "not_in_build": rule.count(result.not_in_build),
            "follow_up_incomplete": rule.count(result.too_late),
            "outside_population": rule.count(result.wrong_population),
            "matched": rule.count(result.matched_treated),
            "unmatched": rule.count(result.unmatched_treated),
        },
        "comparison": {
            "candidates": rule.count(result.candidates),
            "people_used": rule.count(result.comparison_people),
            "ratio": result.ratio,
            "caliper_sd_of_logit": result.caliper,
        },
        "outcome_counts": {
            "treated_with_outcome": rule.count(result.events_treated),
            "comparison_with_outcome": rule.count(result.comparison_events),
        },
        "effect": effect,
        "difference_in_differences": (WITHHELD if _did_withheld(result) or result.did is None else _triple(result.did)),
        "balance": [
            {
                "covariate": b.covariate,
                "label": b.label,
                "smd_before": round(b.smd_before, 3),
                "smd_after": round(b.smd_after, 3),
                "flagged": b.flagged,
            }
            for b in result.balance
        ],
        "small_numbers": rule.name,
        "caveats": caveats(result),
        "notes": list(result.notes),
    }


def _triple(est: Estimate) -> dict[str, float | None]:
    def r(v: float | None) -> float | None:
        return None if v is None or not math.isfinite(v) else round(v, 4)

    return {"estimate": r(est.value), "low": r(est.low), "high": r(est.high)}


def render_markdown(result: EvaluationResult) -> str:
    """The report as Markdown."""
    rule = result.rule
    s = summary(result)
    c = s["cohort"]
    lines = [
        f"# Evaluation: {result.outcome.title}",
        "",
        f"*{result.outcome.description}*",
        "",
        f"- Follow-up: {result.window_days} days after the start (records in the day either side of it belong to "
        f"the episode that led to it and are not counted)",
        f"- Starts from {s['starts_from']} to {s['starts_to']}; records up to {s['records_up_to']} "
        f"(build {result.build_id})",
        f"- Cohort: {c['listed']} listed, {c['matched']} matched to a comparison person, {c['unmatched']} without "
        f"one, {c['not_in_build']} not in the build, {c['follow_up_incomplete']} without a whole follow-up, "
        f"{c['outside_population']} outside the outcome's population",
        f"- Comparison: {s['comparison']['people_used']} people used from {s['comparison']['candidates']} "
        f"candidates (1:{result.ratio} nearest-neighbour matching on the propensity score, caliper "
        f"{result.caliper} SD of its logit)",
        "",
        "## Result",
        "",
    ]
    if _withheld(result):
        lines.append(
            f"The estimate is {WITHHELD}: a group has 1 to {rule.suppress_up_to} people with or without the outcome."
        )
    else:
        e = result.effects
        lines += [
            "| | people | with the outcome | risk |",
            "|---|---:|---:|---:|",
            f"| received the intervention | {c['matched']} | {s['outcome_counts']['treated_with_outcome']} | "
            f"{s['effect']['risk_treated']} |",
            f"| matched comparison | {c['matched'] if result.ratio == 1 else s['comparison']['people_used']} | "
            f"{s['outcome_counts']['comparison_with_outcome']} | {s['effect']['risk_comparison']} |",
            "",
            f"- **Risk difference**: {_estimate(e.difference, percent=True)}",
            f"- **Risk ratio**: {_estimate(e.ratio)}",
            f"- Before matching the risk ratio was {_estimate(result.naive.ratio)}",
        ]
        if result.did is not None and not _did_withheld(result):
            lines.append(
                f"- **Difference in differences** (change from the {result.window_days} days before to the "
                f"{result.window_days} days after, against the comparison's change): "
                f"{_estimate(result.did, percent=True)}"
            )
    lines += ["", "## Balance (standardised mean differences)", ""]
    lines += ["| covariate | before matching | after matching | |", "|---|---:|---:|---|"]
    for b in result.balance:
        flag = f"above {SMD_FLAG}" if b.flagged else ""
        lines.append(f"| {b.label} | {b.smd_before:+.2f} | {b.smd_after:+.2f} | {flag} |")
    lines += ["", "## Read this with care", ""]
    lines += [f"- {text}" for text in caveats(result)]
    lines += ["", f"Small numbers: {rule.name}.", *result.notes]
    return "\n".join(lines) + "\n"


def write_report(result: EvaluationResult, out: Path) -> list[Path]:
    """``report.md``, ``report.json``, ``summary.csv`` and ``balance.csv`` in ``out``; the paths written.

    The CSV files are for people to open: every field quoted, formula-like cells neutralised
    (:mod:`commonground.spreadsheet`)."""
    out.mkdir(parents=True, exist_ok=True)
    s = summary(result)
    paths = [out / "report.md", out / "report.json", out / "summary.csv", out / "balance.csv"]
    paths[0].write_text(render_markdown(result), encoding="utf-8")
    paths[1].write_text(json.dumps(s, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    with paths[2].open("w", encoding="utf-8", newline="") as f:
        writer = spreadsheet.writer(f, lineterminator="\n")
        writer.writerow(["measure", "estimate", "low", "high"])
        for name in ("risk_difference", "risk_ratio"):
            value = s["effect"][name]
            writer.writerow([name, *(_row(value))])
        writer.writerow(["difference_in_differences", *(_row(s["difference_in_differences"]))])
        for group, figures in (("cohort", s["cohort"]), ("comparison", s["comparison"])):
            for key, value in figures.items():
                writer.writerow([f"{group}.{key}", value, "", ""])
    with paths[3].open("w", encoding="utf-8", newline="") as f:
        writer = spreadsheet.writer(f, lineterminator="\n")
        writer.writerow(["covariate", "label", "smd_before", "smd_after", "flagged"])
        for b in s["balance"]:
            writer.writerow([b["covariate"], b["label"], b["smd_before"], b["smd_after"], str(b["flagged"]).lower()])
    return paths


def _row(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [
            value["estimate"],
            "" if value["low"] is None else value["low"],
            "" if value["high"] is None else value["high"],
        ]
    return [value, "", ""]
