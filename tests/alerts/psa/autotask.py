"""A stand-in of the Autotask REST API v1.0's tickets and ticket notes, written from Autotask's
developer help and its published Swagger definitions:

- https://ww1.autotask.net/help/DeveloperHelp/Content/APIs/REST/Entities/TicketsEntity.htm
  (``Tickets/query`` GET/POST, ``Tickets/{id}`` GET, ``Tickets`` PUT/POST/PATCH; children
  include TicketNotes);
- https://ww1.autotask.net/help/DeveloperHelp/Content/APIs/REST/Entities/TicketNotesEntity.htm
  (``description`` is text only: the API cannot create Rich Text; ``title``, ``noteType``,
  ``publish``);
- https://ww1.autotask.net/help/DeveloperHelp/Content/APIs/REST/API_Calls/REST_Basic_Query_Calls.htm
  (filters as JSON ``{"op", "field", "value"}``: ``eq``, ``noteq``, ``contains``,
  ``beginsWith``…; answers ``{"items": […], "pageDetails": {…}}``);
- the Swagger definitions' ``ZoneInformation`` (``GET /V1.0/zoneInformation?user=``, answers
  ``zoneName``, ``url``, ``webUrl``, ``ci``), the ``ApiIntegrationCode``, ``UserName`` and
  ``Secret`` headers on every call, create and update answering ``{"itemId": N}``, a single
  item as ``{"item": {…}}``.

The zone is served under ``/zone2`` of the same server, so a sink that skipped the discovery
and called the discovery host would find nothing there.
"""

from __future__ import annotations

import re
from typing import Any

from tests.alerts.psa.book import Book, Ticket
from tests.alerts.psa.server import Answer, JsonServer, Request

USERNAME = "partnerlink-api@example.com"
SECRET = "at-secret-0123456789abcdef"
INTEGRATION_CODE = "ATINTEGRATIONCODE0123456789"
ZONE = "/zone2/ATServicesRest/V1.0"
COMPLETE = 5
REQUIRED = ("companyID", "title", "status", "priority")


def _errors(status: int, *messages: str) -> Answer:
    return status, {"errors": list(messages)}


