"""Evaluations of local interventions, as a page: what an evaluation is and is not, the outcomes it can measure, and
a form that runs one on the current build.

The cohort comes from an uploaded CSV of pseudonymous person ids and start dates (the columns the CLI reads), or
from the hub's referrals to a chosen partner closed with an outcome in a date range (the date each was sent is the
start). The result is rendered, never stored: the CSV download posts the same form again with ``format=csv``.
Running an evaluation is audited (the outcome, the window and the cohort's size; no person id) by
:func:`commonground.whatworks.evaluations.run_evaluation`, and nothing about a person is shown: counts go through
the small-number rule of :mod:`commonground.evaluation.report`. A result is linked to a library entry by
:func:`commonground.whatworks.local_evaluations.link_evaluation`, as from the entry's own page.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from starlette.datastructures import UploadFile

from commonground import spreadsheet
from commonground.access.actions import SubjectKind
from commonground.access.resolver import Subject
from commonground.cases.evaluation_cohorts import closed_referral_pairs
from commonground.errors import UserError
from commonground.evaluation import NHS_ENGLAND, EvaluationResult, SmallNumbers
from commonground.evaluation.cohort import _DATE_COLUMNS, Cohort
from commonground.evaluation.evaluate import SMD_FLAG
from commonground.evaluation.outcomes import default_outcomes
from commonground.evaluation.report import WITHHELD, caveats, summary
from commonground.linkage.builds import require_current_build
from commonground.store.models import Organisation
from commonground.web.deps import Access, require
from commonground.web.render import page, redirect
from commonground.whatworks import library as lib
from commonground.whatworks.evaluations import run_evaluation as run
from commonground.whatworks.local_evaluations import link_evaluation
from commonground.whatworks.models import EntryStatus, LibraryEntry

router = APIRouter(include_in_schema=False)

MAX_UPLOAD_BYTES = 5_000_000
MAX_ROWS = 200_000
MAX_SHOWN_ERRORS = 20
WINDOWS = (("91", "3 months (91 days)"), ("183", "6 months (183 days)"), ("365", "12 months (365 days)"))
_PERSON_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


@dataclass
class CohortUpload:
    """What a cohort file gave: every data row is either used or refused (with the row and the field named)."""

    rows_read: int = 0
    pairs: list[tuple[str, dt.date]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    @property
    def used(self) -> int:
        return len(self.pairs)


def parse_cohort_csv(data: bytes) -> CohortUpload:
    """The rows of a cohort CSV (``person_id`` and ``start_date`` or ``start``, as the CLI's
    :func:`commonground.evaluation.read_cohort_csv` reads it), each row used or refused; values never echoed."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UserError("the file is not UTF-8 text: save it as CSV (UTF-8) and upload it again") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    columns = [c.strip() for c in reader.fieldnames or []]
    reader.fieldnames = columns
    date_column = next((c for c in _DATE_COLUMNS if c in columns), None)
    if "person_id" not in columns or date_column is None:
        raise UserError("the file needs a first row naming the columns person_id and start_date")
    upload = CohortUpload()
    for row_number, row in enumerate(reader, start=1):
        if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
            continue  # a blank line is not a row
        upload.rows_read += 1
        if upload.rows_read > MAX_ROWS:
            raise UserError(f"the file has more than {MAX_ROWS:,} rows")
        where = f"Row {row_number} (line {reader.line_num} of the file)"
        person_id = (row.get("person_id") or "").strip()
        raw_start = (row.get(date_column) or "").strip()
        if not person_id:
            upload.refused.append(f"{where}, person_id: it is blank")
            continue
        if not _PERSON_ID.match(person_id):
            upload.refused.append(
                f"{where}, person_id: not a pseudonymous person id (letters, digits, '.', '_' and '-' only)"
            )
            continue
        try:
            start = dt.date.fromisoformat(raw_start)
        except ValueError:
            upload.refused.append(f"{where}, {date_column}: not a date in the form YYYY-MM-DD")
            continue
        upload.pairs.append((person_id, start))
    return upload


