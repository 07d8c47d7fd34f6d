"""App+user (delegated) tokens: the partner administrator's, redeemed from a refresh token that
rotates on every use, and the one device-code sign-in that stores the first refresh token.

The rotated refresh token is persisted before the access token is handed out, so a crash never
leaves a used-up token on disk.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import msal
from msal.exceptions import MsalServiceError

from agent.auth.answers import AcquiredToken, Logger, MsalAnswers
from agent.auth.apps import MsalApps
from agent.auth.refresh_store import RefreshTokenStore
from connectors.base import PARTNER_APP
from connectors.errors import AuthError, MalformedResponse

APP_USER = "app+user"
"""The identity connectors ask for when an endpoint wants an app+user (delegated) token."""

PARTNER_CENTER_RESOURCE = "https://api.partnercenter.microsoft.com"

USER_TOKEN_MARGIN = timedelta(minutes=5)
"""A cached app+user access token with less left than this is renewed (MSAL uses 5 min too)."""


@dataclass
class _UserToken:
    access_token: str
    expires_at: datetime


class DelegatedTokens:
    """The partner administrator's tokens, in the partner tenant, through the partner's app."""

    def __init__(
        self,
        apps: MsalApps,
        answers: MsalAnswers,
        *,
        partner_tenant_id: str,
        store: RefreshTokenStore | None,
        log: Logger,
    ) -> None:
        self.apps = apps
        self.answers = answers
        self.partner_tenant_id = partner_tenant_id
        self.store = store
        self.log = log
        self._tokens: dict[tuple[str, str], _UserToken] = {}
        self._lock = threading.Lock()
        self._stale_warned = False

    def token(self, resource: str, force_refresh: bool, tenant: str | None = None) -> AcquiredToken:
        """The delegated token for ``resource`` in ``tenant`` (default: the partner tenant;
        blocking: MSAL is synchronous).

        A refresh token is bound to the user and the client, not to a tenant or a resource:
        the partner administrator's is redeemed in a customer tenant where GDAP gives them a
        role there ("Refresh tokens in the Microsoft identity platform",
        https://learn.microsoft.com/entra/identity-platform/refresh-tokens)."""
        store = self.store
        tenant = (tenant or self.partner_tenant_id).lower()
        where = "" if tenant == self.partner_tenant_id else f" in tenant {tenant}"
        what = f"app+user token for {resource}{where}"
        if store is None:
            raise AuthError(
                f"{what}: no refresh token file is configured (run `partnerlink auth login`)"
            )
        now = datetime.now(UTC)
        with self._lock:
            cached = self._tokens.get((tenant, resource))
            if cached and not force_refresh and cached.expires_at - now > USER_TOKEN_MARGIN:
                return AcquiredToken(cached.access_token, "cache", None)
            refresh_token = store.load()
            if refresh_token is None:
                raise AuthError(
                    f"{what}: no refresh token is stored (run `partnerlink auth login`)"
                )
            self._warn_if_stale(store)
            result = self._redeem(refresh_token, resource, what, tenant)
            rotated = result.get("refresh_token")
            if isinstance(rotated, str) and rotated:
                self._keep(store, rotated)
                self.log.info("refresh_token_rotated", tenant=tenant)
            acquired = self.answers.token(result, what)
            lifetime = acquired.expires_in or 3599
            self._tokens[(tenant, resource)] = _UserToken(
                acquired.access_token, now + timedelta(seconds=lifetime)
            )
            return acquired

    def _redeem(self, refresh_token: str, resource: str, what: str, tenant: str) -> dict[str, Any]:
        """The partner app's answer to the refresh token; an error unless it holds a token."""
        with self.apps.lock_for((tenant, PARTNER_APP)):
            client = self.apps.client(tenant, PARTNER_APP)
            try:
                result: dict[str, Any] = client.acquire_token_by_refresh_token(
                    refresh_token, [resource.rstrip("/") + "/.default"]
                )
            except (
                httpx.HTTPError,
                OSError,
                ValueError,
                MsalServiceError,
                MalformedResponse,
            ) as exc:
                raise self.answers.unreachable(what, exc) from None
        if "access_token" not in result:
            raise self.answers.error(result, what)
        return result

    def _keep(
        self, store: RefreshTokenStore, refresh_token: str, *, signed_in: bool = False
    ) -> None:
        """Store a new refresh token, and never show it in a log or an error."""
        partner = self.apps.apps[PARTNER_APP]
        store.save(
            refresh_token,
            client_id=partner.client_id,
            tenant_id=self.partner_tenant_id,
            signed_in=signed_in,
        )
        self.answers.secrets.append(refresh_token)

    def _warn_if_stale(self, store: RefreshTokenStore) -> None:
        if self._stale_warned or not store.stale():
            return
        self._stale_warned = True
        age = store.age()
        self.log.warning(
            "refresh_token_ageing",
            age_days=age.days if age else None,
            warn_after_days=store.warn_after.days,
            advice="Entra drops a refresh token after 90 idle days; run `partnerlink auth login`",
        )

    def device_code_login(
        self, on_message: Callable[[str], None], *, resource: str, timeout: float
    ) -> None:
        """Sign the partner administrator in once with the device-code flow and store the
        refresh token (see :meth:`MsalTokenProvider.device_code_login`)."""
        store = self.store
        if store is None:
            raise AuthError("device-code sign-in needs a refresh token file to write")
        public, flow = self._start_device_flow(resource)
        on_message(str(flow.get("message") or flow["user_code"]))
        flow["expires_at"] = min(
            float(flow.get("expires_at", 0)), datetime.now(UTC).timestamp() + timeout
        )
        result = public.acquire_token_by_device_flow(flow)
        if "access_token" not in result:
            raise self.answers.error(result, "device-code sign-in")
        refresh_token = result.get("refresh_token")
        if not isinstance(refresh_token, str) or not refresh_token:
            raise AuthError(
                "device-code sign-in: no refresh token was issued (is offline_access allowed?)"
            )
        self._keep(store, refresh_token, signed_in=True)
        self.log.info("device_code_login_completed", tenant=self.partner_tenant_id)

    def _start_device_flow(
        self, resource: str
    ) -> tuple[msal.PublicClientApplication, dict[str, Any]]:
        """The partner's app as a public client, and the device flow it started."""
        partner = self.apps.apps[PARTNER_APP]
        try:
            public = msal.PublicClientApplication(
                partner.client_id,
                authority=f"{self.apps.authority_host}/{self.partner_tenant_id}",
                http_client=self.apps.http,
                instance_discovery=self.apps.instance_discovery,
            )
            flow: dict[str, Any] = public.initiate_device_flow(
                scopes=[resource.rstrip("/") + "/.default"]
            )
        except (httpx.HTTPError, OSError, MsalServiceError, MalformedResponse) as exc:
            raise self.answers.unreachable("device-code sign-in", exc) from None
        except ValueError as exc:
            raise AuthError(f"device-code sign-in: {self.answers.clean(str(exc))[:200]}") from None
        if "user_code" not in flow:
            raise self.answers.error(flow, "device-code sign-in")
        return public, flow
