"""Token providers on real MSAL: one confidential client per (tenant, identity), and app+user.

MSAL keeps its token cache inside the application object, so each client lives for the process
(R20: a second request within a token's lifetime is a cache hit). App+user tokens come from a
refresh token that rotates on every use; :class:`RefreshTokenStore` keeps it in a 0600 file.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import msal
import structlog
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from msal.exceptions import MsalServiceError
from pydantic import SecretStr

from agent.files import write_private
from connectors.answers import ACCEPT_ENCODING, DEFAULT_MAX_BODY, bounded_response, read_body_sync
from connectors.base import PARTNER_APP
from connectors.errors import AuthError, MalformedResponse, aadsts_code

APP_USER = "app+user"
"""The identity connectors ask for when an endpoint wants an app+user (delegated) token."""

PARTNER_CENTER_RESOURCE = "https://api.partnercenter.microsoft.com"

MICROSOFT_LOGIN_HOSTS = frozenset(
    {
        "login.microsoftonline.com",
        "login.microsoft.com",
        "login.windows.net",
        "sts.windows.net",
        "login.partner.microsoftonline.cn",
        "login.chinacloudapi.cn",
        "login.microsoftonline.de",
        "login.microsoftonline.us",
        "login.usgovcloudapi.net",
        "login-us.microsoftonline.com",
    }
)
"""Hosts MSAL knows without instance discovery (msal/authority.py WELL_KNOWN_AUTHORITY_HOSTS)."""

USER_TOKEN_MARGIN = timedelta(minutes=5)
"""A cached app+user access token with less left than this is renewed (MSAL uses 5 min too)."""

Logger = Any
"""A structlog bound logger (structlog's own type is not precise enough to be worth naming)."""


def _reveal(secret: SecretStr | str | None) -> str | None:
    if secret is None:
        return None
    return secret.get_secret_value() if isinstance(secret, SecretStr) else secret


# --- credentials -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AppCredential:
    """How one app registration signs in: a client secret, or (preferred) a certificate.

    ``certificate_file`` is a PEM holding the private key and the certificate (or only the
    certificate, with the key in ``private_key_file``), or a PFX/P12 file. ``send_certificate
    _chain`` adds the certificate itself (``x5c``) to each assertion, for Subject Name/Issuer
    authentication.
    """

    client_id: str
    client_secret: SecretStr | str | None = field(default=None, repr=False)
    certificate_file: Path | None = None
    certificate_password: SecretStr | str | None = field(default=None, repr=False)
    private_key_file: Path | None = None
    send_certificate_chain: bool = False

    def __post_init__(self) -> None:
        has_secret = self.client_secret is not None
        has_cert = self.certificate_file is not None
        if has_secret == has_cert:
            raise ValueError("an app credential needs either a client secret or a certificate")

    @property
    def uses_secret(self) -> bool:
        return self.client_secret is not None

    @property
    def is_pfx(self) -> bool:
        path = self.certificate_file
        if path is None:
            return False
        if path.suffix.lower() in (".pfx", ".p12"):
            return True
        return not path.read_bytes().lstrip().startswith(b"-----")

    def _password(self) -> bytes | None:
        text = _reveal(self.certificate_password)
        return text.encode("utf-8") if text else None

    def certificate(self) -> x509.Certificate:
        """The public certificate the app signs in with."""
        assert self.certificate_file is not None
        data = self.certificate_file.read_bytes()
        if self.is_pfx:
            _key, cert, _extra = pkcs12.load_key_and_certificates(data, self._password())
            if cert is None:
                raise ValueError(f"{self.certificate_file}: the PFX file holds no certificate")
            return cert
        return x509.load_pem_x509_certificate(data)

    @property
    def thumbprint(self) -> str | None:
        """SHA-1 thumbprint (upper-case hex) of the certificate, as Entra lists it."""
        if self.certificate_file is None:
            return None
        return self.certificate().fingerprint(hashes.SHA1()).hex().upper()  # noqa: S303

    def msal_credential(self) -> str | dict[str, Any]:
        """The ``client_credential`` argument of ``msal.ConfidentialClientApplication``."""
        secret = _reveal(self.client_secret)
        if secret is not None:
            return secret
        assert self.certificate_file is not None
        password = _reveal(self.certificate_password)
        if self.is_pfx:
            pfx: dict[str, Any] = {"private_key_pfx_path": str(self.certificate_file)}
            if password:
                pfx["passphrase"] = password
            if self.send_certificate_chain:
                pfx["public_certificate"] = True
            return pfx
        key_source = self.private_key_file or self.certificate_file
        key_pem = key_source.read_bytes()
        # Load once here so a wrong password or a missing key fails at start-up, not at 3 am.
        serialization.load_pem_private_key(key_pem, self._password())
        credential: dict[str, Any] = {
            "private_key": key_pem.decode("ascii"),
            "thumbprint": self.thumbprint,
        }
        if password:
            credential["passphrase"] = password
        if self.send_certificate_chain:
            credential["public_certificate"] = (
                self.certificate().public_bytes(serialization.Encoding.PEM).decode("ascii")
            )
        return credential

    def known_secrets(self) -> list[str]:
        """Strings that must never appear in a log line or an error message."""
        return [s for s in (_reveal(self.client_secret), _reveal(self.certificate_password)) if s]


# --- the refresh token file ------------------------------------------------------------------


class RefreshTokenStore:
    """The app+user refresh token on disk: mode 0600, replaced atomically, rotation time kept.

    Entra rotates the refresh token on every use and drops it after 90 idle days
    (AADSTS700082); ``warn_after`` (default 60 days) is when the agent starts to say so.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        warn_after_days: int = 60,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.path = Path(path)
        self.warn_after = timedelta(days=warn_after_days)
        self._clock = clock or (lambda: datetime.now(UTC))
        self._lock = threading.Lock()

    def _read(self) -> dict[str, Any] | None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise AuthError(
                f"the refresh token file {self.path} cannot be read ({type(exc).__name__})"
            ) from None
        return data if isinstance(data, dict) else None

    def load(self) -> str | None:
        """The stored refresh token, if any."""
        with self._lock:
            data = self._read()
        token = data.get("refresh_token") if data else None
        return token if isinstance(token, str) and token else None

    def rotated_at(self) -> datetime | None:
        """When the stored token was last written (it rotates on every use)."""
        with self._lock:
            data = self._read()
        raw = data.get("rotated_at") if data else None
        if not isinstance(raw, str):
            return None
        try:
            return datetime.fromisoformat(raw)
        except ValueError:
            return None

    def age(self) -> timedelta | None:
        """How long ago the token was last rotated; ``None`` without a token."""
        rotated = self.rotated_at()
        return None if rotated is None else self._clock() - rotated

    def stale(self) -> bool:
        """The token is older than ``warn_after``: it will die after 90 idle days."""
        age = self.age()
        return age is not None and age >= self.warn_after

    def save(
        self, refresh_token: str, *, client_id: str | None = None, tenant_id: str | None = None
    ) -> None:
        """Write the token: a new 0600 file beside the old one, fsynced, then renamed over it."""
        record = {
            "refresh_token": refresh_token,
            "rotated_at": self._clock().isoformat(),
            "client_id": client_id,
            "tenant_id": tenant_id,
        }
        payload = json.dumps(record, indent=2).encode("utf-8")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock:
            write_private(self.path, payload)


# --- the provider ----------------------------------------------------------------------------


class MsalHttpClient:
    """An ``httpx.Client`` in the shape MSAL's ``http_client`` expects.

    MSAL passes the signed client assertion as ``bytes`` in the form data; ``requests`` encodes
    bytes values, httpx would send their ``repr`` (``b'eyJ...'``) and Entra would refuse the
    assertion (AADSTS50027). Bytes are decoded here. Every answer is streamed under
    ``max_body`` bytes, on the wire and decoded (:mod:`connectors.answers`); a larger one raises
    :class:`~connectors.errors.MalformedResponse`. The caller owns (and closes) the client.
    """

    def __init__(self, client: httpx.Client, *, max_body: int = DEFAULT_MAX_BODY) -> None:
        self.client = client
        self.max_body = max_body

    def post(
        self, url: str, params: Any = None, data: Any = None, headers: Any = None, **kwargs: Any
    ) -> httpx.Response:
        if isinstance(data, dict):
            data = {k: v.decode("utf-8") if isinstance(v, bytes) else v for k, v in data.items()}
        return self._send("POST", url, params=params, data=data, headers=headers, **kwargs)

    def get(
        self, url: str, params: Any = None, headers: Any = None, **kwargs: Any
    ) -> httpx.Response:
        return self._send("GET", url, params=params, headers=headers, **kwargs)

    def _send(self, method: str, url: str, *, headers: Any, **kwargs: Any) -> httpx.Response:
        wanted = {**dict(headers or {}), "Accept-Encoding": ACCEPT_ENCODING}
        request = self.client.build_request(method, url, headers=wanted, **kwargs)
        response = self.client.send(request, stream=True)
        try:
            body = read_body_sync(response, self.max_body, request.url.host)
        finally:
            response.close()
        return bounded_response(response, body)

    def close(self) -> None:
        """MSAL may close its client; the httpx client belongs to the caller."""


def _cause(exc: Exception) -> str:
    """What an error message may say of a failed sign-in call: the class name, or the agent's
    own words for an answer it refused (over its cap), never text that came from outside."""
    if isinstance(exc, MalformedResponse):
        return exc.message
    return type(exc).__name__


@dataclass(frozen=True, slots=True)
class AcquiredToken:
    """An access token and where it came from (``cache`` or ``identity_provider``)."""

    access_token: str = field(repr=False)
    token_source: str
    expires_in: int | None


@dataclass
class _UserToken:
    access_token: str
    expires_at: datetime


def decoded_claims(token: str) -> dict[str, Any]:
    """The payload of a JWT, **unverified**: for reading what was granted, never for trust."""
    try:
        payload = token.split(".")[1]
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def decoded_roles(token: str) -> tuple[str, ...]:
    """The application roles (``roles`` claim) an access token carries, sorted; unverified."""
    roles = decoded_claims(token).get("roles")
    if not isinstance(roles, list):
        return ()
    return tuple(sorted(str(r) for r in roles))


DEFAULT_MAX_CLIENTS = 128
"""MSAL apps kept at once (tenant x identity). A sync reads a few dozen customers at a time and
is done with a tenant once its customer is read; its tokens outlive the app in the requester's
cache. Each app holds its token cache, the tenant's discovery documents and the HTTP answers
MSAL keeps for throttling: tens of kilobytes."""


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
        self._msal_http = MsalHttpClient(http_client, max_body=max_body)
        self.refresh_token_store = refresh_token_store
        self.log = logger or structlog.get_logger(__name__)
        self._instance_discovery = parts.hostname.lower() in MICROSOFT_LOGIN_HOSTS
        self.max_clients = max(1, max_clients)
        self._clients: OrderedDict[tuple[str, str], msal.ConfidentialClientApplication] = (
            OrderedDict()
        )
        self._locks: dict[tuple[str, str], threading.Lock] = {}
        self._registry_lock = threading.Lock()
        self._user_tokens: dict[str, _UserToken] = {}
        self._user_lock = threading.Lock()
        self._stale_warned = False
        self._secrets = [s for cred in self.apps.values() for s in cred.known_secrets()]
        for name, cred in sorted(self.apps.items()):
            if cred.uses_secret:
                self.log.warning(
                    "client_secret_in_use",
                    identity=name,
                    advice="a certificate credential is preferred (R20)",
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
            if tenant_id.lower() != self.partner_tenant_id:
                raise AuthError("app+user tokens exist only for the partner tenant")
            return await self.user_token(resource, force_refresh=force_refresh)
        name = identity or PARTNER_APP
        if name not in self.apps:
            raise AuthError(f"no credential is configured for identity {name!r}")
        return await asyncio.to_thread(
            self._acquire_for_client, tenant_id.lower(), name, resource, force_refresh
        )

    def _lock_for(self, key: tuple[str, str]) -> threading.Lock:
        with self._registry_lock:
            lock = self._locks.get(key)
            if lock is None:
                lock = self._locks[key] = threading.Lock()
            return lock

    def _client(self, tenant: str, name: str) -> msal.ConfidentialClientApplication:
        """The app of (tenant, identity), created once (its construction discovers the
        tenant over the network, so it runs in the worker thread under the app's lock).

        At most ``max_clients`` apps are kept, the least recently used going first: each holds
        its own token cache (~15 KB), and an estate of 20,000 tenants would otherwise keep
        hundreds of megabytes for tenants it will not read again before the tokens expire."""
        key = (tenant, name)
        with self._registry_lock:
            client = self._clients.get(key)
            if client is not None:
                self._clients.move_to_end(key)
                return client
        cred = self.apps[name]
        try:
            client = msal.ConfidentialClientApplication(
                cred.client_id,
                client_credential=cred.msal_credential(),
                authority=f"{self.authority_host}/{tenant}",
                http_client=self._msal_http,
                instance_discovery=self._instance_discovery,
            )
        except ValueError as exc:
            raise AuthError(
                f"the sign-in authority of tenant {tenant} cannot be used "
                f"({self._clean(str(exc).splitlines()[0] if str(exc) else 'invalid')})",
                aadsts=aadsts_code(str(exc)),
            ) from None
        except (httpx.HTTPError, OSError, MalformedResponse) as exc:
            raise AuthError(
                f"the sign-in authority of tenant {tenant} is unreachable ({_cause(exc)})"
            ) from None
        with self._registry_lock:
            self._clients[key] = client
            while len(self._clients) > self.max_clients:
                evicted, _app = self._clients.popitem(last=False)
                lock = self._locks.get(evicted)
                if lock is not None and not lock.locked():
                    del self._locks[evicted]
        return client

    def _acquire_for_client(
        self, tenant: str, name: str, resource: str, force_refresh: bool
    ) -> AcquiredToken:
        scope = resource.rstrip("/") + "/.default"
        what = f"token for {resource} in tenant {tenant} as {name}"
        with self._lock_for((tenant, name)):
            client = self._client(tenant, name)
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
                raise self._unreachable(what, exc) from None
        acquired = self._result(result, what)
        self.log.debug(
            "token_acquired",
            tenant=tenant,
            identity=name,
            resource=resource,
            token_source=acquired.token_source,
        )
        return acquired

    @staticmethod
    def _forget(client: msal.ConfidentialClientApplication, scope: str) -> None:
        """Drop the cached access tokens of one resource, so the next call asks Entra."""
        cache = client.token_cache
        kind = msal.TokenCache.CredentialType.ACCESS_TOKEN
        for item in list(cache.search(kind, target=[scope], query={"client_id": client.client_id})):
            cache.remove_at(item)

    def _result(self, result: Mapping[str, Any] | None, what: str) -> AcquiredToken:
        if result and "access_token" in result:
            expires = result.get("expires_in")
            return AcquiredToken(
                access_token=str(result["access_token"]),
                token_source=str(result.get("token_source", "identity_provider")),
                expires_in=int(expires)
                if isinstance(expires, int | str) and str(expires).isdigit()
                else None,
            )
        raise self._error(result or {}, what)

    def _error(self, result: Mapping[str, Any], what: str) -> AuthError:
        """An MSAL error dict as an :class:`AuthError`: code and correlation id, no secrets."""
        codes = result.get("error_codes")
        aadsts = None
        if isinstance(codes, list) and codes:
            aadsts = f"AADSTS{codes[0]}"
        description = str(result.get("error_description") or "")
        aadsts = aadsts or aadsts_code(description)
        summary = description.splitlines()[0] if description else ""
        if aadsts and summary.startswith(aadsts):
            summary = summary[len(aadsts) :].lstrip(": ")
        summary = self._clean(summary)[:200]
        error = str(result.get("error") or "error")
        message = f"{what} refused: {error}" + (f" ({summary})" if summary else "")
        correlation = result.get("correlation_id")
        self.log.warning(
            "token_refused", what=what, error=error, aadsts=aadsts, correlation_id=correlation
        )
        return AuthError(
            message, aadsts=aadsts, correlation_id=str(correlation) if correlation else None
        )

    def _unreachable(self, what: str, exc: Exception) -> AuthError:
        """No answer, or no usable one, from the identity platform: no token can be had
        (the TokenProvider contract), with the cause's class name and nothing of its text."""
        self.log.warning("token_unavailable", what=what, error=type(exc).__name__)
        return AuthError(f"{what}: the identity platform gave no usable answer ({_cause(exc)})")

    def _clean(self, text: str) -> str:
        """Remove any configured secret from text bound for a log or an error; escape CR/LF."""
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text.replace("\r", "\\r").replace("\n", "\\n")

    # -- app+user -----------------------------------------------------------------------------

    async def user_token(
        self, resource: str = PARTNER_CENTER_RESOURCE, *, force_refresh: bool = False
    ) -> AcquiredToken:
        """The partner administrator's delegated token, from the stored refresh token.

        Every redemption rotates the refresh token; the new one is persisted before the
        access token is handed out, so a crash never leaves a used-up token on disk.
        """
        return await asyncio.to_thread(self._user_token, resource, force_refresh)

    def _user_token(self, resource: str, force_refresh: bool) -> AcquiredToken:
        store = self.refresh_token_store
        what = f"app+user token for {resource}"
        if store is None:
            raise AuthError(
                f"{what}: no refresh token file is configured (run `partnerlink auth login`)"
            )
        now = datetime.now(UTC)
        with self._user_lock:
            cached = self._user_tokens.get(resource)
            if cached and not force_refresh and cached.expires_at - now > USER_TOKEN_MARGIN:
                return AcquiredToken(cached.access_token, "cache", None)
            refresh_token = store.load()
            if refresh_token is None:
                raise AuthError(
                    f"{what}: no refresh token is stored (run `partnerlink auth login`)"
                )
            self._warn_if_stale(store)
            partner = self.apps[PARTNER_APP]
            with self._lock_for((self.partner_tenant_id, PARTNER_APP)):
                client = self._client(self.partner_tenant_id, PARTNER_APP)
                try:
                    result = client.acquire_token_by_refresh_token(
                        refresh_token, [resource.rstrip("/") + "/.default"]
                    )
                except (
                    httpx.HTTPError,
                    OSError,
                    ValueError,
                    MsalServiceError,
                    MalformedResponse,
                ) as exc:
                    raise self._unreachable(what, exc) from None
            if "access_token" not in result:
                raise self._error(result, what)
            rotated = result.get("refresh_token")
            if isinstance(rotated, str) and rotated:
                store.save(rotated, client_id=partner.client_id, tenant_id=self.partner_tenant_id)
                self._secrets.append(rotated)
                self.log.info("refresh_token_rotated", tenant=self.partner_tenant_id)
            acquired = self._result(result, what)
            lifetime = acquired.expires_in or 3599
            self._user_tokens[resource] = _UserToken(
                acquired.access_token, now + timedelta(seconds=lifetime)
            )
            return acquired

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
        store = self.refresh_token_store
        if store is None:
            raise AuthError("device-code sign-in needs a refresh token file to write")
        partner = self.apps[PARTNER_APP]
        try:
            public = msal.PublicClientApplication(
                partner.client_id,
                authority=f"{self.authority_host}/{self.partner_tenant_id}",
                http_client=self._msal_http,
                instance_discovery=self._instance_discovery,
            )
            flow = public.initiate_device_flow(scopes=[resource.rstrip("/") + "/.default"])
        except (httpx.HTTPError, OSError, MsalServiceError, MalformedResponse) as exc:
            raise self._unreachable("device-code sign-in", exc) from None
        except ValueError as exc:
            raise AuthError(f"device-code sign-in: {self._clean(str(exc))[:200]}") from None
        if "user_code" not in flow:
            raise self._error(flow, "device-code sign-in")
        on_message(str(flow.get("message") or flow["user_code"]))
        flow["expires_at"] = min(
            float(flow.get("expires_at", 0)), datetime.now(UTC).timestamp() + timeout
        )
        result = public.acquire_token_by_device_flow(flow)
        if "access_token" not in result:
            raise self._error(result, "device-code sign-in")
        refresh_token = result.get("refresh_token")
        if not isinstance(refresh_token, str) or not refresh_token:
            raise AuthError(
                "device-code sign-in: no refresh token was issued (is offline_access allowed?)"
            )
        store.save(refresh_token, client_id=partner.client_id, tenant_id=self.partner_tenant_id)
        self._secrets.append(refresh_token)
        self.log.info("device_code_login_completed", tenant=self.partner_tenant_id)
