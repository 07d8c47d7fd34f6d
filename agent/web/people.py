"""The parts of the endpoint that deal with people, put together from ``[http]``: the gate (who
is asking), the findings pages, and, with ``[http.sign_in]``, Entra ID sign-in, sessions and
roles. The composition of :func:`agent.web.server.status_server` for them."""

from __future__ import annotations

import secrets
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import httpx

from agent.audit.rules import RULES_BY_ID
from agent.store.repository import Store
from agent.web.auth import ReportAccess
from agent.web.config import HttpSection
from agent.web.entra import EntraSignIn
from agent.web.finding_routes import FindingRoutes
from agent.web.gate import Gate
from agent.web.roles import Roles
from agent.web.session import Sessions, Signer
from agent.web.signin_routes import CALLBACK, SignInRoutes

SIGN_IN_TIMEOUT = 30.0
"""Seconds a call to the sign-in authority may take."""


@dataclass(frozen=True, slots=True)
class Authority:
    """Where people sign in: ``[cloud] authority_host``, the tenant (``[http.sign_in]
    tenant_id``, else the partner's) and the CA bundle to trust (``[cloud] ca_bundle``)."""

    host: str
    tenant_id: str
    ca_bundle: Path | None = None


@dataclass(slots=True)
class People:
    gate: Gate
    findings: FindingRoutes
    sign_in: SignInRoutes | None = None
    http: httpx.Client | None = None

    def close(self) -> None:
        if self.http is not None:
            self.http.close()


def people(
    store: Store,
    http: HttpSection,
    authority: Authority | None,
    clock: Callable[[], datetime],
) -> People:
    access = ReportAccess(http.token, anonymous=http.report_anonymous)
    rules = sorted(RULES_BY_ID)
    config = http.sign_in
    if config is None or authority is None or http.public_url is None:
        gate = Gate(access, None, secure=http.secure_cookies, clock=clock)
        routes = FindingRoutes(gate, store, origin=None, rules=rules, clock=clock)
        return People(gate, routes)
    key = config.session_key.get_secret_value() if config.session_key else None
    signer = Signer(key.encode("utf-8") if key else secrets.token_bytes(32))
    roles = Roles.of(config.operators, config.viewers)
    sessions = Sessions(signer, config.session_lifetime, roles.digest())
    gate = Gate(access, sessions, secure=http.secure_cookies, clock=clock)
    verify: ssl.SSLContext | bool = True
    if authority.ca_bundle is not None:
        verify = ssl.create_default_context(cafile=str(authority.ca_bundle))
    client = httpx.Client(verify=verify, timeout=SIGN_IN_TIMEOUT, follow_redirects=False)
    tenant = config.tenant_id or authority.tenant_id
    assert config.client_secret is not None  # the section refuses to load without it
    entra = EntraSignIn(
        client_id=config.client_id,
        client_secret=config.client_secret.get_secret_value(),
        authority=f"{authority.host.rstrip('/')}/{tenant}",
        tenant_id=tenant,
        redirect_uri=http.public_url + CALLBACK,
        http=client,
    )
    origin = http.public_url
    sign_in = SignInRoutes(gate, sessions, entra, roles, origin=origin, clock=clock)
    routes = FindingRoutes(gate, store, origin=origin, rules=rules, clock=clock)
    return People(gate, routes, sign_in, client)
