"""The Partner Center Insights API: datasets, scheduled queries, reports and their executions.

A query is ``SELECT <columns> FROM <dataset>`` over the scenario's attribution rows; executing
a report yields a pre-authenticated link to its CSV (served by :mod:`.downloads`).
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from connectors.base import PARTNER_APP
from connectors.records.scope import Source
from standin.emulator.errors import error, unauthorized
from standin.emulator.limits import INSIGHTS_TENANT
from standin.emulator.routing import Call, RouteTable
from standin.emulator.shapes import derived_id, iso
from standin.emulator.shapes import insights as shapes
from standin.emulator.tokens import Principal, admin_upn
from standin.emulator.wire import Answer, Reply, json_reply

if TYPE_CHECKING:
    from standin.emulator.service import Service

ROUTES: RouteTable[Service] = RouteTable("insights")

INSIGHTS_AUDIENCE = "https://api.partnercenter.microsoft.com"
"""Insights takes Partner Center's tokens."""

_QUERY = re.compile(
    r"^\s*SELECT\s+(?P<cols>.+?)\s+FROM\s+(?P<ds>\w+)(?:\s+WHERE\s+.+?)?"
    r"(?:\s+TIMESPAN\s+(?P<span>\w+))?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_INSIGHTS = "/insights/v1/mpn"


def guard(svc: Service, call: Call) -> Principal:
    """Authenticate and throttle an Insights call: a partner user with the Report viewer role."""
    principal = svc.authenticate(call, (INSIGHTS_AUDIENCE,))
    world = call.world
    if principal.tenant_id != world.partner_tenant:
        raise Answer(
            unauthorized(
                call,
                "tenant",
                "An Insights token must be issued by the partner tenant.",
                "Bearer",
            )
        )
    svc.throttle(call, [(INSIGHTS_TENANT, world.partner_tenant, 1)])
    if not principal.user or call.identity != PARTNER_APP:
        raise Answer(error(call, 403, "The caller needs a user token with the Report viewer role."))
    return principal


@ROUTES.route(rf"^{_INSIGHTS}/ScheduledDataset$")
def insights_datasets(svc: Service, call: Call) -> Reply:
    guard(svc, call)
    wanted = call.req.arg("datasetName")
    names = [n for n in shapes.INSIGHTS_DATASETS if not wanted or n.lower() == wanted.lower()]
    return json_reply(
        200,
        shapes.insights_envelope(
            [shapes.insights_dataset(n) for n in names], message="Dataset fetched successfully"
        ),
    )


@ROUTES.route(rf"^{_INSIGHTS}/ScheduledQueries$", "POST", "GET")
def insights_queries(svc: Service, call: Call) -> Reply:
    guard(svc, call)
    world = call.world
    if call.req.method == "GET":
        with world.lock:
            value = list(world.queries.values())
        return json_reply(200, shapes.insights_envelope(value, message="Queries fetched"))
    body = call.req.json()
    text = body.get("Query") if isinstance(body, dict) else None
    match = _QUERY.match(text or "") if isinstance(text, str) else None
    if match is None:
        raise Answer(error(call, 400, "Query is not valid: SELECT <columns> FROM <dataset>"))
    dataset, columns = _selection(call, match)
    assert isinstance(body, dict)
    query = {
        "queryId": str(uuid.uuid4()),
        "name": str(body.get("Name", "")).strip(),
        "description": str(body.get("Description", "")),
        "query": text.strip() if isinstance(text, str) else "",
        "type": "userDefined",
        "user": admin_upn(world.partner_tenant),
        "createdTime": iso(datetime.now(UTC)),
        "_dataset": dataset,
        "_columns": columns,
    }
    with world.lock:
        world.queries[str(query["queryId"])] = query
    return json_reply(
        200, shapes.insights_envelope([_public(query)], message="Query created successfully")
    )


def _selection(call: Call, match: re.Match[str]) -> tuple[str, list[str]]:
    """The dataset and the columns a query selects; 400 for unknown ones."""
    datasets = {n.lower(): n for n in shapes.INSIGHTS_DATASETS}
    dataset = datasets.get(match["ds"].lower())
    if dataset is None:
        raise Answer(error(call, 400, f"Dataset {match['ds']} does not exist."))
    columns = shapes.INSIGHTS_DATASET_COLUMNS[dataset]
    known = {c.lower(): c for c in columns}
    raw_cols = [c.strip() for c in match["cols"].split(",")]
    if raw_cols == ["*"]:
        return dataset, list(columns)
    unknown = [c for c in raw_cols if c.lower() not in known]
    if unknown:
        raise Answer(error(call, 400, f"Columns not selectable: {', '.join(unknown)}"))
    return dataset, [known[c.lower()] for c in raw_cols]


def _public(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if not k.startswith("_")}


def _query_rows(call: Call, query: dict[str, Any]) -> list[dict[str, Any]]:
    rows = shapes.insights_rows(call.world.scenario, query["_dataset"])
    return [{c: row[c] for c in query["_columns"]} for row in rows]


def _find_query(call: Call, query_id: str | None) -> dict[str, Any]:
    with call.world.lock:
        query = call.world.queries.get(query_id or "")
    if query is None:
        raise Answer(error(call, 404 if query_id else 400, f"Query {query_id} not found."))
    return query


@ROUTES.route(rf"^{_INSIGHTS}/ScheduledQueries/testQueryResult$")
def insights_test_query(svc: Service, call: Call) -> Reply:
    guard(svc, call)
    query = _find_query(call, call.req.arg("queryId"))
    fault = svc.fault(call, Source.INSIGHTS, "partner")
    rows = _query_rows(call, query)[:100]
    total = len(rows) + (1 if fault is not None else 0)
    return json_reply(200, shapes.insights_envelope(rows, total=total))


@ROUTES.route(rf"^{_INSIGHTS}/ScheduledReport$", "POST")
def insights_report(svc: Service, call: Call) -> Reply:
    guard(svc, call)
    body = call.req.json()
    if not isinstance(body, dict):
        raise Answer(error(call, 400, "The request body is not a JSON object."))
    query = _find_query(call, str(body.get("QueryId") or ""))
    report = {
        "reportId": str(uuid.uuid4()),
        "reportName": str(body.get("ReportName", "")),
        "description": str(body.get("Description", "")),
        "queryId": query["queryId"],
        "query": query["query"],
        "user": query["user"],
        "createdTime": iso(datetime.now(UTC)),
        "modifiedTime": None,
        "executeNow": bool(body.get("ExecuteNow", False)),
        "startTime": body.get("StartTime") or iso(datetime.now(UTC)),
        "reportStatus": "Active",
        "recurrenceInterval": body.get("RecurrenceInterval", 24),
        "recurrenceCount": body.get("RecurrenceCount", 1),
        "callbackUrl": body.get("CallbackUrl"),
        "CallbackMethod": body.get("CallbackMethod"),
        "format": str(body.get("Format") or "csv").lower(),
    }
    with call.world.lock:
        call.world.reports[report["reportId"]] = report
    return json_reply(
        200, shapes.insights_envelope([report], message="Report created successfully")
    )


@ROUTES.route(rf"^{_INSIGHTS}/ScheduledReport/execution/(?P<rid>[^/]+)$")
def insights_execution(svc: Service, call: Call) -> Reply:
    guard(svc, call)
    with call.world.lock:
        report = call.world.reports.get(call.params["rid"])
    if report is None:
        raise Answer(error(call, 404, f"Report {call.params['rid']} not found."))
    fault = svc.fault(call, Source.INSIGHTS, "partner")
    query = _find_query(call, report["queryId"])
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=query["_columns"], lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(_query_rows(call, query))
    token = svc.downloads.add(out.getvalue().encode("utf-8"), "text/csv", cut=fault is not None)
    now = datetime.now(UTC)
    link = f"{call.req.origin}/_downloads/{token}"
    execution = {
        "executionId": derived_id("execution", report["reportId"]),
        "reportId": report["reportId"],
        "recurrenceInterval": report["recurrenceInterval"],
        "recurrenceCount": report["recurrenceCount"],
        "callbackUrl": report["callbackUrl"],
        "CallbackMethod": report["CallbackMethod"],
        "format": report["format"],
        "executionStatus": "Completed",
        "reportLocation": link,
        "reportAccessSecureLink": link,
        "reportExpiryTime": iso(now + timedelta(seconds=svc.downloads.lifetime)),
        "reportGeneratedTime": iso(now),
    }
    return json_reply(200, shapes.insights_envelope([execution]))
