"""The MSAL apps of one agent: one confidential client per (tenant, identity), kept while used.

MSAL keeps its token cache inside the application object, so an app lives as long as the
agent needs it: a second request within a token's lifetime is a cache hit. Each app holds its
own cache, so only the most recently used ones are kept.
"""

from __future__ import annotations

import importlib.util
import logging
import sys
import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import httpx
import msal

from agent.auth.answers import MsalAnswers, failure_cause
from agent.auth.credentials import AppCredential
from agent.auth.msal_http import MsalHttpClient
from connectors.errors import AuthError, MalformedResponse, aadsts_code

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

DEFAULT_MAX_CLIENTS = 128
"""MSAL apps kept at once (tenant x identity). A sync reads a few dozen customers at a time and
is done with a tenant once its customer is read; its tokens outlive the app in the requester's
cache. Each app holds its token cache, the tenant's discovery documents and the HTTP answers
MSAL keeps for throttling: tens of kilobytes."""


if importlib.util.find_spec("msal_extensions") is None:
    # MSAL tries to import this optional package each time an app is made (to warn about an
    # old version): a failed import searches every folder of sys.path again, each time. Marked
    # absent, the import fails at once, and MSAL goes on as it does without the package.
    sys.modules.setdefault("msal_extensions", None)  # type: ignore[arg-type]

_CACHE_LOG = logging.getLogger("msal.token_cache")


class QuietTokenCache(msal.TokenCache):  # type: ignore[misc]
    """MSAL's token cache, without the debug line MSAL builds for every token it adds (a
    sorted, indented JSON dump of the sign-in, made before the logger is asked whether it
    writes debug lines) unless that logger would write it; the tokens are kept as MSAL keeps
    them."""

    def add(self, event: dict[str, Any], now: Any = None) -> Any:
        keep = getattr(self, "_TokenCache__add", None)
        if keep is None or _CACHE_LOG.isEnabledFor(logging.DEBUG):
            return super().add(event, now=now)
        return keep(event, now=now)


class MsalApps:
    """The confidential client of each (tenant, identity), created once, least recently used
    dropped first beyond ``max_clients``; a lock per app serialises its sign-ins."""

    def __init__(
        self,
        authority_host: str,
        apps: Mapping[str, AppCredential],
        *,
        http: MsalHttpClient,
        instance_discovery: bool,
        max_clients: int,
        answers: MsalAnswers,
    ) -> None:
        self.authority_host = authority_host
        self.apps = apps
        self.http = http
        self.instance_discovery = instance_discovery
        self.max_clients = max_clients
        self.answers = answers
        self._clients: OrderedDict[tuple[str, str], msal.ConfidentialClientApplication] = (
            OrderedDict()
        )
        self._locks: dict[tuple[str, str], threading.Lock] = {}
        self._registry_lock = threading.Lock()

    def __len__(self) -> int:
        """Apps kept now."""
        return len(self._clients)

    def lock_for(self, key: tuple[str, str]) -> threading.Lock:
        """The lock of the app of (tenant, identity): held while it is created and used."""
        with self._registry_lock:
            lock = self._locks.get(key)
            if lock is None:
                lock = self._locks[key] = threading.Lock()
            return lock

    def client(self, tenant: str, name: str) -> msal.ConfidentialClientApplication:
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
        client = self._create(tenant, self.apps[name], self._credential(name))
        with self._registry_lock:
            self._clients[key] = client
            while len(self._clients) > self.max_clients:
                evicted, _app = self._clients.popitem(last=False)
                lock = self._locks.get(evicted)
                if lock is not None and not lock.locked():
                    del self._locks[evicted]
        return client

    def forget(self, tenant: str) -> int:
        """Drop every identity's app of ``tenant``, with its cached tokens and the refusals
        MSAL keeps to throttle retries (after a consent or a role was granted there, the next
        sign-in must ask Entra again). Returns how many were dropped."""
        with self._registry_lock:
            keys = [key for key in self._clients if key[0] == tenant.lower()]
            for key in keys:
                del self._clients[key]
        return len(keys)

    def _credential(self, name: str) -> str | dict[str, Any]:
        """What the app of ``name`` signs in with; a certificate file that cannot be used is
        named as the cause, rather than the sign-in authority."""
        try:
            return self.apps[name].msal_credential()
        except (OSError, ValueError, TypeError) as exc:  # the file, not the authority
            text = exc.strerror if isinstance(exc, OSError) else str(exc)
            reason = (str(text or "").splitlines() or [type(exc).__name__])[0]
            raise AuthError(
                f"the certificate of {name} cannot be used ({self.answers.clean(reason)})"
            ) from None

    def _create(
        self, tenant: str, cred: AppCredential, credential: str | dict[str, Any]
    ) -> msal.ConfidentialClientApplication:
        try:
            return msal.ConfidentialClientApplication(
                cred.client_id,
                client_credential=credential,
                authority=f"{self.authority_host}/{tenant}",
                http_client=self.http,
                token_cache=QuietTokenCache(),
                instance_discovery=self.instance_discovery,
            )
        except ValueError as exc:
            raise AuthError(
                f"the sign-in authority of tenant {tenant} cannot be used "
                f"({self.answers.clean(str(exc).splitlines()[0] if str(exc) else 'invalid')})",
                aadsts=aadsts_code(str(exc)),
            ) from None
        except (httpx.HTTPError, OSError, MalformedResponse) as exc:
            raise AuthError(
                f"the sign-in authority of tenant {tenant} is unreachable ({failure_cause(exc)})"
            ) from None
