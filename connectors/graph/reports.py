"""The Microsoft 365 active-user report of a customer tenant.

Graph answers 302 with a pre-authenticated download URL, which is fetched without the
Authorization header, only from a public https host, and never logged with its query string.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from urllib.parse import urljoin

from connectors.errors import MalformedResponse
from connectors.graph.connector import GraphConnector
from connectors.http.fields import integer
from connectors.http.redact import escape
from connectors.http.request import ApiRequest
from connectors.records.licences import ActiveUsers
from connectors.records.record import Record
from connectors.records.scope import ScopeKind, Source
from connectors.source_row import Cadence, Permission, SourceRow

__all__ = ["REPORT_COLUMNS", "REPORT_PERIOD", "GraphUsageReports", "parse_services_user_counts"]

REPORT_PERIOD = "D30"

REPORT_COLUMNS: dict[str, str] = {
    "exchange": "Exchange Active",
    "onedrive": "OneDrive Active",
    "sharepoint": "SharePoint Active",
    "skype_for_business": "Skype For Business Active",
    "yammer": "Yammer Active",
    "teams": "Teams Active",
    "office365": "Office 365 Active",
}
"""Workload -> column of ``getOffice365ServicesUserCounts``, in :data:`M365_WORKLOADS` order
(the order the fake connectors yield; a test holds the two together)."""


def parse_services_user_counts(
    content: bytes | str,
    customer_tenant_id: str,
    *,
    period: str = REPORT_PERIOD,
    what: str = "usage report",
) -> list[ActiveUsers]:
    """``getOffice365ServicesUserCounts`` CSV -> one :class:`ActiveUsers` per workload.

    Real downloads start with a UTF-8 BOM (decoded with ``utf-8-sig``). A report with its header
    but no data row (a tenant without data yet) yields nothing; a missing column is malformed.
    """
    if isinstance(content, bytes):
        try:
            content = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise MalformedResponse(f"{what}: the report is not UTF-8 text") from None
    else:
        content = content.removeprefix("\ufeff")
    reader = csv.DictReader(io.StringIO(content))
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in (*REPORT_COLUMNS.values(), "Report Refresh Date") if c not in header]
    if missing:
        raise MalformedResponse(f"{what}: the report lacks the columns {', '.join(missing)}")
    rows = [{(k or "").strip(): (v or "").strip() for k, v in row.items()} for row in reader]
    if not rows:
        return []
    # One row per report; were there several, the newest refresh date wins.
    row = max(rows, key=lambda r: r.get("Report Refresh Date", ""))
    raw_period = row.get("Report Period", "")
    made: list[ActiveUsers] = []
    for workload, column in REPORT_COLUMNS.items():
        value = row.get(column, "")
        count = integer(value) if value else 0
        if count is None:
            raise MalformedResponse(f"{what}: {column} is not a number: {escape(value, 40)}")
        made.append(
            ActiveUsers(
                customer_tenant_id=customer_tenant_id.lower(),
                workload=workload,
                active_users=count,
                report_refresh_date=row.get("Report Refresh Date") or None,
                period=f"D{raw_period}" if raw_period.isdigit() else (raw_period or period),
            )
        )
    return made


class GraphUsageReports(GraphConnector):
    """``getOffice365ServicesUserCounts(period='D30')``: active users per Microsoft 365 workload.

    Graph answers 302 to a short-lived pre-authenticated URL; it is fetched without the
    Authorization header (the token must not leave Graph), only from a public https host, under
    the download cap, and its query is never logged (all the requester's doing).
    """

    row = SourceRow(
        source=Source.GRAPH_USAGE,
        scope_kind=ScopeKind.CUSTOMER,
        kinds=(ActiveUsers.KIND,),
        page_size=100,  # one report, one request
        permissions=(Permission("Reports.Read.All", ScopeKind.CUSTOMER),),
        cadence=Cadence.ON_CHANGE,
    )

    async def fetch(self, customer_tenant_id: str | None) -> AsyncIterator[Record]:
        tenant = self.customer(customer_tenant_id)
        what = self.what(tenant)
        path = f"/v1.0/reports/getOffice365ServicesUserCounts(period='{REPORT_PERIOD}')"
        # Reports have their own, much lower, limits (14 per 10 min per app per tenant).
        scope = f"graph:{tenant}:reports"
        response = await self.requester.answer(self.request(tenant, path, what, scope=scope))
        if response.status_code in (301, 302, 303, 307, 308):
            location = response.headers.get("Location")
            if not location:
                raise MalformedResponse(f"{what}: the report redirect has no Location")
            download = ApiRequest(
                method="GET",
                url=urljoin(str(response.url), location),
                scope=f"graph-download:{tenant}",
                what=f"{what} (download)",
                headers={"Accept": "*/*"},
                pre_authenticated=True,
            )
            response = await self.requester.answer(download)
        if response.status_code != 200:
            raise MalformedResponse(f"{what}: unexpected HTTP {response.status_code}")
        for record in parse_services_user_counts(response.content, tenant, what=what):
            yield record
