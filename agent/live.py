"""Wiring of the real connectors: Microsoft's cloud, or an in-process local emulator.

The token provider (MSAL confidential clients, one per tenant and identity) lives as long as the
agent so its caches work; the async HTTP client of the connectors lives for one sync, inside that
sync's event loop.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Callable
from contextlib import ExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import structlog

from agent.auth import AppCredential, MsalTokenProvider, RefreshTokenStore
from agent.config import AppCredentials, ConfigError, Settings
from connectors.answers import AnswerCaps
from connectors.base import Connector
from connectors.destinations import DownloadGuard
from connectors.endpoints import CloudEndpoints
from connectors.http import NO_OBSERVER, Requester, make_client
from connectors.live import live_connectors
from connectors.scenario import PARTNER_APP, Scenario, load_scenario

if TYPE_CHECKING:
    from agent.metrics import Metrics
    from connectors.emulator import Emulator

log = structlog.get_logger("partnerlink.live")
REFRESH_TOKEN_FILE = "refresh-token.json"  # noqa: S105 - a file name, not a secret


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
        return make_client(self.ca_bundle, timeout, wrap=self.wrap)

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


def _scenario_credential(scenario: Scenario, name: str) -> AppCredential | None:
    app = scenario.app(name)
    if app is None:
        return None
    return AppCredential(client_id=app.client_id, client_secret=app.client_secret)


def build_wiring(settings: Settings, stack: ExitStack) -> LiveWiring:
    """Start what the real connectors need; ``stack`` closes it with the agent."""
    s = settings
    scenario: Scenario | None = None
    if s.sources.mode == "emulator":
        from connectors.emulator import Emulator
        from connectors.emulator.hints import source_hints

        assert s.sources.scenario is not None
        emulator: Emulator = stack.enter_context(Emulator(s.sources.scenario))
        scenario = load_scenario(s.sources.scenario)
        endpoints = CloudEndpoints.single_origin(emulator.base_url)
        ca_bundle: str | None = emulator.ca_path
        log.info("emulator_started", base_url=emulator.base_url)
    else:
        c = s.cloud
        endpoints = CloudEndpoints.public().with_overrides(
            authority_host=c.authority_host,
            partner_center=c.partner_center_url,
            graph=c.graph_url,
            arm=c.arm_url,
            insights=c.insights_url,
        )
        ca_bundle = str(c.ca_bundle) if c.ca_bundle else None

    apps = {
        PARTNER_APP: _credential(
            PARTNER_APP,
            s.credentials,
            _scenario_credential(scenario, PARTNER_APP) if scenario else None,
        )
    }
    for carrier in s.credentials.carriers:
        fallback = _scenario_credential(scenario, carrier.name) if scenario else None
        apps[carrier.name] = _credential(carrier.name, carrier, fallback)
    verify = ssl.create_default_context(cafile=ca_bundle) if ca_bundle else True
    http = httpx.Client(
        verify=verify, timeout=s.sync.request_timeout.total_seconds(), follow_redirects=False
    )
    stack.callback(http.close)
    refresh_file = s.credentials.refresh_token_file
    if refresh_file is None and s.sources.mode == "emulator":
        refresh_file = s.store.data_dir / REFRESH_TOKEN_FILE
    warn_days = s.credentials.refresh_token_warn_days
    store = (
        RefreshTokenStore(Path(refresh_file), warn_after_days=warn_days) if refresh_file else None
    )
    tokens = MsalTokenProvider(
        endpoints.authority_host,
        s.partner.tenant_id,
        apps,
        http_client=http,
        refresh_token_store=store,
        max_body=s.sync.max_body_bytes,
    )
    if s.sources.mode == "emulator" and s.sources.app_user and store is not None:
        # An in-process emulator forgets its refresh tokens when it stops; hand the agent a
        # fresh one as `partnerlink auth login` would, with no person at a device-code prompt.
        store.save(
            emulator.issue_refresh_token(),
            client_id=apps[PARTNER_APP].client_id,
            tenant_id=s.partner.tenant_id,
        )
    return LiveWiring(
        endpoints=endpoints,
        ca_bundle=ca_bundle,
        tokens=tokens,
        identities={name: cred.client_id for name, cred in apps.items()},
        settings=s,
        time_scale=scenario.emulator.time_scale if scenario is not None else 1.0,
        emulator_origin=emulator.base_url if s.sources.mode == "emulator" else None,
        wrap=source_hints(emulator.base_url) if s.sources.mode == "emulator" else None,
    )
