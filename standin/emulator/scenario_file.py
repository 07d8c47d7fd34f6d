"""Whether a scenario file, or a file in its ``base`` chain, changed since it was last loaded.

A look compares modification times first, so an unchanged generated estate (20,000 customers
are a 40 MB file) is not re-read on every request.
"""

from __future__ import annotations

import json
from pathlib import Path

BASE_DEPTH = 6
"""How many ``base`` links are followed (a loop or a deeper chain stops there)."""


class ScenarioFile:
    """A scenario file and the modification times it was last loaded at."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamps = self._read()

    def changed(self) -> dict[Path, float] | None:
        """The files' new modification times when any changed, else None."""
        if self._unchanged():
            return None
        stamps = self._read()
        return None if stamps == self._stamps else stamps

    def accept(self, stamps: dict[Path, float]) -> None:
        """The files were loaded at ``stamps``."""
        self._stamps = stamps

    def _read(self) -> dict[Path, float]:
        """Modification times of the scenario file and its ``base`` chain."""
        stamps: dict[Path, float] = {}
        path: Path | None = self.path
        for _ in range(BASE_DEPTH):
            if path is None or path in stamps:
                break
            try:
                stamps[path] = path.stat().st_mtime
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                break
            base = data.get("base") if isinstance(data, dict) else None
            path = (path.parent / str(base)).resolve() if base else None
        return stamps

    def _unchanged(self) -> bool:
        """Every known file still has its recorded modification time: no need to re-read them."""
        try:
            return bool(self._stamps) and all(
                path.stat().st_mtime == stamp for path, stamp in self._stamps.items()
            )
        except OSError:
            return False