class AutotaskStandIn:
    kind = "autotask"
    CREATE = ("POST", f"{ZONE}/Tickets")
    NOTE = ("POST", rf"{ZONE}/Tickets/\d+/Notes")
    closing: tuple[dict[str, Any], Any] = ({"complete_status": COMPLETE}, COMPLETE)

    def __init__(self, *, tls: bool = True) -> None:
        self.server = JsonServer(tls=tls)
        self.book = Book()
        self.zone_asked = 0
        self.server.route("GET", "/ATServicesRest/V1.0/zoneInformation", self.zone)
        self.server.route("POST", f"{ZONE}/Tickets/query", self.query)
        self.server.route("POST", f"{ZONE}/Tickets", self.create)
        self.server.route("PATCH", f"{ZONE}/Tickets", self.patch)
        self.server.route("GET", rf"{ZONE}/Tickets/(\d+)", self.get)
        self.server.route("GET", rf"{ZONE}/Tickets/(\d+)/Notes", self.list_notes)
        self.server.route("POST", rf"{ZONE}/Tickets/(\d+)/Notes", self.add_note)
        self.zone_url = ""

    def __enter__(self) -> AutotaskStandIn:
        self.server.__enter__()
        self.zone_url = f"{self.server.url}/zone2/ATServicesRest/"
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.__exit__(*exc)

    def sink(self, **extra: Any) -> dict[str, Any]:
        return {
            "type": "autotask",
            "name": "autotask",
            "allow_private": True,
            "url": f"{self.server.url}/ATServicesRest",
            "username": USERNAME,
            "secret": SECRET,
            "integration_code": INTEGRATION_CODE,
            "company_id": 174,
            "queue_id": 29682833,
            **extra,
        }

    def _refused(self, request: Request) -> Answer | None:
        h = request.headers
        if (h.get("apiintegrationcode"), h.get("username"), h.get("secret")) != (
            INTEGRATION_CODE,
            USERNAME,
            SECRET,
        ):
            return _errors(401, "Unauthorized")
        return None

    def _json(self, ticket: Ticket) -> dict[str, Any]:
        return {
            "id": ticket.id,
            "title": ticket.title,
            "description": ticket.description,
            "companyID": ticket.company,
            "status": ticket.status,
            **ticket.fields,
        }

    def zone(self, request: Request, match: re.Match[str]) -> Answer:
        self.zone_asked += 1
        if request.query.get("user") != USERNAME:
            return _errors(404, "no such user")
        return 200, {"zoneName": "Stand-in zone 2", "url": self.zone_url, "webUrl": "", "ci": 2}

    def query(self, request: Request, match: re.Match[str]) -> Answer:
        refused = self._refused(request)
        if refused:
            return refused
        body = request.json() or {}
        found = [self._json(t) for t in self.book.tickets.values()]
        for condition in body.get("filter") or []:
            test = _OPS.get(condition.get("op"))
            if test is None or condition.get("field") not in ("id", "title", "status"):
                return _errors(400, f"cannot filter on {condition!r}")
            found = [t for t in found if test(t.get(condition["field"]), condition.get("value"))]
        keep = body.get("IncludeFields") or None
        items = [{k: v for k, v in t.items() if keep is None or k in keep} for t in found]
        items = items[: int(body.get("MaxRecords") or 500)]
        page = {"count": len(items), "requestCount": 500, "prevPageUrl": None, "nextPageUrl": None}
        return 200, {"items": items, "pageDetails": page}

    def create(self, request: Request, match: re.Match[str]) -> Answer:
        refused = self._refused(request)
        if refused:
            return refused
        body = request.json() or {}
        missing = [k for k in REQUIRED if body.get(k) in (None, "")]
        if body.get("queueID") is None and body.get("assignedResourceID") is None:
            missing.append("queueID or assignedResourceID")
        if missing or len(body.get("title") or "") > 255:
            return _errors(400, *(f"{k} is required" for k in missing), "title: 1 to 255")
        rest = {k: v for k, v in body.items() if k not in ("title", "description", "companyID")}
        ticket = self.book.add(body["title"], body.get("description") or "", body["companyID"])
        ticket.fields.update({k: v for k, v in rest.items() if k != "status"})
        ticket.status = body["status"]
        return 200, {"itemId": ticket.id}

    def patch(self, request: Request, match: re.Match[str]) -> Answer:
        refused = self._refused(request)
        body = request.json() or {}
        ticket = self.book.tickets.get(int(body.get("id") or 0))
        if refused or ticket is None:
            return refused or _errors(404, "no such ticket")
        if "status" in body:
            ticket.status = body["status"]
            ticket.open = body["status"] != COMPLETE
        return 200, {"itemId": ticket.id}

    def get(self, request: Request, match: re.Match[str]) -> Answer:
        refused = self._refused(request)
        ticket = self.book.tickets.get(int(match.group(1)))
        if refused or ticket is None:
            return refused or _errors(404, "no such ticket")
        return 200, {"item": self._json(ticket)}

    def list_notes(self, request: Request, match: re.Match[str]) -> Answer:
        refused = self._refused(request)
        ticket = self.book.tickets.get(int(match.group(1)))
        if refused or ticket is None:
            return refused or _errors(404, "no such ticket")
        items = [
            {"id": i, "ticketID": ticket.id, "description": n}
            for i, n in enumerate(ticket.notes, 1)
        ]
        return 200, {"items": items, "pageDetails": {"count": len(items), "requestCount": 500}}

    def add_note(self, request: Request, match: re.Match[str]) -> Answer:
        refused = self._refused(request)
        ticket = self.book.tickets.get(int(match.group(1)))
        if refused or ticket is None:
            return refused or _errors(404, "no such ticket")
        body = request.json() or {}
        missing = [k for k in ("description", "noteType", "publish") if body.get(k) in (None, "")]
        if missing:
            return _errors(400, *(f"{k} is required" for k in missing))
        ticket.notes.append(body["description"])
        return 200, {"itemId": len(ticket.notes)}


_OPS = {
    "eq": lambda have, value: have == value,
    "noteq": lambda have, value: have != value,
    "contains": lambda have, value: str(value).lower() in str(have or "").lower(),
    "beginsWith": lambda have, value: str(have or "").lower().startswith(str(value).lower()),
}