def _rule(access: Access) -> SmallNumbers:
    rule = getattr(access.request.app.state, "evaluation_rule", None)
    return rule if isinstance(rule, SmallNumbers) else NHS_ENGLAND


def _current_build_path(access: Access) -> Path | None:
    """The current build's folder, or None when there is none (or it cannot be read)."""
    try:
        return require_current_build(access.request.app.state.settings.data_dir).path
    except (UserError, OSError, ValueError):
        return None


def _organisations(access: Access) -> list[Organisation]:
    return list(access.db.scalars(select(Organisation).order_by(Organisation.name)))


def _form_page(
    access: Access,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    upload: CohortUpload | None = None,
    status: int = 200,
) -> HTMLResponse:
    outcomes = default_outcomes()
    return page(
        access,
        "evaluations.html",
        title="Evaluations of local interventions",
        status=status,
        outcomes=list(outcomes.values()),
        outcome_options=[(o.name, o.title) for o in outcomes.values()],
        windows=WINDOWS,
        organisations=[(str(o.id), o.name) for o in _organisations(access)],
        has_build=_current_build_path(access) is not None,
        may_run=access.check("run-evaluation", Subject(kind=SubjectKind.EVALUATION)).allowed,
        errors=errors or {},
        values=values or {},
        upload=upload,
        refused_shown=(upload.refused[:MAX_SHOWN_ERRORS] if upload else []),
        rule=_rule(access),
    )


@router.get("/evaluations", response_class=HTMLResponse)
def evaluations_page(access: Annotated[Access, Depends(require("view-evaluations"))]) -> HTMLResponse:
    return _form_page(access)


