"""Which person view the service reads: the current build's current view, opened again when a newer build is
published or ``commonground hub sync`` lays out a new view (after the rules ran again, for instance)."""

from __future__ import annotations

import threading
from pathlib import Path

from commonground.cases.person_view import PersonView, view_path
from commonground.linkage.builds import builds_dir, current_build_id


class PersonViews:
    """The current build's :class:`PersonView`, or None before ``commonground hub sync`` has laid one out."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self._lock = threading.Lock()
        self._open: tuple[str, Path, PersonView] | None = None

    def current(self) -> PersonView | None:
        build_id = current_build_id(self.data_dir)
        if build_id is None:
            return None
        path = view_path(builds_dir(self.data_dir) / build_id)
        if path is None:
            return None
        with self._lock:
            if self._open is not None and self._open[1] == path:
                return self._open[2]
            view = PersonView(path)
            self._open = (build_id, path, view)  # the previous view stays open for requests already reading it
            return view

    @property
    def build_id(self) -> str | None:
        return self._open[0] if self._open else None
