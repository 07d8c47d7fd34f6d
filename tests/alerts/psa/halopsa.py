"""A stand-in of the Halo API's authorisation server, tickets and actions, written from Halo's
API documentation (each instance publishes it at ``/apidoc``; the endpoint reference as
rendered at https://kb.dtctoday.com/books/halopsa-api-reference, "Ticket Endpoints" and
"Action Endpoints"):

- ``POST /auth/token`` (``?tenant=`` on hosted instances), form-encoded client credentials
  (``grant_type=client_credentials``, ``client_id``, ``client_secret``, ``scope``), answers
  ``access_token``, ``token_type``, ``expires_in``; every API call carries the bearer token,
  401 without a valid one;
- ``GET /api/tickets`` (``search``, ``open_only``, ``count``) answers
  ``{"record_count": N, "tickets": […]}``; ``POST /api/tickets`` takes a list, creating the
  tickets without ``id`` and updating those with one; ``GET /api/tickets/{id}``;
- ``GET /api/actions?ticket_id=`` answers ``{"record_count": N, "actions": […]}``;
  ``POST /api/actions`` takes a list of actions (``ticket_id``, ``outcome``, ``note``,
  ``hiddenfromuser``).

Status 9 is Closed, as in Halo's shipped statuses; ``open_only`` leaves closed tickets out.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from tests.alerts.psa.book import Book, Ticket
from tests.alerts.psa.server import Answer, JsonServer, Request

CLIENT_ID = "halo-app-0000-4000-8000-000000000h01"
CLIENT_SECRET = "halo-client-secret-0123456789abcdef"
TENANT = "contosomsp"
CLOSED = 9


class HaloStandIn:
    kind = "halopsa"
    CREATE = ("POST", "/api/tickets")
    NOTE = ("POST", "/api/actions")
    closing: tuple[dict[str, Any], Any] = ({"closed_status_id": CLOSED}, CLOSED)

    def __init__(self, *, tls: bool = True) -> None:
        self.server = JsonServer(tls=tls)
        self.book = Book()
        self.tokens: set[str] = set()
        self.issued = 0
        self.server.route("POST", "/auth/token", self.token)
        self.server.route("GET", "/api/tickets", self.list_tickets)
        self.server.route("POST", "/api/tickets", self.post_tickets)
        self.server.route("GET", r"/api/tickets/(\d+)", self.get)
        self.server.route("GET", "/api/actions", self.list_actions)
        self.server.route("POST", "/api/actions", self.post_actions)

    def __enter__(self) -> HaloStandIn:
        self.server.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.__exit__(*exc)

    def sink(self, **extra: Any) -> dict[str, Any]:
        return {
            "type": "halopsa",
            "name": "halopsa",
            "allow_private": True,
            "url": self.server.url,
            "tenant": TENANT,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "customer_id": 12,
            **extra,
        }

    def expire_tokens(self) -> None:
        self.tokens.clear()

    def token(self, request: Request, match: re.Match[str]) -> Answer:
        form = request.form()
        if request.query.get("tenant") != TENANT:
            return 400, {"error": "invalid_request", "error_description": "unknown tenant"}
        if form.get("grant_type") != "client_credentials":
            return 400, {"error": "unsupported_grant_type"}
        if (form.get("client_id"), form.get("client_secret")) != (CLIENT_ID, CLIENT_SECRET):
            return 401, {"error": "invalid_client"}
        token = secrets.token_urlsafe(24)
        self.tokens.add(token)
        self.issued += 1
        return 200, {"access_token": token, "token_type": "Bearer", "expires_in": 3600}

    def _refused(self, request: Request) -> Answer | None:
        auth = request.headers.get("authorization", "")
        if not auth.startswith("Bearer ") or auth[7:] not in self.tokens:
            return 401, {"message": "Unauthorized"}
        return None

    def _json(self, ticket: Ticket) -> dict[str, Any]:
        return {
            "id": ticket.id,
            "summary": ticket.title,
            "details": ticket.description,
            "client_id": ticket.company,
            "status_id": ticket.status,
            **ticket.fields,
        }

    def list_tickets(self, request: Request, match: re.Match[str]) -> Answer:
        refused = self._refused(request)
        if refused:
            return refused
        search = request.query.get("search", "").lower()
        found = [
            self._json(t)
            for t in self.book.tickets.values()
            if (t.open or request.query.get("open_only") != "true")
            and search in f"{t.title} {t.description}".lower()
        ]
        found = found[: int(request.query.get("count") or 100)]
        return 200, {"record_count": len(found), "tickets": found}

    def post_tickets(self, request: Request, match: re.Match[str]) -> Answer:
        refused = self._refused(request)
        body = request.json()
        if refused or not isinstance(body, list):
            return refused or (400, {"message": "expected a list of tickets"})
        answers = []
        for entry in body:
            if entry.get("id"):
                ticket = self.book.tickets.get(int(entry["id"]))
                if ticket is None:
                    return 404, {"message": "no such ticket"}
                if "status_id" in entry:
                    ticket.status = entry["status_id"]
                    ticket.open = entry["status_id"] != CLOSED
            else:
                if not entry.get("summary") or not entry.get("client_id"):
                    return 400, {"message": "summary and client_id are required"}
                ticket = self.book.add(
                    entry["summary"], entry.get("details") or "", entry["client_id"]
                )
                ticket.status = 1
                ticket.fields.update({k: entry[k] for k in ("tickettype_id",) if k in entry})
            answers.append(self._json(ticket))
        return 201, answers[0] if len(answers) == 1 else answers

    def get(self, request: Request, match: re.Match[str]) -> Answer:
        refused = self._refused(request)
        ticket = self.book.tickets.get(int(match.group(1)))
        if refused or ticket is None:
            return refused or (404, {"message": "no such ticket"})
        return 200, self._json(ticket)

    def list_actions(self, request: Request, match: re.Match[str]) -> Answer:
        refused = self._refused(request)
        if refused:
            return refused
        ticket = self.book.tickets.get(int(request.query.get("ticket_id") or 0))
        notes = ticket.notes if ticket else []
        actions = [
            {"id": i, "ticket_id": ticket.id if ticket else 0, "note": n}
            for i, n in enumerate(notes, 1)
        ]
        return 200, {"record_count": len(actions), "actions": actions}

    def post_actions(self, request: Request, match: re.Match[str]) -> Answer:
        refused = self._refused(request)
        body = request.json()
        if refused or not isinstance(body, list):
            return refused or (400, {"message": "expected a list of actions"})
        for action in body:
            ticket = self.book.tickets.get(int(action.get("ticket_id") or 0))
            if ticket is None:
                return 404, {"message": "no such ticket"}
            if not action.get("note") or not action.get("outcome"):
                return 400, {"message": "note and outcome are required"}
            ticket.notes.append(action["note"])
        return 201, body[0] if len(body) == 1 else body
