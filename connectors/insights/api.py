"""Attribution through the programmatic insights API (app+user token): create a query per
dataset, schedule a one-shot report, poll its execution, download the CSV from the
pre-authenticated ``reportAccessSecureLink`` (without the Authorization header, only from a
public https host, under the download cap).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from connectors.base import APP_USER, Connector
from connectors.context import LiveContext
from connectors.endpoints import CloudEndpoints
from connectors.errors import MalformedResponse, PermanentError, TransientError
from connectors.http.connector import LiveConnector
from connectors.http.fields import text
from connectors.http.redact import escape
from connectors.http.request import ApiRequest
from connectors.http.requester import Requester
from connectors.insights.folder import InsightsFolder
from connectors.insights.merge import AttributionMerger
from connectors.insights.queries import DEFAULT_QUERIES, InsightsQuery
from connectors.insights.rows import iter_rows
from connectors.insights.source import INSIGHTS_ROW
from connectors.records.record import Record
from connectors.timing import Sleep

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

    row = INSIGHTS_ROW

    @classmethod
    def connect(cls, context: LiveContext) -> Iterable[Connector]:
        """The report CSVs of ``insights_folder`` where one is given, else the insights API,
        which needs an app+user token (none without one)."""
        if context.insights_folder is not None:
            return [InsightsFolder(context.insights_folder)]
        if not context.app_user:
            return []
        return [
            cls(
                context.requester,
                context.endpoints,
                partner_tenant_id=context.partner_tenant_id,
                queries=context.insights_queries,
                user_identity=context.user_identity,
                sleep=context.sleep,
            )
        ]

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
        response = await self.requester.answer(
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
