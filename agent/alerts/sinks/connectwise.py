"""ConnectWise PSA (Manage) through its REST API: a service ticket per finding or per customer,
a note on a repeat, the ticket's status set to a closed one on resolve (see
:mod:`agent.alerts.sinks.tickets` for the steps and why each is safe to repeat).

From ConnectWise's developer documentation (developer.connectwise.com: "PSA API Requests",
"ClientID"; the Manage OpenAPI document):

- base ``https://<site>/<codebase>/apis/3.0`` (``v4_6_release`` on the cloud sites);
- every request carries ``Authorization: Basic base64(<company>+<publicKey>:<privateKey>)`` and
  a ``clientId`` header, a GUID per integration that is to be kept like a password;
- ``GET /service/tickets?conditions=...`` lists tickets, the conditions in ConnectWise's query
  syntax (``externalXRef = "x" and closedFlag = false``); ``POST /service/tickets`` opens one
  (``summary`` at most 100 characters, ``board``, ``company``, ``initialDescription``, which
  becomes the ticket's first note, ``externalXRef``) and answers 201 with it;
  ``GET``/``POST /service/tickets/{id}/notes`` read and add notes (``text``,
  ``internalAnalysisFlag``); ``PATCH /service/tickets/{id}`` takes a JSON Patch list
  (``[{"op": "replace", "path": "status", "value": {"name": ">Closed"}}]``);
- 401 wrong keys, 403 a security role without the right, 404 no such record, 429 with
  ``Retry-After``, 5xx worth retrying.

The marker is sent as ``externalXRef`` (and shown in the summary); a search asks for it
exactly. Descriptions and notes are plain text: ``for_psa_text`` on every value.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Literal

import httpx
from pydantic import Field, SecretStr

from agent.alerts.sinks.base import Clock
from agent.alerts.sinks.ticket_config import ByTenant, TicketSinkBase
from agent.alerts.sinks.ticket_http import field, ticket_id
from agent.alerts.sinks.ticket_text import Document, Unit
from agent.alerts.sinks.tickets import TicketSink

SEVERITY = {"critical": "High", "high": "High", "medium": "Medium", "low": "Low", "info": "Low"}
"""Ours to a ticket's ``severity`` (ConnectWise's Low, Medium, High)."""


class ConnectWiseSinkConfig(TicketSinkBase):
    """ConnectWise PSA: service tickets through the Manage REST API."""

    CREDENTIALS = ("private_key", "client_id")

    type: Literal["connectwise"]
    codebase: str = Field(default="v4_6_release", pattern=r"^[A-Za-z0-9_.]+$")
    company: str = Field(min_length=1, description="The company id you sign in with.")
    public_key: str = Field(min_length=1)
    private_key: SecretStr
    private_key_file: Path | None = None
    private_key_env: str | None = None
    client_id: SecretStr = Field(description="The integration's clientId (a GUID).")
    client_id_file: Path | None = None
    client_id_env: str | None = None
    board: str = Field(min_length=1, description="The service board tickets are opened on.")
    company_identifier: str = Field(
        min_length=1, description="The ConnectWise company the tickets are filed under."
    )
    customer_companies: ByTenant[str] = Field(
        default={},
        description="Customer tenant id → ConnectWise company identifier, where a customer's "
        "tickets belong to its own company record.",
    )
    closed_status: str = Field(default=">Closed", min_length=1)
    internal_notes: bool = Field(default=True, description="Notes as internal analysis.")


def basic_token(config: ConnectWiseSinkConfig) -> str:
    """``base64(<company>+<publicKey>:<privateKey>)``, what ``Authorization: Basic`` carries."""
    login = f"{config.company}+{config.public_key}:{config.private_key.get_secret_value()}"
    return base64.b64encode(login.encode("utf-8")).decode("ascii")


def connectwise_secrets(config: ConnectWiseSinkConfig) -> list[str]:
    """What the log redactor must know: the private key, the clientId, the Basic token."""
    return [
        config.private_key.get_secret_value(),
        config.client_id.get_secret_value(),
        basic_token(config),
    ]


class ConnectWiseSink(TicketSink):
    kind = "connectwise"

    def __init__(
        self, config: ConnectWiseSinkConfig, client: httpx.AsyncClient, *, clock: Clock
    ) -> None:
        super().__init__(config, client, clock=clock, secrets=connectwise_secrets(config))
        self.cw = config
        self.base = f"{config.url}/{config.codebase}/apis/3.0/service/tickets"
        self.headers = {
            "Authorization": f"Basic {basic_token(config)}",
            "clientId": config.client_id.get_secret_value(),
            "Accept": "application/json",
        }
        self.api = self

    async def find_open(self, marker: str) -> str | None:
        found = await self.http.call(
            "GET",
            self.base,
            headers=self.headers,
            params={
                "conditions": f'externalXRef = "{marker}" and closedFlag = false',
                "fields": "id,summary",
                "orderBy": "id asc",
                "pageSize": "10",
            },
        )
        return ticket_id(field(found, 0, "id")) if found else None

    async def create(self, title: str, body: Document, unit: Unit, severity: str) -> str:
        first = unit.members[0].item
        tenant = (first.customer_tenant_id or "").lower() if first else ""
        company = self.cw.customer_companies.get(tenant, self.cw.company_identifier)
        ticket = {
            "summary": title,
            "board": {"name": self.cw.board},
            "company": {"identifier": company},
            "initialDescription": body.plain(),
            "externalXRef": unit.marker,
            "severity": SEVERITY.get(severity, "Low"),
        }
        answer = await self.http.call("POST", self.base, headers=self.headers, body=ticket)
        return ticket_id(field(answer, "id"))

    async def texts(self, ticket: str) -> list[str]:
        notes = await self.http.call(
            "GET",
            f"{self.base}/{ticket}/notes",
            headers=self.headers,
            params={"pageSize": "1000", "fields": "id,text"},
            gone_on_404=True,
        )
        return [str(note.get("text") or "") for note in notes or [] if isinstance(note, dict)]

    async def add_note(self, ticket: str, body: Document) -> None:
        note = {
            "text": body.plain(),
            "internalAnalysisFlag": self.cw.internal_notes,
            "detailDescriptionFlag": not self.cw.internal_notes,
        }
        await self.http.call(
            "POST", f"{self.base}/{ticket}/notes", headers=self.headers, body=note, gone_on_404=True
        )

    async def close(self, ticket: str) -> None:
        patch = [{"op": "replace", "path": "status", "value": {"name": self.cw.closed_status}}]
        await self.http.call(
            "PATCH", f"{self.base}/{ticket}", headers=self.headers, body=patch, gone_on_404=True
        )
