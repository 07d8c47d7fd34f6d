"""The insights source's row, shared by its two connectors: the insights API and a folder of
report CSVs."""

from __future__ import annotations

from connectors.records.attribution import Attribution
from connectors.records.scope import ScopeKind, Source
from connectors.source_row import SourceRow

INSIGHTS_ROW = SourceRow(
    source=Source.INSIGHTS,
    scope_kind=ScopeKind.PARTNER,
    kinds=(Attribution.KIND,),
    page_size=1000,
)
