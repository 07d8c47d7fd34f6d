"""A stand-in of the ConnectWise PSA (Manage) REST API's service tickets, written from
ConnectWise's developer documentation:

- https://developer.connectwise.com/Best_Practices/PSA_API_Requests (methods, response
  statuses: 201 Created with the record, 400, 401 wrong keys, 403, 404, 429 with
  Retry-After; the ``conditions`` query syntax: ``field = "text"``, ``field = false``,
  ``contains``, clauses joined by ``and``; ``page``/``pageSize``/``orderBy``/``fields``;
  PATCH as a JSON Patch list);
- https://developer.connectwise.com/ClientID (every request carries a ``clientId`` header);
- the Manage OpenAPI document's Ticket model (``summary`` 1-100 characters, ``board``,
  ``company``, ``status``, ``closedFlag``, ``initialDescription``, ``externalXRef``,
  ``severity``) and ServiceNote model (``text``, ``detailDescriptionFlag``,
  ``internalAnalysisFlag``, ``resolutionFlag``); ``POST /service/tickets/{id}/notes``.

Authentication is Basic ``<company>+<publicKey>:<privateKey>``. The initial description
becomes the ticket's first note (detailDescriptionFlag), as in ConnectWise. Statuses are per
board; those whose names start with ``>`` or are "Closed (resolved)" close the ticket.
"""

from __future__ import annotations

import base64
import re
from typing import Any

from tests.alerts.psa.book import Book, Ticket
from tests.alerts.psa.server import Answer, JsonServer, Request

API = "/v4_6_release/apis/3.0"
COMPANY, PUBLIC_KEY = "acme", "PubKey0123"
PRIVATE_KEY = "cw-private-key-0123456789abcdef"
CLIENT_ID = "c1d2e3f4-0000-4000-8000-00000000cw01"
BOARD = "Professional Services"
STATUSES = ("New", "In Progress", ">Closed", "Closed (resolved)")
_CLAUSE = re.compile(r'^\s*(\w+)\s*(=|contains)\s*(?:"((?:[^"\\]|\\.)*)"|(true|false))\s*$')


def _error(status: int, code: str, message: str) -> Answer:
    return status, {"code": code, "message": message}


