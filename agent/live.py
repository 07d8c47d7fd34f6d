"""Wiring of the real connectors: Microsoft's cloud, or a local Microsoft such as the emulator.

The token provider (MSAL confidential clients, one per tenant and identity) lives as long as the
agent so its caches work; the async HTTP client of the connectors lives for one sync, inside that
sync's event loop.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import ExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from agent.auth import AppCredential, MsalTokenProvider, RefreshTokenStore
from agent.config import AppCredentials, ConfigError, Settings
from agent.health import refresh_token_path
from connectors.base import PARTNER_APP, Connector
from connectors.destinations import DownloadGuard
from connectors.endpoints import CloudEndpoints
from connectors.http.body import AnswerCaps
from connectors.http.client import make_client, make_sign_in_client
from connectors.http.observer import NO_OBSERVER
from connectors.http.requester import Requester
from connectors.live import live_connectors

if TYPE_CHECKING:
    from agent.metrics import Metrics


@dataclass(frozen=True)
class LocalMicrosoft:
    """A Microsoft served on this machine (the emulator, started by the composition root)
    that the real connectors read instead of the cloud."""

    base_url: str
    ca_path: str
    """The CA certificate its TLS answers are signed with."""
    time_scale: float
    """How much faster than Microsoft its throttling windows run."""
    apps: Mapping[str, AppCredential]
    """The app credentials it accepts, by identity: used where the config names none."""
    issue_refresh_token: Callable[[], str]
    """A fresh app+user refresh token, as ``partnerlink auth login`` would obtain."""
    wrap: Callable[[httpx.AsyncBaseTransport], httpx.AsyncBaseTransport] | None = None
    """Wraps the connectors' transport so the source hints the emulator attributes faults by
    reach it (as a header, for its origin only)."""
    refresh_token_rotated: datetime | None = None
    """When the token it hands over was last used, as its world tells (``None``: now)."""
    refresh_token_signed_in: datetime | None = None


@dataclass
class LiveWiring:
    """What every sync of this agent shares: endpoints, TLS trust, tokens, identities."""

    endpoints: CloudEndpoints
    ca_bundle: str | None
    tokens: MsalTokenProvider
    identities: dict[str, str]
    settings: Settings
    time_scale: float = 1.0
    """Divides Microsoft's throttling windows in the client-side budgets: 1 against Microsoft;
    the emulator's own factor against an emulator that runs its limits faster."""
    emulator_origin: str | None = None
    """The in-process emulator's origin (emulator mode only): the one loopback origin download
    links may point to."""
    wrap: Callable[[httpx.AsyncBaseTransport], httpx.AsyncBaseTransport] | None = None
    """Emulator mode only: wraps the connectors' transport so the source hints the emulator
    attributes faults by reach it (as a header, for its origin only)."""

    def caps(self) -> AnswerCaps:
        """How large an answer may be: ``[sync] max_body_bytes`` / ``max_download_bytes``."""
        sync = self.settings.sync
        return AnswerCaps(page=sync.max_body_bytes, download=sync.max_download_bytes)

    def downloads(self) -> DownloadGuard:
        """Where download links may go: public https hosts, and the emulator's own origin."""
        return DownloadGuard(allow_origins=(self.emulator_origin,) if self.emulator_origin else ())

    def client(self, timeout: float) -> httpx.AsyncClient:
        """The connectors' HTTP client (its transport wrapped against the emulator)."""
        engine = self.settings.sync.http_transport
        return make_client(self.ca_bundle, timeout, wrap=self.wrap, engine=engine)

    def requester(self, client: httpx.AsyncClient) -> Requester:
        """A requester of its own (a command outside a sync), with this agent's caps."""
        return Requester(client, self.tokens, caps=self.caps(), downloads=self.downloads())

    @asynccontextmanager
    async def connectors(self, metrics: Metrics | None = None) -> AsyncIterator[list[Connector]]:
        """The live connectors of one sync; with ``metrics``, every request and throttling
        wait of the sync is counted there (``partnerlink run`` serves them on /metrics)."""
        s = self.settings
        async with self.client(s.sync.request_timeout.total_seconds()) as client:
            yield live_connectors(
                self.endpoints,
                self.tokens,
                client,
                partner_tenant_id=s.partner.tenant_id,
                identities=self.identities,
                app_user=s.sources.app_user,
                insights_folder=s.sources.insights_folder,
                audit_lookback_days=s.sync.audit_lookback_days,
                disabled=s.sources.disabled,
                time_scale=self.time_scale,
                max_in_flight=s.sync.max_in_flight,
                observer=metrics.observer() if metrics is not None else NO_OBSERVER,
                caps=self.caps(),
                downloads=self.downloads(),
            )


