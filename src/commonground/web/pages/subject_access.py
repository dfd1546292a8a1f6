"""Subject access for the data protection officer: find the person (by name and date of birth, or their id),
confirm, download the export as a zip.

The search is posted (``POST /subject-access/search``), so the name typed never travels in a URL; each person
found is chosen with a button that posts their pseudonymous id to the confirmation. The search is the subject-access
operation's own (:func:`commonground.cases.subject_access.find_for_request`), audited one event per person shown.

The export (:func:`commonground.cases.subject_access.export_for`) is written to a temporary folder, zipped
in memory and sent as the response to the confirming POST, so the person id never travels in a query and nothing
is left on the server's disk; the export is audited before the response is sent.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import tempfile
import zipfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Form
from fastapi.responses import HTMLResponse, Response

from commonground.cases import subject_access
from commonground.errors import UserError
from commonground.web.deps import Access, require
from commonground.web.render import page

router = APIRouter(include_in_schema=False)

PERSON_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


TITLE = "Subject access request"


def _start(access: Access, *, status: int = 200, **context: object) -> HTMLResponse:
    """The first page: the search for the person, its results, and the person id field."""
    values: dict[str, object] = {
        "errors": {},
        "person_id": "",
        "search": {"family_name": "", "given_name": "", "born": ""},
        "searched": False,
        "results": [],
        "build_published": True,
    }
    values.update(context)
    errors = values["errors"]
    return page(access, "subject_access.html", title=TITLE, status=status, error_title=bool(errors), **values)


@router.get("/subject-access", response_class=HTMLResponse)
def subject_access_page(access: Annotated[Access, Depends(require("export-subject-access"))]) -> HTMLResponse:
    return _start(access)


@router.post("/subject-access/search", response_class=HTMLResponse)
def subject_access_search(
    access: Annotated[Access, Depends(require("export-subject-access"))],
    family_name: Annotated[str, Form(max_length=100)] = "",
    given_name: Annotated[str, Form(max_length=100)] = "",
    born: Annotated[str, Form(max_length=10)] = "",
) -> HTMLResponse:
    search = {"family_name": family_name, "given_name": given_name, "born": born}
    errors: dict[str, str] = {}
    date_of_birth: dt.date | None = None
    if born.strip():
        try:
            date_of_birth = dt.date.fromisoformat(born.strip())
        except ValueError:
            errors["born"] = "Enter the date of birth like 2014-03-27"
    if not family_name.strip():
        errors["family_name"] = "Enter a family name"
    if errors:
        return _start(access, status=400, errors=errors, search=search)
    view = access.request.app.state.person_views.current()
    try:
        found = subject_access.find_for_request(
            access, view=view, family_name=family_name, given_name=given_name, date_of_birth=date_of_birth
        )
    except UserError as error:
        return _start(access, status=400, errors={error.field or "family_name": str(error)}, search=search)
    return _start(access, search=search, searched=True, results=found, build_published=view is not None)


@router.post("/subject-access", response_model=None)
def subject_access_export(
    access: Annotated[Access, Depends(require("export-subject-access"))],
    person_id: Annotated[str, Form(max_length=64)] = "",
    confirm: Annotated[str, Form(max_length=3)] = "",
) -> Response:
    person_id = person_id.strip()
    if not PERSON_ID.match(person_id):
        return _start(
            access, status=400, errors={"person_id": "Enter the person id, like P0000000123"}, person_id=person_id[:64]
        )
    view = access.request.app.state.person_views.current()
    if confirm != "yes":
        held = subject_access.summary(access, view=view, person_id=person_id)
        return page(
            access,
            "subject_access_confirm.html",
            title="Confirm the subject access export",
            person_id=person_id,
            in_build=held.in_build,
            build_published=held.build_published,
            work_items=held.work_items,
            accesses=held.accesses,
            sections=held.sections,
        )
    with tempfile.TemporaryDirectory(prefix="cg-sar-") as tmp:
        folder = Path(tmp) / f"subject-access-{person_id}"
        files = subject_access.export_for(access, view=view, person_id=person_id, out_dir=folder)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name in files:
                archive.write(folder / name, arcname=f"{folder.name}/{name}")
    stamp = access.now.strftime("%Y%m%d-%H%M%S")
    return Response(
        buffer.getvalue(),
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="subject-access-{person_id}-{stamp}.zip"'},
    )