class ConnectWiseStandIn:
    kind = "connectwise"
    CREATE = ("POST", f"{API}/service/tickets")
    NOTE = ("POST", rf"{API}/service/tickets/\d+/notes")
    closing: tuple[dict[str, Any], Any] = (
        {"closed_status": "Closed (resolved)"},
        "Closed (resolved)",
    )

    def __init__(self, *, tls: bool = True) -> None:
        self.server = JsonServer(tls=tls)
        self.book = Book()
        self.notes: dict[int, list[dict[str, Any]]] = {}
        base = f"{API}/service/tickets"
        self.server.route("GET", base, self.list_tickets)
        self.server.route("POST", base, self.create)
        self.server.route("GET", rf"{base}/(\d+)", self.get)
        self.server.route("PATCH", rf"{base}/(\d+)", self.patch)
        self.server.route("GET", rf"{base}/(\d+)/notes", self.list_notes)
        self.server.route("POST", rf"{base}/(\d+)/notes", self.add_note)

    def __enter__(self) -> ConnectWiseStandIn:
        self.server.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.__exit__(*exc)

    def sink(self, **extra: Any) -> dict[str, Any]:
        return {
            "type": "connectwise",
            "name": "connectwise",
            "allow_private": True,
            "url": self.server.url,
            "company": COMPANY,
            "public_key": PUBLIC_KEY,
            "private_key": PRIVATE_KEY,
            "client_id": CLIENT_ID,
            "board": BOARD,
            "company_identifier": "Catchall",
            **extra,
        }

    def _refused(self, request: Request) -> Answer | None:
        login = f"{COMPANY}+{PUBLIC_KEY}:{PRIVATE_KEY}".encode()
        if request.headers.get("authorization") != "Basic " + base64.b64encode(login).decode():
            return _error(401, "Unauthorized", "The credentials are not valid.")
        if request.headers.get("clientid") != CLIENT_ID:
            return _error(401, "Unauthorized", "A valid clientId header is required.")
        return None

    def _ticket(self, match: re.Match[str]) -> Ticket | None:
        return self.book.tickets.get(int(match.group(1)))

    def _json(self, ticket: Ticket) -> dict[str, Any]:
        return {
            "id": ticket.id,
            "summary": ticket.title,
            "board": {"name": BOARD},
            "company": {"identifier": ticket.company},
            "status": {"name": ticket.status},
            "closedFlag": not ticket.open,
            "externalXRef": ticket.fields.get("externalXRef"),
            "severity": ticket.fields.get("severity"),
        }

    def list_tickets(self, request: Request, match: re.Match[str]) -> Answer:
        refused = self._refused(request)
        if refused:
            return refused
        wanted: list[tuple[str, str, str | bool]] = []
        for clause in re.split(r"\s+and\s+", request.query.get("conditions", "")):
            if not clause.strip():
                continue
            parsed = _CLAUSE.match(clause)
            if parsed is None or parsed.group(1) not in ("externalXRef", "closedFlag", "summary"):
                return _error(400, "InvalidObject", f"cannot read the condition {clause!r}")
            name, op, text, flag = parsed.groups()
            wanted.append(
                (name, op, text.replace('\\"', '"') if text is not None else flag == "true")
            )
        found = [t for t in self.book.tickets.values() if _matches(self._json(t), wanted)]
        size = int(request.query.get("pageSize", "25"))
        return 200, [self._json(t) for t in sorted(found, key=lambda t: t.id)][:size]

    def create(self, request: Request, match: re.Match[str]) -> Answer:
        refused = self._refused(request)
        if refused:
            return refused
        body = request.json() or {}
        summary = body.get("summary") or ""
        if not 1 <= len(summary) <= 100:
            return _error(400, "InvalidObject", "summary: 1 to 100 characters")
        if (body.get("board") or {}).get("name") != BOARD:
            return _error(400, "InvalidObject", "board: no such board")
        company = (body.get("company") or {}).get("identifier")
        if not company:
            return _error(400, "InvalidObject", "company is required")
        description = body.get("initialDescription") or ""
        ticket = self.book.add(summary, description, company, **_extra(body))
        ticket.status = "New"
        self.notes[ticket.id] = [{"id": 1, "text": description, "detailDescriptionFlag": True}]
        return 201, self._json(ticket)

    def get(self, request: Request, match: re.Match[str]) -> Answer:
        refused = self._refused(request)
        ticket = self._ticket(match)
        if refused or ticket is None:
            return refused or _error(404, "NotFound", "Ticket not found")
        return 200, self._json(ticket)

    def patch(self, request: Request, match: re.Match[str]) -> Answer:
        refused = self._refused(request)
        ticket = self._ticket(match)
        if refused or ticket is None:
            return refused or _error(404, "NotFound", "Ticket not found")
        for op in request.json() or []:
            value = (op.get("value") or {}).get("name")
            if op.get("op") != "replace" or op.get("path") != "status" or value not in STATUSES:
                return _error(400, "InvalidObject", f"cannot apply {op!r}")
            ticket.status = value
            ticket.open = not (value.startswith(">") or value == "Closed (resolved)")
        return 200, self._json(ticket)

    def list_notes(self, request: Request, match: re.Match[str]) -> Answer:
        refused = self._refused(request)
        ticket = self._ticket(match)
        if refused or ticket is None:
            return refused or _error(404, "NotFound", "Ticket not found")
        return 200, list(self.notes[ticket.id])

    def add_note(self, request: Request, match: re.Match[str]) -> Answer:
        refused = self._refused(request)
        ticket = self._ticket(match)
        if refused or ticket is None:
            return refused or _error(404, "NotFound", "Ticket not found")
        body = request.json() or {}
        if not body.get("text"):
            return _error(400, "InvalidObject", "text is required")
        note = {"id": len(self.notes[ticket.id]) + 1, **body}
        self.notes[ticket.id].append(note)
        ticket.notes.append(body["text"])
        return 201, note


def _extra(body: dict[str, Any]) -> dict[str, Any]:
    return {k: body.get(k) for k in ("externalXRef", "severity")}


def _matches(ticket: dict[str, Any], wanted: list[tuple[str, str, str | bool]]) -> bool:
    for name, op, value in wanted:
        have = ticket.get(name)
        if op == "contains" and not (isinstance(value, str) and value in str(have or "")):
            return False
        if op == "=" and have != value:
            return False
    return True
