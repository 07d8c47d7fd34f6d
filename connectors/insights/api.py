"""Partner Center insights: who Microsoft credits (DPOR, CPOR, PAL, CSP ...) per customer workload.

No REST endpoint returns DPOR or CPOR as such; the insight reports do. Two ways in, one parser:

* :class:`InsightsApi` runs the programmatic insights API (app+user token): create a query per
  dataset, schedule a one-shot report, poll its execution, download the CSV from the
  pre-authenticated ``reportAccessSecureLink`` (without the Authorization header, only from a
  public https host, under the download cap).
* :class:`InsightsFolder` reads CSV files of the same reports that someone dropped in a folder
  (the portal's "download" button), for partners without app+user access.

Accepted CSV columns (names compared without case, spaces, ``_`` or ``-``):

==================  ===================================================================
field               accepted column names
==================  ===================================================================
customer tenant     CustomerTenantId, TenantId                                (required)
attribution type    PartnerAttributionType, PartnerAssociationType, AttributionType,
                    AssociationType, PartnerAttachType (a cell may list several:
                    ``CSP T1, DPOR, PAL``)                                    (required)
workload            WorkloadName, Workload, Product, ServiceLevel1 (or a SubscriptionId; the
                    API reader knows each dataset's workload)
subscription        SubscriptionId
partner id          MPNId, PartnerId, PGAPartnerId, PGAMpnId, PartnerMPNId
month               Month (``2026-10``, ``2026-10-01``, ``10/1/2026`` -> ``2026-10``)
active users        MonthlyActiveUsers, MAU, CPORActiveUsers, PAMAU
Azure revenue       ACR_USD, ACR, AzureConsumedRevenueUSD
seats               PaidAvailableUnits, AvailableSeats, CPORPaidSeats, Seats
==================  ===================================================================

Workloads are normalised: a row with a SubscriptionId is ``azure:<subscription id>``;
Office/Microsoft 365 workloads are ``m365``; Dynamics and Power Platform ``business_apps``;
EMS/Intune/Defender/Entra ``security``; anything else its lower-cased name. Rows of one customer,
workload, type and partner id are merged: the newest month wins; within it active users and
seats take the largest value and Azure revenue is summed over distinct rows. A ``CSP T1``/``T2``
type is ``CSP``; other types are kept as spelled, upper-cased.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import structlog

from connectors.base import APP_USER
from connectors.endpoints import CloudEndpoints
from connectors.errors import MalformedResponse, PermanentError, TransientError
from connectors.http.connector import LiveConnector
from connectors.http.fields import integer, number, text
from connectors.http.redact import escape
from connectors.http.request import ApiRequest
from connectors.http.requester import Requester
from connectors.records.customers import Attribution, Record, Source
from connectors.sources import source_row
from connectors.timing import Sleep

log = structlog.get_logger()

# ---------------------------------------------------------------------------------------------
# CSV parsing


def _norm(name: str) -> str:
    return re.sub(r"[\s_\-]", "", name.strip().lstrip("\ufeff")).lower()


COLUMNS: dict[str, tuple[str, ...]] = {
    "tenant": ("customertenantid", "tenantid"),
    "type": (
        "partnerattributiontype",
        "partnerassociationtype",
        "attributiontype",
        "associationtype",
        "partnerattachtype",
    ),
    "workload": ("workloadname", "workload", "product", "servicelevel1"),
    "subscription": ("subscriptionid",),
    "partner": ("mpnid", "partnerid", "pgapartnerid", "pgampnid", "partnermpnid"),
    "month": ("month",),
    "mau": ("monthlyactiveusers", "mau", "cporactiveusers", "pamau"),
    "acr": ("acrusd", "acr", "azureconsumedrevenueusd"),
    "seats": ("paidavailableunits", "availableseats", "cporpaidseats", "seats"),
}
"""Field -> accepted (normalised) column names, first match wins."""

_M365 = (
    "office",
    "m365",
    "microsoft 365",
    "o365",
    "exchange",
    "sharepoint",
    "onedrive",
    "teams",
    "skype",
    "yammer",
    "outlook",
    "word",
    "excel",
    "powerpoint",
    "onenote",
)
_BUSINESS = (
    "dynamics",
    "d365",
    "power platform",
    "powerplatform",
    "power apps",
    "powerapps",
    "power automate",
    "power bi",
    "powerbi",
    "business_apps",
    "business apps",
)
_SECURITY = ("security", "ems", "intune", "defender", "entra", "azure ad premium", "purview")


def normalise_workload(workload: str | None, subscription_id: str | None) -> str | None:
    """The workload key of a report row (see the module docstring)."""
    if subscription_id:
        return f"azure:{subscription_id.lower()}"
    if not workload:
        return None
    name = workload.strip().lower()
    if name.startswith("azure:"):
        return name
    if any(word in name for word in _BUSINESS):
        return "business_apps"
    if any(word in name for word in _SECURITY):
        return "security"
    if any(word in name for word in _M365):
        return "m365"
    return name


def normalise_types(cell: str) -> list[str]:
    """``"CSP T1, DPOR, PAL"`` -> ``["CSP", "DPOR", "PAL"]``."""
    found: list[str] = []
    for part in re.split(r"[,;|]", cell):
        name = part.strip().upper()
        if not name:
            continue
        if re.fullmatch(r"CSP(\s*(T|TIER)?\s*[12]\s*T?)?", name):
            name = "CSP"
        if name not in found:
            found.append(name)
    return found


def normalise_month(value: str | None) -> str | None:
    if not value:
        return None
    value = value.strip()
    match = re.match(r"^(\d{4})-(\d{1,2})(?:-\d{1,2})?(?:[T ].*)?$", value)
    if match:
        return f"{match.group(1)}-{int(match.group(2)):02d}"
    match = re.match(r"^(\d{1,2})/\d{1,2}/(\d{4})", value)
    if match:
        return f"{match.group(2)}-{int(match.group(1)):02d}"
    return value


def _partner_id(value: str | None) -> str | None:
    if value is None:
        return None
    return value[:-2] if re.fullmatch(r"\d+\.0", value) else value


@dataclass(slots=True)
class _Row:
    tenant: str
    workload: str
    type: str
    partner: str | None
    month: str | None
    subscription: str | None
    mau: int | None
    acr: float | None
    seats: int | None


def _counted(
    raw: list[str], line: int, cell: Callable[[list[str], str], str | None], origin: str
) -> tuple[int | None, int | None, float | None]:
    """Active users, seats and Azure revenue of a row; a non-number there is malformed."""

    def bad(name: str, value: str) -> MalformedResponse:
        return MalformedResponse(
            f"{origin}: line {line}: {name} is not a number: {escape(value, 40)}"
        )

    mau_text, seats_text, acr_text = cell(raw, "mau"), cell(raw, "seats"), cell(raw, "acr")
    mau = integer(mau_text) if mau_text else None
    seats = integer(seats_text) if seats_text else None
    acr = number(acr_text) if acr_text else None
    if mau_text and mau is None:
        raise bad("active users", mau_text)
    if seats_text and seats is None:
        raise bad("seats", seats_text)
    if acr_text and acr is None:
        raise bad("Azure revenue", acr_text)
    return mau, seats, acr


def read_rows(content: bytes | str, *, origin: str, workload: str | None = None) -> list[_Row]:
    """The attribution rows of one report CSV (BOM tolerated); ``workload``, when given, is the
    workload of every row (the dataset's)."""
    return list(iter_rows(content, origin=origin, workload=workload))


def iter_rows(content: bytes | str, *, origin: str, workload: str | None = None) -> Iterator[_Row]:
    """:func:`read_rows` one row at a time: bytes are decoded as they are parsed, so a report
    of any size costs its own bytes and one row, not a decoded copy and a list."""
    if isinstance(content, bytes):
        lines: Iterator[str] = io.TextIOWrapper(
            io.BytesIO(content), encoding="utf-8-sig", newline=""
        )
    else:
        lines = iter(io.StringIO(content.removeprefix("\ufeff"), newline=""))
    try:
        yield from _rows(csv.reader(lines), origin=origin, workload=workload)
    except UnicodeDecodeError:
        raise MalformedResponse(f"{origin}: the report is not UTF-8 text") from None


def _rows(reader: Iterator[list[str]], *, origin: str, workload: str | None) -> Iterator[_Row]:
    header = next(reader, None)
    if header is None:
        raise MalformedResponse(f"{origin}: the report is empty (no header)")
    index = {_norm(name): i for i, name in enumerate(header)}
    where: dict[str, int] = {}
    for field_name, names in COLUMNS.items():
        for name in names:
            if name in index:
                where[field_name] = index[name]
                break
    missing = [f for f in ("tenant", "type") if f not in where]
    if workload is None and "workload" not in where and "subscription" not in where:
        missing.append("workload")
    if missing:
        raise MalformedResponse(f"{origin}: the report lacks a column for {', '.join(missing)}")

    def cell(row: list[str], field_name: str) -> str | None:
        at = where.get(field_name)
        if at is None or at >= len(row):
            return None
        return text(row[at])

    skipped = 0
    for line, raw in enumerate(reader, start=2):
        if not any(c.strip() for c in raw):
            continue
        tenant, types = cell(raw, "tenant"), cell(raw, "type")
        subscription = cell(raw, "subscription")
        if workload is not None and workload != "azure":
            subscription = None  # the dataset's own subscription, not an Azure one
            row_workload: str | None = workload
        else:
            row_workload = normalise_workload(cell(raw, "workload"), subscription)
        if tenant is None or types is None or row_workload is None:
            skipped += 1  # unattributed rows (no tenant or no type) credit nobody
            continue
        mau, seats, acr = _counted(raw, line, cell, origin)
        for kind in normalise_types(types):
            yield _Row(
                tenant=tenant.lower(),
                workload=row_workload,
                type=kind,
                partner=_partner_id(cell(raw, "partner")),
                month=normalise_month(cell(raw, "month")),
                subscription=subscription.lower() if subscription else None,
                mau=mau,
                acr=acr,
                seats=seats,
            )
    if skipped:
        log.info("insights_rows_skipped", origin=escape(origin), rows=skipped)


_Group = tuple[str, str, str, str | None]
"""(customer, workload, attribution type, partner id): one :class:`Attribution`."""


class AttributionMerger:
    """Merges rows into one :class:`Attribution` per group as they come (see the module
    docstring): per group only the latest month and its distinct values are kept, never the
    rows, so reports of any length merge in memory proportional to the attributions. Strings
    repeated over rows (tenants, workloads, types) are shared, and a group seen with one value
    (the usual case) keeps that value alone."""

    def __init__(self) -> None:
        self._groups: dict[_Group, tuple[str | None, _Value | set[_Value]]] = {}

    def add(self, row: _Row) -> None:
        group = (
            sys.intern(row.tenant),
            sys.intern(row.workload),
            sys.intern(row.type),
            sys.intern(row.partner) if row.partner else None,
        )
        value = (row.subscription, row.mau, row.acr, row.seats)
        held = self._groups.get(group)
        if held is None or (row.month or "") > (held[0] or ""):
            self._groups[group] = (row.month and sys.intern(row.month), value)
        elif row.month == held[0]:
            values = held[1]
            if isinstance(values, set):
                values.add(value)
            elif values != value:
                self._groups[group] = (held[0], {values, value})

    def extend(self, rows: Iterable[_Row]) -> AttributionMerger:
        for row in rows:
            self.add(row)
        return self

    def __iter__(self) -> Iterator[Attribution]:
        """The merged records in (customer, workload, type, partner) order, each group let go
        as it is made: the records never all exist at once besides the groups."""
        order = sorted(self._groups, key=lambda g: (g[0], g[1], g[2], g[3] or ""))
        for group in order:
            month, values = self._groups.pop(group)
            yield _attribution(group, month, values if isinstance(values, set) else {values})

    def records(self) -> list[Attribution]:
        return list(self)


_Value = tuple[str | None, int | None, float | None, int | None]
"""(Azure subscription, active users, Azure revenue, seats) of one row."""


def _attribution(group: _Group, month: str | None, distinct: set[_Value]) -> Attribution:
    tenant, workload, kind, partner = group
    acr_values = [acr for _, _, acr, _ in distinct if acr is not None]
    mau_values = [mau for _, mau, _, _ in distinct if mau is not None]
    seat_values = [seats for _, _, _, seats in distinct if seats is not None]
    return Attribution(
        customer_tenant_id=tenant,
        workload=workload,
        attribution_type=kind,
        partner_id=partner,
        month=month,
        subscription_id=workload.split(":", 1)[1] if workload.startswith("azure:") else None,
        monthly_active_users=max(mau_values) if mau_values else None,
        acr_usd=sum(acr_values) if acr_values else None,
        seats=max(seat_values) if seat_values else None,
    )


def merge_rows(rows: Iterable[_Row]) -> list[Attribution]:
    """One :class:`Attribution` per (customer, workload, type, partner id); see the docstring."""
    return AttributionMerger().extend(rows).records()


def parse_attribution_csv(
    content: bytes | str, *, origin: str = "insights report"
) -> list[Attribution]:
    """A whole report CSV -> merged :class:`Attribution` records."""
    return merge_rows(read_rows(content, origin=origin))


# ---------------------------------------------------------------------------------------------
# Folder reader


class InsightsFolder:
    """Attribution from report CSV files dropped in ``folder`` (``*.csv``, all merged).

    No file at all is an error ("cannot verify"), not an empty attribution: a folder someone
    forgot to fill must not read as "every attribution disappeared".
    """

    source = Source.INSIGHTS

    def __init__(self, folder: Path) -> None:
        row = source_row(self.source)
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


# ---------------------------------------------------------------------------------------------
# Insights API


@dataclass(frozen=True, slots=True)
class InsightsQuery:
    """A named query of one dataset; its columns are the documented ones of that dataset.

    ``workload`` is the workload every row of the dataset belongs to (``None``: read it from
    the row, e.g. AzureUsage's SubscriptionId); a Dynamics subscription id is not an Azure one.
    """

    name: str
    sql: str
    workload: str | None = None


DEFAULT_QUERIES: tuple[InsightsQuery, ...] = (
    InsightsQuery(
        "partnerlink-office",
        "SELECT CustomerTenantId, WorkloadName, Month, MonthlyActiveUsers, PaidAvailableUnits, "
        "MPNId, PartnerAttributionType FROM OfficeUsage TIMESPAN LAST_MONTH",
        workload="m365",
    ),
    InsightsQuery(
        "partnerlink-azure",
        "SELECT CustomerTenantId, SubscriptionId, Month, MPNId, PartnerAttributionType, ACR_USD "
        "FROM AzureUsage TIMESPAN LAST_MONTH",
    ),
    InsightsQuery(
        "partnerlink-dynamics",
        "SELECT CustomerTenantId, Month, MPNId, PartnerAttributionType, AvailableSeats "
        "FROM DynamicsUsage TIMESPAN LAST_MONTH",
        workload="business_apps",
    ),
    InsightsQuery(
        "partnerlink-ems",
        "SELECT CustomerTenantId, WorkloadName, Month, MonthlyActiveUsers, MPNId, "
        "PartnerAttributionType FROM EMSUsage TIMESPAN LAST_MONTH",
        workload="security",
    ),
)

_DONE = "completed"
_FAILED = frozenset({"failed", "cancelled", "canceled", "error"})


def first_value(body: Mapping[str, Any], what: str) -> Mapping[str, Any]:
    """The first item of an insights envelope ``{value: [...], statusCode, message}``."""
    value = body.get("value")
    if not isinstance(value, list) or not value or not isinstance(value[0], Mapping):
        message = text(body.get("message"))
        raise MalformedResponse(
            f"{what}: the answer holds no item" + (f" ({escape(message)})" if message else "")
        )
    return value[0]


class InsightsApi(LiveConnector):
    """Attribution through the insights API: per dataset query, a one-shot report, its CSV.

    Query ids are created once per connector and reused. ``poll_interval``/``poll_timeout``
    bound the wait for a report execution; running out is a :class:`TransientError`.
    """

    source = Source.INSIGHTS

    def __init__(
        self,
        requester: Requester,
        endpoints: CloudEndpoints,
        *,
        partner_tenant_id: str,
        queries: tuple[InsightsQuery, ...] = DEFAULT_QUERIES,
        user_identity: str = APP_USER,
        poll_interval: float = 30.0,
        poll_timeout: float = 1800.0,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(requester, endpoints)
        self.partner_tenant_id = partner_tenant_id.lower()
        self.queries = queries
        self.user_identity = user_identity
        self.poll_interval = poll_interval
        self.poll_timeout = poll_timeout
        self._sleep = sleep
        self._clock = clock
        self._query_ids: dict[str, str] = {}

    def request(
        self,
        method: str,
        path: str,
        what: str,
        *,
        body: Any = None,
        params: Mapping[str, str] | None = None,
    ) -> ApiRequest:
        return ApiRequest(
            method=method,
            url=f"{self.endpoints.insights}{path}",
            params=params,
            json=body,
            scope=f"insights:{self.partner_tenant_id}",
            what=what,
            tenant_id=self.partner_tenant_id,
            resource=self.endpoints.partner_center_resource,
            identity=self.user_identity,
        )

    async def query_id(self, query: InsightsQuery, what: str) -> str:
        known = self._query_ids.get(query.name)
        if known is not None:
            return known
        body = await self.requester.get_json(
            self.request(
                "POST",
                "/ScheduledQueries",
                what,
                body={
                    "Name": query.name,
                    "Description": "partnerlink attribution",
                    "Query": query.sql,
                },
            )
        )
        created = text(first_value(body, what).get("queryId"))
        if created is None:
            raise MalformedResponse(f"{what}: the created query has no queryId")
        self._query_ids[query.name] = created
        return created

    async def run_report(self, query: InsightsQuery, what: str) -> str:
        """Schedule a one-shot execution of ``query``; its report id."""
        query_id = await self.query_id(query, what)
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        body = await self.requester.get_json(
            self.request(
                "POST",
                "/ScheduledReport",
                what,
                body={
                    "ReportName": f"{query.name}-{uuid.uuid4().hex[:8]}",
                    "Description": "partnerlink attribution (one-shot)",
                    "QueryId": query_id,
                    "StartTime": now,
                    "ExecuteNow": True,
                    "RecurrenceInterval": 24,
                    "RecurrenceCount": 1,
                    "Format": "csv",
                },
            )
        )
        report_id = text(first_value(body, what).get("reportId"))
        if report_id is None:
            raise MalformedResponse(f"{what}: the created report has no reportId")
        return report_id

    async def secure_link(self, report_id: str, what: str) -> str:
        """Wait for the report's latest execution to complete; its download link."""
        deadline = self._clock() + self.poll_timeout
        while True:
            body = await self.requester.get_json(
                self.request(
                    "GET",
                    f"/ScheduledReport/execution/{quote(report_id, safe='')}",
                    what,
                    params={"getLatestExecution": "true"},
                )
            )
            execution = first_value(body, what)
            status = (text(execution.get("executionStatus")) or "").lower()
            if status == _DONE:
                link = text(execution.get("reportAccessSecureLink"))
                if link is None:
                    raise MalformedResponse(f"{what}: a completed report has no download link")
                return link
            if status in _FAILED:
                raise PermanentError(f"{what}: the report execution {escape(status)}")
            if self._clock() + self.poll_interval > deadline:
                raise TransientError(
                    f"{what}: the report was not ready in time "
                    f"(status {escape(status or 'unknown')})"
                )
            await self._sleep(self.poll_interval)

    async def download(self, link: str, what: str) -> bytes:
        response = await self.requester.send(
            ApiRequest(
                method="GET",
                url=link,
                scope=f"insights-download:{self.partner_tenant_id}",
                what=f"{what} (download)",
                headers={"Accept": "*/*"},
                pre_authenticated=True,
            )
        )
        if response.status_code != 200:
            raise MalformedResponse(f"{what}: unexpected HTTP {response.status_code} on download")
        return response.content

    async def fetch(self, customer_tenant_id: str | None) -> AsyncIterator[Record]:
        what = self.what(None)
        merged = AttributionMerger()
        for query in self.queries:
            report_id = await self.run_report(query, what)
            link = await self.secure_link(report_id, what)
            content = await self.download(link, what)
            merged.extend(
                iter_rows(content, origin=f"{what} ({query.name})", workload=query.workload)
            )
            del content
        for record in merged:
            yield record
