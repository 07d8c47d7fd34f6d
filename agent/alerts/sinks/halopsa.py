"""HaloPSA through the Halo API: a ticket per finding or per customer, an action (a private
note) on a repeat, the ticket's status set to Closed on resolve (see
:mod:`agent.alerts.sinks.tickets` for the steps and why each is safe to repeat).

From Halo's API documentation (the instance's ``/apidoc``: "Authorisation", "Tickets",
"Actions"; Configuration > Integrations > Halo API shows the two server URLs):

- the authorisation server issues tokens: ``POST <auth>/token`` (``?tenant=<name>`` on hosted
  instances), form-encoded ``grant_type=client_credentials``, ``client_id``,
  ``client_secret``, ``scope``; the answer holds ``access_token`` and ``expires_in``; every
  resource call carries ``Authorization: Bearer <token>``;
- ``GET /api/tickets`` lists tickets (``search``, ``open_only``, ``count``) as
  ``{"tickets": […], "record_count": N}``; ``POST /api/tickets`` takes a list of tickets,
  creating those without an ``id`` and updating those with one (``summary``, ``details``,
  ``client_id``, ``tickettype_id``, ``status_id``), and answers the ticket;
  ``GET /api/tickets/{id}`` answers one;
- ``GET /api/actions?ticket_id=N`` answers ``{"actions": […]}``; ``POST /api/actions`` adds
  actions (``ticket_id``, ``outcome``, ``note``, ``hiddenfromuser``).

Halo shows a ticket's details and an action's note as HTML: every value goes through
``for_html`` and the lines are the agent's own ``<p>`` and ``<br>``. A token is kept until a
minute before it expires; a 401 drops it and asks for a new one, once.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import httpx
from pydantic import Field, SecretStr, ValidationInfo, field_validator

from agent.alerts.errors import DeliveryError
from agent.alerts.settings import check_destination
from agent.alerts.sinks.base import Clock
from agent.alerts.sinks.ticket_config import ByTenant, TicketSinkBase
from agent.alerts.sinks.ticket_http import MalformedAnswer, field, ticket_id
from agent.alerts.sinks.ticket_text import Document, Unit
from agent.alerts.sinks.tickets import TicketSink


class HaloPsaSinkConfig(TicketSinkBase):
    """HaloPSA: tickets and actions through the Halo API, OAuth 2.0 client credentials."""

    CREDENTIALS = ("client_secret",)

    type: Literal["halopsa"]
    auth_url: str | None = Field(
        default=None, description="The authorisation server (default: url + /auth)."
    )
    tenant: str | None = Field(default=None, description="Hosted instances: the tenant name.")
    client_id: str = Field(min_length=1, description="The API application's client id.")
    client_secret: SecretStr
    client_secret_file: Path | None = None
    client_secret_env: str | None = None
    scope: str = "all"
    customer_id: int = Field(gt=0, description="The Halo client (customer) tickets belong to.")
    customer_clients: ByTenant[int] = Field(
        default={}, description="Customer tenant id → Halo client id."
    )
    ticket_type_id: int | None = None
    closed_status_id: int = Field(default=9, description="Halo's Closed status by default.")
    note_outcome: str = Field(default="Private Note", min_length=1)
    hide_notes_from_user: bool = True

    @field_validator("auth_url")
    @classmethod
    def _safe_auth_url(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None:  # the client secret travels to it (guarantee safe-urls)
            check_destination(value, info)
        return value

    @property
    def token_url(self) -> str:
        return f"{(self.auth_url or self.url + '/auth').rstrip('/')}/token"


def halopsa_secrets(config: HaloPsaSinkConfig) -> list[str]:
    """What the log redactor must know: the client secret."""
    return [config.client_secret.get_secret_value()]


class HaloPsaSink(TicketSink):
    kind = "halopsa"

    def __init__(
        self, config: HaloPsaSinkConfig, client: httpx.AsyncClient, *, clock: Clock
    ) -> None:
        super().__init__(config, client, clock=clock, secrets=halopsa_secrets(config))
        self.halo = config
        self.base = f"{config.url}/api"
        self._token: tuple[str, datetime] | None = None
        self._asking = asyncio.Lock()
        self.api = self

    async def _bearer(self) -> str:
        """A valid token: the kept one, or one asked for (once, by whichever send needs it
        first; the others wait for it)."""
        async with self._asking:
            if self._token is None or self._token[1] <= self.clock():
                self._token = await self._new_token()
            return self._token[0]

    async def _new_token(self) -> tuple[str, datetime]:
        now = self.clock()
        form = {
            "grant_type": "client_credentials",
            "client_id": self.halo.client_id,
            "client_secret": self.halo.client_secret.get_secret_value(),
            "scope": self.halo.scope,
        }
        params = {"tenant": self.halo.tenant} if self.halo.tenant else None
        answer = await self.http.call(
            "POST", self.halo.token_url, headers={}, params=params, form=form
        )
        token = str(field(answer, "access_token"))
        lifetime = float(field(answer, "expires_in") or 0)
        self.secrets = (*self.secrets, token)
        self.http.secrets = self.secrets
        return token, now + timedelta(seconds=max(0.0, lifetime - 60))

    async def call(self, method: str, path: str, *, gone: bool = False, **kw: Any) -> Any:
        for attempt in (1, 2):
            headers = {"Authorization": f"Bearer {await self._bearer()}"}
            try:
                return await self.http.call(
                    method, f"{self.base}/{path}", headers=headers, gone_on_404=gone, **kw
                )
            except DeliveryError as exc:
                if exc.status != 401 or attempt == 2:
                    raise
                self._token = None
        raise AssertionError("unreachable")

    async def find_open(self, marker: str) -> str | None:
        params = {"search": marker, "open_only": "true", "count": "50"}
        tickets = field(await self.call("GET", "tickets", params=params), "tickets")
        ids = sorted(
            int(ticket_id(field(t, "id")))
            for t in tickets
            if isinstance(t, dict) and marker in str(t.get("summary") or "")
        )
        return str(ids[0]) if ids else None

    async def create(self, title: str, body: Document, unit: Unit, severity: str) -> str:
        first = unit.members[0].item
        tenant = (first.customer_tenant_id or "").lower() if first else ""
        ticket: dict[str, Any] = {
            "summary": title,
            "details": body.html(),
            "client_id": self.halo.customer_clients.get(tenant, self.halo.customer_id),
        }
        if self.halo.ticket_type_id is not None:
            ticket["tickettype_id"] = self.halo.ticket_type_id
        return ticket_id(field(_one(await self.call("POST", "tickets", body=[ticket])), "id"))

    async def texts(self, ticket: str) -> list[str]:
        found = await self.call("GET", f"tickets/{ticket}", gone=True)
        actions = await self.call("GET", "actions", params={"ticket_id": ticket}, gone=True)
        texts = [str(found.get("details") or "")] if isinstance(found, dict) else []
        listed = field(actions, "actions")
        return texts + [str(a.get("note") or "") for a in listed if isinstance(a, dict)]

    async def add_note(self, ticket: str, body: Document) -> None:
        action = {
            "ticket_id": int(ticket),
            "outcome": self.halo.note_outcome,
            "note": body.html(),
            "hiddenfromuser": self.halo.hide_notes_from_user,
        }
        await self.call("POST", "actions", body=[action], gone=True)

    async def close(self, ticket: str) -> None:
        update = {"id": int(ticket), "status_id": self.halo.closed_status_id}
        await self.call("POST", "tickets", body=[update], gone=True)


def _one(answer: Any) -> Any:
    """The ticket of an answer to a one-ticket POST: the object, or a list holding it."""
    if isinstance(answer, list):
        if len(answer) != 1:
            raise MalformedAnswer("halopsa: expected one ticket in the answer")
        return answer[0]
    return answer
