"""Which person view the service reads: the current build's, reopened when a newer build is published."""

from __future__ import annotations

import threading
from pathlib import Path

from commonground.hub.person_view import VIEW_FILE, PersonView
from commonground.linkage.builds import builds_dir, current_build_id


class PersonViews:
    """The current build's :class:`PersonView`, or None before ``commonground hub sync`` has laid one out."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self._lock = threading.Lock()
        self._open: tuple[str, PersonView] | None = None

    def current(self) -> PersonView | None:
        build_id = current_build_id(self.data_dir)
        if build_id is None:
            return None
        with self._lock:
            if self._open is not None and self._open[0] == build_id:
                return self._open[1]
            path = builds_dir(self.data_dir) / build_id / VIEW_FILE
            if not path.exists():
                return None
            view = PersonView(path)
            self._open = (build_id, view)  # the previous view stays open for requests already reading it
            return view

    @property
    def build_id(self) -> str | None:
        return self._open[0] if self._open else None