def _credential(name: str, creds: AppCredentials, fallback: AppCredential | None) -> AppCredential:
    if creds.client_id and (creds.client_secret or creds.certificate_file):
        return AppCredential(
            client_id=creds.client_id,
            client_secret=creds.client_secret,
            certificate_file=creds.certificate_file,
            certificate_password=creds.certificate_password,
        )
    if fallback is not None:
        return fallback
    key = "credentials" if name == PARTNER_APP else f"credentials.carriers ({name})"
    raise ConfigError(f"{key}: needs client_id and a certificate_file or client_secret to sign in")


def build_wiring(
    settings: Settings, stack: ExitStack, local: LocalMicrosoft | None = None
) -> LiveWiring:
    """Start what the real connectors need; ``stack`` closes it with the agent. With ``local``
    every API is read there instead of Microsoft's cloud."""
    s = settings
    endpoints, ca_bundle = _endpoints(s, local)
    apps = _apps(s, local)
    http = make_sign_in_client(
        ca_bundle or None, s.sync.request_timeout.total_seconds(), s.sync.http_transport
    )
    stack.callback(http.close)
    store = _refresh_store(s)
    tokens = MsalTokenProvider(
        endpoints.authority_host,
        s.partner.tenant_id,
        apps,
        http_client=http,
        refresh_token_store=store,
        max_body=s.sync.max_body_bytes,
    )
    if local is not None and s.sources.app_user and store is not None:
        # An in-process emulator forgets its refresh tokens when it stops; hand the agent a
        # fresh one as `partnerlink auth login` would, with no person at a device-code prompt.
        store.save(
            local.issue_refresh_token(),
            client_id=apps[PARTNER_APP].client_id,
            tenant_id=s.partner.tenant_id,
            signed_in=True,
            rotated_at=local.refresh_token_rotated,
            signed_in_at=local.refresh_token_signed_in or local.refresh_token_rotated,
        )
    return LiveWiring(
        endpoints=endpoints,
        ca_bundle=ca_bundle,
        tokens=tokens,
        identities={name: cred.client_id for name, cred in apps.items()},
        settings=s,
        time_scale=local.time_scale if local is not None else 1.0,
        emulator_origin=local.base_url if local is not None else None,
        wrap=local.wrap if local is not None else None,
    )


def _endpoints(s: Settings, local: LocalMicrosoft | None) -> tuple[CloudEndpoints, str | None]:
    """Every API's base URL and the CA bundle to trust: the local Microsoft's, or the cloud's
    with the config's overrides."""
    if local is not None:
        return CloudEndpoints.single_origin(local.base_url), local.ca_path
    c = s.cloud
    endpoints = c.endpoints()
    return endpoints, str(c.ca_bundle) if c.ca_bundle else None


def _apps(s: Settings, local: LocalMicrosoft | None) -> dict[str, AppCredential]:
    """The partner's app and every PAL carrier, by identity; a local Microsoft's own
    credentials stand in where the config names none."""
    offered = local.apps if local is not None else {}
    apps = {PARTNER_APP: _credential(PARTNER_APP, s.credentials, offered.get(PARTNER_APP))}
    for carrier in s.credentials.carriers:
        apps[carrier.name] = _credential(carrier.name, carrier, offered.get(carrier.name))
    return apps


def _refresh_store(s: Settings) -> RefreshTokenStore | None:
    """The app+user refresh token file (:func:`agent.health.refresh_token_path`)."""
    refresh_file = refresh_token_path(s)
    warn_days = s.credentials.refresh_token_warn_days
    return (
        RefreshTokenStore(Path(refresh_file), warn_after_days=warn_days) if refresh_file else None
    )
