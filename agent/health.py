"""The agent's own credentials, as the audit and ``/metrics`` see them (the values are
:class:`agent.audit.credential.CredentialState`).

* The secret or certificate each identity signs in with, from the app registration's credentials
  the last syncs read in the partner tenant (``graph.identities``): the certificate whose
  thumbprint the configured one has; else the latest-ending credential of the kind configured (a
  secret's hint is never read, so of several secrets the one the agent holds is not known); else
  the latest-ending of all.
* The app+user refresh token: it dies 90 days after its last rotation (every redemption rotates
  it), told ``90 - [credentials] refresh_token_warn_days`` days ahead.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import structlog

from agent.audit.credential import REFRESH_TOKEN, REFRESH_TOKEN_IDLE, CredentialState
from agent.auth.credentials import AppCredential
from agent.auth.refresh_store import RefreshTokenStore
from agent.config import AppCredentials, Settings
from agent.store import Store, StoredObservation
from connectors.base import APP_USER, PARTNER_APP
from connectors.errors import AuthError
from connectors.records.pal import CredentialEnd, Identity

log = structlog.get_logger("partnerlink.health")

REFRESH_TOKEN_FILE = "refresh-token.json"  # noqa: S105 - a file name, not a secret


def refresh_token_path(settings: Settings) -> Path | None:
    """Where the app+user refresh token is kept: ``[credentials] refresh_token_file``, or in
    the data folder when the emulator is read (it hands the agent a token of its own)."""
    configured = settings.credentials.refresh_token_file
    if configured is not None:
        return Path(configured)
    if settings.sources.mode == "emulator":
        return settings.store.data_dir / REFRESH_TOKEN_FILE
    return None


def own_credentials(
    settings: Settings,
    store: Store,
    now: datetime,
    *,
    lead: timedelta,
    signing: Mapping[str, AppCredential],
) -> tuple[CredentialState, ...]:
    """Every identity's credential state (those never read included, as unknown), reported
    ``lead`` ahead, then the refresh token's where one is used. ``signing`` is what each identity
    signs in with (the token provider's credentials; a name missing: not known)."""
    read = _newest_identities(store.current(kinds=[Identity.KIND]))
    names = [PARTNER_APP, *(c.name for c in settings.credentials.carriers)]
    states = [_app_state(name, signing.get(name), read.get(name), lead) for name in names]
    token = refresh_state(settings, now)
    return (*states, *([token] if token else []))


def configured_signing(settings: Settings) -> dict[str, AppCredential]:
    """What each identity signs in with, as far as the config says (without a token provider:
    the fake mode)."""
    configured: list[tuple[str, AppCredentials]] = [(PARTNER_APP, settings.credentials)]
    configured += [(c.name, c) for c in settings.credentials.carriers]
    return {
        name: AppCredential(
            client_id=creds.client_id,
            client_secret=creds.client_secret,
            certificate_file=creds.certificate_file,
            certificate_password=creds.certificate_password,
        )
        for name, creds in configured
        if creds.client_id and (creds.client_secret or creds.certificate_file)
    }


def _newest_identities(
    observations: Iterable[StoredObservation],
) -> dict[str, tuple[Identity, datetime]]:
    """Per identity, the most recently read record of it (any customer: the app registration is
    the same in all), and when it was read."""
    newest: dict[str, tuple[Identity, datetime]] = {}
    for obs in observations:
        record = obs.record
        if not isinstance(record, Identity):
            continue
        known = newest.get(record.identity)
        if known is None or obs.last_seen_at > known[1]:
            newest[record.identity] = (record, obs.last_seen_at)
    return newest


def _app_state(
    name: str,
    creds: AppCredential | None,
    read: tuple[Identity, datetime] | None,
    lead: timedelta,
) -> CredentialState:
    kind = None if creds is None else "secret" if creds.uses_secret else "certificate"
    if read is None:
        return CredentialState(name, kind or "secret", None, lead, evidence={"read": False})
    identity, read_at = read
    thumbprint = _thumbprint(creds) if creds is not None and kind == "certificate" else None
    chosen, matched = _in_use(identity.credentials, kind, thumbprint)
    expires = chosen.ends if chosen else identity.credential_expires
    evidence: dict[str, Any] = {
        "read_at": read_at.isoformat(),
        "credentials": len(identity.credentials),
        "matched": matched,
    }
    if chosen is not None:
        evidence.update(key_id=chosen.key_id, name=chosen.name, thumbprint=chosen.thumbprint)
    return CredentialState(
        name,
        chosen.kind if chosen else kind or "secret",
        expires,
        lead,
        app_id=identity.app_id,
        evidence=evidence,
    )


def _in_use(
    credentials: tuple[CredentialEnd, ...], kind: str | None, thumbprint: str | None
) -> tuple[CredentialEnd | None, bool]:
    """The credential the identity signs in with, and whether that is known for sure."""
    if thumbprint:
        exact = next((c for c in credentials if c.thumbprint == thumbprint), None)
        if exact is not None:
            return exact, True
    same_kind = [c for c in credentials if c.kind == kind and c.ends is not None]
    pool = same_kind or [c for c in credentials if c.ends is not None]
    latest = max(pool, key=lambda c: c.ends.timestamp() if c.ends else 0.0) if pool else None
    return latest, False


def _thumbprint(creds: AppCredential) -> str | None:
    try:
        return creds.thumbprint
    except (OSError, ValueError) as exc:
        log.warning("certificate_unreadable", error=type(exc).__name__)
        return None


def refresh_state(settings: Settings, now: datetime) -> CredentialState | None:
    """The app+user refresh token's state; ``None`` where none is stored and no app+user source
    is enabled."""
    path = refresh_token_path(settings)
    lead = REFRESH_TOKEN_IDLE - timedelta(days=settings.credentials.refresh_token_warn_days)
    store = RefreshTokenStore(path) if path is not None else None
    try:
        rotated = store.rotated_at() if store and store.load() else None
    except AuthError:
        rotated = None
    if rotated is None and not settings.sources.app_user:
        return None  # none stored, and nothing reads with one
    if rotated is None:
        evidence: dict[str, Any] = {"stored": False, "file": str(path) if path else None}
        return CredentialState(APP_USER, REFRESH_TOKEN, None, lead, evidence=evidence)
    assert store is not None
    signed_in = store.signed_in_at()
    return CredentialState(
        APP_USER,
        REFRESH_TOKEN,
        rotated + REFRESH_TOKEN_IDLE,
        lead,
        evidence={
            "stored": True,
            "rotated_at": rotated.isoformat(),
            "idle_days": max((now - rotated).days, 0),
            "signed_in_at": signed_in.isoformat() if signed_in else None,
        },
    )
