"""Autotask (Datto/Kaseya) through its REST API v1.0: a ticket per finding or per customer, a
note on a repeat, the ticket's status set to Complete on resolve (see
:mod:`agent.alerts.sinks.tickets` for the steps and why each is safe to repeat).

From Autotask's developer help (autotask.net/help/DeveloperHelp: "Tickets", "TicketNotes",
"Making basic query calls to the REST API", "Autotask API zones"; the REST API's Swagger
definitions):

- every request carries the headers ``ApiIntegrationCode``, ``UserName`` and ``Secret``;
- a database lives in one zone: ``GET …/ATServicesRest/V1.0/zoneInformation?user=<user name>``
  answers ``{"url": "https://webservicesN.autotask.net/ATServicesRest/", …}``, the base of
  every later call (asked once per process unless ``zone_url`` is set);
- ``POST /V1.0/Tickets/query`` takes ``{"filter": [{"op": "contains", "field": "title",
  "value": …}, …]}`` and answers ``{"items": […], "pageDetails": {…}}``;
  ``POST /V1.0/Tickets`` opens a ticket (``companyID``, ``title`` up to 255 characters,
  ``description``, ``status``, ``priority``, ``queueID``, ``dueDateTime``) and answers
  ``{"itemId": N}``; ``PATCH /V1.0/Tickets`` changes the fields it is given (``id``,
  ``status``); ``GET /V1.0/Tickets/{id}`` answers ``{"item": {…}}``;
  ``GET``/``POST /V1.0/Tickets/{id}/Notes`` read and add notes (``title``, ``description``,
  ``noteType``, ``publish``);
- the API cannot create Rich Text: descriptions and notes are plain text, so every value goes
  through ``for_psa_text``.

Picklist ids (status, priority, note type, publish) differ between databases; the defaults are
Autotask's shipped ones (status 1 New, 5 Complete; priority 4 Critical, 1 High, 2 Medium,
3 Low) and each is configurable.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

import httpx
from pydantic import Field, SecretStr, field_validator

from agent.alerts.errors import PermanentDeliveryError
from agent.alerts.settings import SeverityName
from agent.alerts.sinks.base import Clock
from agent.alerts.sinks.ticket_config import ByTenant, TicketSinkBase
from agent.alerts.sinks.ticket_http import field, ticket_id
from agent.alerts.sinks.ticket_text import Document, Unit
from agent.alerts.sinks.tickets import TicketSink
from agent.alerts.urls import host_allowed
from agent.durations import parse_duration

AUTOTASK_DISCOVERY_URL = "https://webservices.autotask.net/ATServicesRest"
PRIORITY: dict[SeverityName, int] = {"critical": 4, "high": 1, "medium": 2, "low": 3, "info": 3}


class AutotaskSinkConfig(TicketSinkBase):
    """Autotask: tickets through the REST API v1.0, its zone found from the user name."""

    CREDENTIALS = ("secret", "integration_code")

    type: Literal["autotask"]
    url: str = Field(
        default=AUTOTASK_DISCOVERY_URL,
        description="Where the zone is asked for (…/ATServicesRest), or the zone itself "
        "with zone_url = true.",
    )
    zone_url: bool = Field(default=False, description="url is the zone's: skip discovery.")
    username: str = Field(min_length=1, description="The API user's user name.")
    secret: SecretStr
    secret_file: Path | None = None
    secret_env: str | None = None
    integration_code: SecretStr = Field(description="The API tracking identifier.")
    integration_code_file: Path | None = None
    integration_code_env: str | None = None
    company_id: int = Field(gt=0, description="The Autotask company tickets are filed under.")
    customer_companies: ByTenant[int] = Field(
        default={}, description="Customer tenant id → Autotask company id."
    )
    queue_id: int = Field(gt=0, description="The Service Desk queue tickets go to.")
    new_status: int = 1
    complete_status: int = 5
    priorities: dict[SeverityName, int] = Field(
        default=PRIORITY, description="Our severity → the Autotask priority picklist value."
    )
    note_type: int = Field(default=1, description="The TicketNotes noteType picklist value.")
    note_publish: int = Field(default=1, description="1: all Autotask users; 2: internal.")
    due_in: timedelta = Field(default=timedelta(days=3), description="Due date from opening.")

    _due_in = field_validator("due_in", mode="before")(lambda cls, v: parse_duration(v))


def autotask_secrets(config: AutotaskSinkConfig) -> list[str]:
    """What the log redactor must know: the secret and the integration code."""
    return [config.secret.get_secret_value(), config.integration_code.get_secret_value()]


class AutotaskSink(TicketSink):
    kind = "autotask"

    def __init__(
        self, config: AutotaskSinkConfig, client: httpx.AsyncClient, *, clock: Clock
    ) -> None:
        super().__init__(config, client, clock=clock, secrets=autotask_secrets(config))
        self.at = config
        self.headers = {
            "ApiIntegrationCode": config.integration_code.get_secret_value(),
            "UserName": config.username,
            "Secret": config.secret.get_secret_value(),
            "Accept": "application/json",
        }
        self._zone: str | None = f"{config.url}/V1.0" if config.zone_url else None
        self._asking = asyncio.Lock()
        self.priority_of = {str(k): v for k, v in {**PRIORITY, **config.priorities}.items()}
        self.api = self

    async def zone(self) -> str:
        """The zone's ``…/V1.0`` base: asked once (messages sent at once wait for the one
        answer), then kept for the process."""
        async with self._asking:
            if self._zone is None:
                self._zone = await self._discover()
        return self._zone

    async def _discover(self) -> str:
        answer = await self.http.call(
            "GET",
            f"{self.at.url}/V1.0/zoneInformation",
            headers=self.headers,
            params={"user": self.at.username},
        )
        url = str(field(answer, "url")).rstrip("/")
        host = (httpx.URL(url).host or "").lower()
        if not self.at.allow_private and not (
            url.startswith("https://") and host_allowed(host, ["autotask.net"])
        ):
            raise PermanentDeliveryError("autotask: the zone answered is not an autotask.net URL")
        return f"{url}/V1.0"

    async def call(self, method: str, path: str, *, gone: bool = False, **kw: Any) -> Any:
        base = await self.zone()
        return await self.http.call(
            method, f"{base}/{path}", headers=self.headers, gone_on_404=gone, **kw
        )

    async def find_open(self, marker: str) -> str | None:
        query = {
            "MaxRecords": 10,
            "IncludeFields": ["id", "title", "status"],
            "filter": [
                {"op": "contains", "field": "title", "value": marker},
                {"op": "noteq", "field": "status", "value": self.at.complete_status},
            ],
        }
        items = field(await self.call("POST", "Tickets/query", body=query), "items")
        ids = sorted(int(ticket_id(field(item, "id"))) for item in items)
        return str(ids[0]) if ids else None

    async def create(self, title: str, body: Document, unit: Unit, severity: str) -> str:
        first = unit.members[0].item
        tenant = (first.customer_tenant_id or "").lower() if first else ""
        ticket = {
            "companyID": self.at.customer_companies.get(tenant, self.at.company_id),
            "title": title,
            "description": body.plain()[:8000],
            "status": self.at.new_status,
            "priority": self.priority_of.get(severity, PRIORITY["info"]),
            "queueID": self.at.queue_id,
            "dueDateTime": (self.clock() + self.at.due_in).isoformat(),
        }
        return ticket_id(field(await self.call("POST", "Tickets", body=ticket), "itemId"))

    async def texts(self, ticket: str) -> list[str]:
        item = field(await self.call("GET", f"Tickets/{ticket}", gone=True), "item")
        notes = field(await self.call("GET", f"Tickets/{ticket}/Notes", gone=True), "items")
        found = [str(item.get("description") or "")] if isinstance(item, dict) else []
        return found + [str(n.get("description") or "") for n in notes if isinstance(n, dict)]

    async def add_note(self, ticket: str, body: Document) -> None:
        note = {
            "ticketID": int(ticket),
            "title": "partnerlink",
            "description": body.plain()[:32000],
            "noteType": self.at.note_type,
            "publish": self.at.note_publish,
        }
        await self.call("POST", f"Tickets/{ticket}/Notes", body=note, gone=True)

    async def close(self, ticket: str) -> None:
        patch = {"id": int(ticket), "status": self.at.complete_status}
        await self.call("PATCH", "Tickets", body=patch, gone=True)
