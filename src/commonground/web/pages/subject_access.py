"""Subject access for the data protection officer: enter a person id, confirm, download the export as a zip.

The export (:func:`commonground.cases.subject_access.export_for`) is written to a temporary folder, zipped
in memory and sent as the response to the confirming POST, so the person id never travels in a query and nothing
is left on the server's disk; the export is audited before the response is sent.
"""

from __future__ import annotations

import io
import re
import tempfile
import zipfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Form
from fastapi.responses import HTMLResponse, Response

from commonground.cases import subject_access
from commonground.web.deps import Access, require
from commonground.web.render import page

router = APIRouter(include_in_schema=False)

PERSON_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


@router.get("/subject-access", response_class=HTMLResponse)
def subject_access_page(access: Annotated[Access, Depends(require("export-subject-access"))]) -> HTMLResponse:
    return page(access, "subject_access.html", title="Subject access request", errors={}, person_id="")


@router.post("/subject-access", response_model=None)
def subject_access_export(
    access: Annotated[Access, Depends(require("export-subject-access"))],
    person_id: Annotated[str, Form(max_length=64)] = "",
    confirm: Annotated[str, Form(max_length=3)] = "",
) -> Response:
    person_id = person_id.strip()
    if not PERSON_ID.match(person_id):
        return page(
            access,
            "subject_access.html",
            title="Subject access request",
            status=400,
            error_title=True,
            errors={"person_id": "Enter the person id, like P0000000123"},
            person_id=person_id[:64],
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
