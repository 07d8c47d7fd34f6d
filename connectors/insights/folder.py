"""Attribution from insight report CSVs someone dropped in a folder (the portal's "download"
button), for partners without app+user access to the insights API.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

from connectors.errors import PermanentError
from connectors.insights.merge import AttributionMerger
from connectors.insights.rows import iter_rows
from connectors.insights.source import INSIGHTS_ROW
from connectors.records.record import Record


class InsightsFolder:
    """Attribution from report CSV files dropped in ``folder`` (``*.csv``, all merged).

    No file at all is an error ("cannot verify"), not an empty attribution: a folder someone
    forgot to fill must not read as "every attribution disappeared".
    """

    row = INSIGHTS_ROW
    source = INSIGHTS_ROW.source

    def __init__(self, folder: Path) -> None:
        row = self.row
        self.folder = Path(folder)
        self.scope_kind = row.scope_kind
        self.kinds = row.kinds
        self.identity: str | None = None
        self.requires = row.requires

    def __repr__(self) -> str:
        return f"InsightsFolder({self.folder})"

    def files(self) -> list[Path]:
        if not self.folder.is_dir():
            raise PermanentError(f"{self.source}: the insights folder {self.folder} is missing")
        found = sorted(
            p for p in self.folder.iterdir() if p.is_file() and p.suffix.lower() == ".csv"
        )
        if not found:
            raise PermanentError(f"{self.source}: no report (*.csv) in {self.folder}")
        return found

    async def fetch(self, customer_tenant_id: str | None) -> AsyncIterator[Record]:
        merged = AttributionMerger()
        for path in self.files():
            try:
                content = await asyncio.to_thread(path.read_bytes)
            except OSError as exc:
                raise PermanentError(
                    f"{self.source}: cannot read {path.name}: {exc.strerror}"
                ) from None
            merged.extend(iter_rows(content, origin=path.name))
            del content
        for record in merged:
            yield record