def _text(form: Any, name: str, limit: int = 200) -> str:
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def _day(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


@router.post("/evaluations", response_model=None)
async def run_evaluation(access: Annotated[Access, Depends(require("run-evaluation"))]) -> Response:
    form = await access.request.form()
    values = {
        name: _text(form, name)
        for name in ("source", "outcome", "window_days", "organisation_id", "closed_from", "closed_to", "format")
    }
    values["skip_refused"] = "yes" if _text(form, "skip_refused") == "yes" else ""
    errors: dict[str, str] = {}
    outcomes = default_outcomes()
    spec = outcomes.get(values["outcome"])
    if spec is None:
        errors["outcome"] = "Choose the outcome to measure"
    window = int(values["window_days"]) if values["window_days"] in dict(WINDOWS) else None
    if window is None:
        errors["window_days"] = "Choose how long to follow people up"
    upload: CohortUpload | None = None
    pairs: list[tuple[str, dt.date]] = []
    source = values["source"]
    if source == "file":
        upload, pairs = await _from_file(form.get("cohort_file"), values, errors)
    elif source == "referrals":
        pairs = _from_referrals(access, values, errors)
    else:
        errors["source"] = "Choose where the cohort comes from"
    build_path = _current_build_path(access)
    if build_path is None:
        errors["build"] = "There is no linked build yet: an evaluation needs the current build of the linked records"
    if errors or spec is None or window is None or build_path is None:
        return _form_page(access, errors=errors, values=values, upload=upload, status=400)
    download = values.get("format") == "csv"
    try:
        done = run(
            access,
            build_dir=build_path,
            pairs=pairs,
            outcome=spec,
            window_days=window,
            rule=_rule(access),
            source=source,
            download=download,
        )
    except UserError as error:
        errors["cohort"] = f"The evaluation could not run: {error}"
        return _form_page(access, errors=errors, values=values, upload=upload, status=400)
    if download:
        return _csv_response(done.result)
    return _result_page(access, done.result, done.cohort, values, upload)


async def _from_file(
    item: Any, values: dict[str, str], errors: dict[str, str]
) -> tuple[CohortUpload | None, list[tuple[str, dt.date]]]:
    if not isinstance(item, UploadFile) or not item.filename:
        errors["cohort_file"] = "Choose a CSV file of the cohort to upload"
        return None, []
    data = await item.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        errors["cohort_file"] = f"The file is larger than {MAX_UPLOAD_BYTES // 1_000_000} MB"
        return None, []
    try:
        upload = parse_cohort_csv(data)
    except UserError as error:
        errors["cohort_file"] = f"The file cannot be used: {error}"
        return None, []
    if not upload.pairs:
        errors["cohort_file"] = "No row of the file could be used (see the rows refused below)"
    elif upload.refused and values["skip_refused"] != "yes":
        errors["cohort_file"] = (
            f"{len(upload.refused):,} of {upload.rows_read:,} rows were refused (listed below): correct them, or "
            "tick 'Run with the usable rows only' and upload the file again"
        )
    return upload, upload.pairs


def _from_referrals(access: Access, values: dict[str, str], errors: dict[str, str]) -> list[tuple[str, dt.date]]:
    organisation = (
        access.db.get(Organisation, int(values["organisation_id"])) if values["organisation_id"].isdigit() else None
    )
    if organisation is None:
        errors["organisation_id"] = "Choose the partner the referrals were sent to"
    closed_from, closed_to = _day(values["closed_from"]), _day(values["closed_to"])
    if closed_from is None:
        errors["closed_from"] = "Enter the first day referrals were closed, for example 2025-04-01"
    if closed_to is None:
        errors["closed_to"] = "Enter the last day referrals were closed, for example 2026-03-31"
    if closed_from and closed_to and closed_to < closed_from:
        errors["closed_to"] = "The last day must be the same as or after the first day"
    if organisation is None or closed_from is None or closed_to is None or "closed_to" in errors:
        return []
    pairs = closed_referral_pairs(access, organisation_id=organisation.id, closed_from=closed_from, closed_to=closed_to)
    if not pairs:
        errors["organisation_id"] = "No referral to that partner was closed with an outcome in those dates"
    return pairs


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def chart(result: EvaluationResult) -> dict[str, Any] | None:
    """Bar heights and CI whiskers (in percent) of the risk in each group, or None when the estimate is withheld.

    The bars show each group's risk from the exact counts (as the estimates are), the whisker a 95 % Wald interval
    of that proportion."""
    if isinstance(summary(result)["effect"].get("risk_difference"), str):
        return None
    bars: list[dict[str, Any]] = []
    highs: list[float] = []
    for label, events, people in (
        ("Received the intervention", result.events_treated, result.matched_treated),
        ("Matched comparison", result.comparison_events, result.comparison_people),
    ):
        if people <= 0:
            return None
        risk = events / people
        half = 1.96 * math.sqrt(risk * (1 - risk) / people)
        high = 100 * min(1.0, risk + half)
        highs.append(high)
        bars.append({"label": label, "risk": 100 * risk, "low": 100 * max(0.0, risk - half), "high": high})
    scale_max = max(10.0, math.ceil(max(highs) / 10) * 10)
    return {"bars": bars, "max": scale_max, "ticks": [scale_max * i / 4 for i in range(5)]}


def _result_page(
    access: Access, result: EvaluationResult, cohort: Cohort, values: dict[str, str], upload: CohortUpload | None
) -> HTMLResponse:
    s = summary(result)
    entries: list[tuple[str, str]] = []
    if access.check("review-library-entry", Subject(kind=SubjectKind.LIBRARY)).allowed:
        entries = [
            (str(e.id), e.title)
            for e in access.db.scalars(
                select(LibraryEntry).where(LibraryEntry.status == EntryStatus.PUBLISHED).order_by(LibraryEntry.title)
            )
        ]
    return page(
        access,
        "evaluation_result.html",
        title=f"Evaluation: {result.outcome.title}",
        result=result,
        s=s,
        chart=chart(result),
        caveats=caveats(result),
        withheld=WITHHELD,
        smd_flag=SMD_FLAG,
        rule=result.rule,
        values=values,
        upload=upload,
        refused_shown=(upload.refused[:MAX_SHOWN_ERRORS] if upload else []),
        duplicates=cohort.duplicates,
        entries=entries,
        link_title=f"Local evaluation: {result.outcome.title.lower()} within {result.window_days} days",
        link_summary=link_summary(result),
        link_figures=link_figures(s),
        today=access.now.date().isoformat(),
    )


def _triple_text(value: Any, *, percent: bool = False) -> str:
    if isinstance(value, str) or not isinstance(value, dict):
        return str(value)
    scale = 100 if percent else 1
    unit = " points" if percent else ""

    def f(v: float | None) -> str:
        return "-" if v is None else (f"{scale * v:+.1f}" if percent else f"{v:.2f}")

    if value["low"] is None or value["high"] is None:
        return f"{f(value['estimate'])}{unit} (no interval)"
    return f"{f(value['estimate'])}{unit} (95 % CI {f(value['low'])} to {f(value['high'])})"


def link_figures(s: dict[str, Any]) -> str:
    """The published figures as 'name: value' lines, the library's figures format."""
    lines = [
        f"outcome: {s['outcome']['title']}",
        f"follow-up days: {s['window_days']}",
        f"people matched: {s['cohort']['matched']}",
        f"risk ratio: {_triple_text(s['effect']['risk_ratio'])}",
        f"risk difference: {_triple_text(s['effect']['risk_difference'], percent=True)}",
        f"difference in differences: {_triple_text(s['difference_in_differences'], percent=True)}",
        f"build: {s['build_id']}",
    ]
    return "\n".join(lines)


def link_summary(result: EvaluationResult) -> str:
    return (
        "An observational matched comparison from the partnership's linked records (propensity-score matching on "
        "age, sex, area deprivation and prior contacts by agency), not a trial. " + " ".join(caveats(result)[1:4])
    )[: lib.MAX_TEXT]


def _csv_response(result: EvaluationResult) -> Response:
    s = summary(result)
    out = io.StringIO()
    writer = spreadsheet.writer(out, lineterminator="\n")  # a file people open: formula triggers neutralised
    writer.writerow(["section", "measure", "estimate", "low", "high"])
    writer.writerow(["outcome", s["outcome"]["name"], s["outcome"]["title"], "", ""])
    writer.writerow(["outcome", "window_days", s["window_days"], "", ""])
    writer.writerow(["outcome", "build_id", s["build_id"], "", ""])
    writer.writerow(["outcome", "records_up_to", s["records_up_to"], "", ""])
    for group in ("cohort", "comparison", "outcome_counts"):
        for key, value in s[group].items():
            writer.writerow([group, key, value, "", ""])
    for key, value in s["effect"].items():
        writer.writerow(["effect", key, *_csv_cells(value)])
    writer.writerow(["effect", "difference_in_differences", *_csv_cells(s["difference_in_differences"])])
    for b in s["balance"]:
        writer.writerow(["balance_smd_before", b["covariate"], b["smd_before"], "", ""])
        writer.writerow(["balance_smd_after", b["covariate"], b["smd_after"], "", ""])
    writer.writerow(["small_numbers", "rule", s["small_numbers"], "", ""])
    for text in s["caveats"]:
        writer.writerow(["caveat", "", text, "", ""])
    name = f"evaluation-{s['outcome']['name']}-{s['build_id']}.csv"
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )


def _csv_cells(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [
            value["estimate"],
            "" if value["low"] is None else value["low"],
            "" if value["high"] is None else value["high"],
        ]
    return [value, "", ""]


@router.post("/evaluations/link")
def link_to_library(
    access: Annotated[Access, Depends(require("review-library-entry"))],
    entry_id: Annotated[int, Form(ge=1, le=2**31 - 1)],
    title: Annotated[str, Form(max_length=200)],
    evaluated_on: Annotated[dt.date, Form()],
    summary_text: Annotated[str, Form(alias="summary", max_length=lib.MAX_TEXT)] = "",
    figures: Annotated[str, Form(max_length=lib.MAX_TEXT)] = "",
    reference: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Link an evaluation's published figures to a library entry, where they are shown labelled LOCAL."""
    link_evaluation(
        access,
        entry_id=entry_id,
        title=title,
        summary=summary_text,
        evaluated_on=evaluated_on,
        figures=figures,
        reference=reference,
    )
    return redirect(f"/library/{entry_id}#local", done="evaluation-linked")
