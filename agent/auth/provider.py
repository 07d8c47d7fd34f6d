"""The token provider on real MSAL: app-only tokens from one confidential client per (tenant,
identity), and the partner administrator's app+user tokens.

MSAL keeps its token cache inside the application object, so each client lives while it is used
(a second request within a token's lifetime is a cache hit). App+user tokens come from a
refresh token that rotates on every use (:mod:`agent.auth.delegated`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

import httpx
import msal
import structlog
from msal.exceptions import MsalServiceError

from agent.auth.answers import AcquiredToken, Logger, MsalAnswers
from agent.auth.apps import DEFAULT_MAX_CLIENTS, MICROSOFT_LOGIN_HOSTS, MsalApps
from agent.auth.credentials import AppCredential
from agent.auth.delegated import APP_USER, PARTNER_CENTER_RESOURCE, DelegatedTokens
from agent.auth.msal_http import MsalHttpClient
from agent.auth.refresh_store import RefreshTokenStore
from connectors.base import PARTNER_APP
from connectors.errors import AuthError, MalformedResponse
from connectors.http.body import DEFAULT_MAX_BODY


class MsalTokenProvider:
    """:class:`connectors.base.TokenProvider` on MSAL confidential clients.

    ``apps`` maps identity names to credentials: ``partner-app`` is the partner's own app,
    other names are PAL carriers. ``identity="app+user"`` asks for the partner administrator's
    delegated token (partner tenant only), redeemed from ``refresh_token_store``.
    """

    def __init__(
        self,
        authority_host: str,
        partner_tenant_id: str,
        apps: Mapping[str, AppCredential],
        *,
        http_client: httpx.Client,
        refresh_token_store: RefreshTokenStore | None = None,
        logger: Logger | None = None,
        max_clients: int = DEFAULT_MAX_CLIENTS,
        max_body: int = DEFAULT_MAX_BODY,
    ) -> None:
        if PARTNER_APP not in apps:
            raise ValueError(f"apps must include {PARTNER_APP!r}, the partner's own app")
        parts = urlsplit(authority_host)
        if parts.scheme != "https" or not parts.hostname:
            raise ValueError(f"the authority host must be an https URL, not {authority_host!r}")
        self.authority_host = authority_host.rstrip("/")
        self.partner_tenant_id = partner_tenant_id.lower()
        self.apps = dict(apps)
        self.http_client = http_client
        self.refresh_token_store = refresh_token_store
        self.log = logger or structlog.get_logger(__name__)
        self.max_clients = max(1, max_clients)
        self._answers = MsalAnswers(
            [s for cred in self.apps.values() for s in cred.known_secrets()], self.log
        )
        self._clients = MsalApps(
            self.authority_host,
            self.apps,
            http=MsalHttpClient(http_client, max_body=max_body),
            instance_discovery=parts.hostname.lower() in MICROSOFT_LOGIN_HOSTS,
            max_clients=self.max_clients,
            answers=self._answers,
        )
        self._delegated = DelegatedTokens(
            self._clients,
            self._answers,
            partner_tenant_id=self.partner_tenant_id,
            store=refresh_token_store,
            log=self.log,
        )
        for name, cred in sorted(self.apps.items()):
            if cred.uses_secret:
                self.log.warning(
                    "client_secret_in_use",
                    identity=name,
                    advice="a certificate credential is preferred (guarantee credentials)",
                )

    # -- app-only -----------------------------------------------------------------------------

    async def token(
        self,
        tenant_id: str,
        resource: str,
        *,
        identity: str | None = None,
        force_refresh: bool = False,
    ) -> str:
        """An access token for ``resource`` in ``tenant_id`` (see TokenProvider)."""
        acquired = await self.acquire(
            tenant_id, resource, identity=identity, force_refresh=force_refresh
        )
        return acquired.access_token

    async def acquire(
        self,
        tenant_id: str,
        resource: str,
        *,
        identity: str | None = None,
        force_refresh: bool = False,
    ) -> AcquiredToken:
        """Like :meth:`token`, with the token's source and lifetime."""
        if identity == APP_USER:
            return await self.user_token(resource, force_refresh=force_refresh, tenant=tenant_id)
        name = identity or PARTNER_APP
        if name not in self.apps:
            raise AuthError(f"no credential is configured for identity {name!r}")
        return await asyncio.to_thread(
            self._acquire_for_client, tenant_id.lower(), name, resource, force_refresh
        )

    def _acquire_for_client(
        self, tenant: str, name: str, resource: str, force_refresh: bool
    ) -> AcquiredToken:
        scope = resource.rstrip("/") + "/.default"
        what = f"token for {resource} in tenant {tenant} as {name}"
        with self._clients.lock_for((tenant, name)):
            client = self._clients.client(tenant, name)
            if force_refresh:
                self._forget(client, scope)
            try:
                result = client.acquire_token_for_client([scope])
            except (
                httpx.HTTPError,
                OSError,
                ValueError,
                MsalServiceError,
                MalformedResponse,
            ) as exc:
                raise self._answers.unreachable(what, exc) from None
        acquired = self._answers.token(result, what)
        self.log.debug(
            "token_acquired",
            tenant=tenant,
            identity=name,
            resource=resource,
            token_source=acquired.token_source,
        )
        return acquired

    def forget(self, tenant_id: str) -> None:
        """Sign in to ``tenant_id`` afresh from now on: its apps, their tokens and the refusals
        MSAL remembers are dropped (the token the app+user flow caches is kept: it is the
        administrator's, and unchanged by what they granted)."""
        dropped = self._clients.forget(tenant_id)
        self.log.debug("token_clients_forgotten", tenant=tenant_id.lower(), dropped=dropped)

    @staticmethod
    def _forget(client: msal.ConfidentialClientApplication, scope: str) -> None:
        """Drop the cached access tokens of one resource, so the next call asks Entra."""
        cache = client.token_cache
        kind = msal.TokenCache.CredentialType.ACCESS_TOKEN
        for item in list(cache.search(kind, target=[scope], query={"client_id": client.client_id})):
            cache.remove_at(item)

    # -- app+user -----------------------------------------------------------------------------

    async def user_token(
        self,
        resource: str = PARTNER_CENTER_RESOURCE,
        *,
        force_refresh: bool = False,
        tenant: str | None = None,
    ) -> AcquiredToken:
        """The partner administrator's delegated token, from the stored refresh token, in the
        partner tenant or (through GDAP) in a customer tenant.

        Every redemption rotates the refresh token; the new one is persisted before the
        access token is handed out, so a crash never leaves a used-up token on disk.
        """
        return await asyncio.to_thread(self._delegated.token, resource, force_refresh, tenant)

    def device_code_login(
        self,
        on_message: Callable[[str], None],
        *,
        resource: str = PARTNER_CENTER_RESOURCE,
        timeout: float = 900.0,
    ) -> None:
        """Sign the partner administrator in once with the device-code flow and store the
        refresh token. Blocking: for the CLI, not the daemon.

        The flow runs as a public client of the partner's app (its registration must allow
        public client flows); the refresh token is later redeemed by the confidential app.
        """
        self._delegated.device_code_login(on_message, resource=resource, timeout=timeout)
