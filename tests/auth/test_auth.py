"""MsalTokenProvider and RefreshTokenStore against the emulator over TLS, with real MSAL."""

from __future__ import annotations

import asyncio
import logging
import stat
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from agent.auth import (
    APP_USER,
    AppCredential,
    MsalTokenProvider,
    RefreshTokenStore,
    decoded_claims,
    decoded_roles,
)
from connectors.errors import AuthError
from standin.emulator import Emulator
from tests.emulator.support import (
    APP_ID,
    ARM,
    C1,
    C2,
    CARRIER,
    CARRIER_ID,
    CARRIER_SECRET,
    GRAPH,
    PARTNER,
    PC,
    SECRET,
    Certificate,
    ssl_context,
    world,
    write,
)


class RecordingLogger:
    """A structlog-like logger that keeps every event."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, dict[str, Any]]] = []

    def _record(self, level: str, event: str, **kw: Any) -> None:
        self.events.append((level, event, kw))

    def debug(self, event: str, **kw: Any) -> None:
        self._record("debug", event, **kw)

    def info(self, event: str, **kw: Any) -> None:
        self._record("info", event, **kw)

    def warning(self, event: str, **kw: Any) -> None:
        self._record("warning", event, **kw)

    def names(self, level: str | None = None) -> list[str]:
        return [e for lvl, e, _ in self.events if level in (None, lvl)]

    def text(self) -> str:
        return repr(self.events)


@pytest.fixture
def scenario_data(tmp_path: Path) -> dict[str, Any]:
    return world()


@pytest.fixture
def cert(tmp_path: Path) -> Certificate:
    return Certificate(tmp_path)


@pytest.fixture
def emulator(tmp_path: Path, cert: Certificate) -> Iterator[Emulator]:
    data = world()
    data["partner"]["app"]["certificate_thumbprints"] = [cert.thumbprint]
    path = write(tmp_path / "world.json", data)
    with Emulator(path, device_pending_polls=0) as emulator:
        yield emulator


@pytest.fixture
def http(emulator: Emulator) -> Iterator[httpx.Client]:
    with httpx.Client(verify=ssl_context(emulator.ca_path)) as client:
        yield client


@pytest.fixture
def log() -> RecordingLogger:
    return RecordingLogger()


def provider(
    emulator: Emulator,
    http: httpx.Client,
    log: RecordingLogger,
    partner: AppCredential | None = None,
    store: RefreshTokenStore | None = None,
) -> MsalTokenProvider:
    apps = {
        "partner-app": partner or AppCredential(APP_ID, client_secret=SECRET),
        CARRIER: AppCredential(CARRIER_ID, client_secret=CARRIER_SECRET),
    }
    return MsalTokenProvider(
        emulator.base_url, PARTNER, apps, http_client=http, refresh_token_store=store, logger=log
    )


def test_client_secret_signs_in_and_the_second_call_is_a_cache_hit(
    emulator: Emulator, http: httpx.Client, log: RecordingLogger
) -> None:
    tokens = provider(emulator, http, log)
    assert log.names("warning") == ["client_secret_in_use", "client_secret_in_use"]
    first = asyncio.run(tokens.acquire(PARTNER, PC))
    second = asyncio.run(tokens.acquire(PARTNER, PC))
    assert first.token_source == "identity_provider"
    assert second.token_source == "cache"
    assert second.access_token == first.access_token
    assert decoded_claims(first.access_token)["aud"] == PC
    refreshed = asyncio.run(tokens.acquire(PARTNER, PC, force_refresh=True))
    assert refreshed.token_source == "identity_provider"
    assert refreshed.access_token != first.access_token


def test_tokens_are_per_tenant_and_identity(
    emulator: Emulator, http: httpx.Client, log: RecordingLogger
) -> None:
    tokens = provider(emulator, http, log)
    graph = asyncio.run(tokens.token(C1, GRAPH))
    arm = asyncio.run(tokens.token(C1, ARM, identity=CARRIER))
    assert decoded_claims(graph)["tid"] == C1
    assert decoded_claims(arm)["appid"] == CARRIER_ID
    assert "Directory.Read.All" in decoded_roles(graph)
    assert decoded_roles(arm) == ()
    assert decoded_roles("not-a-jwt") == ()


def test_concurrent_callers_share_one_token_request(
    emulator: Emulator, http: httpx.Client, log: RecordingLogger
) -> None:
    tokens = provider(emulator, http, log)

    async def many() -> set[str]:
        return set(await asyncio.gather(*(tokens.token(C1, GRAPH) for _ in range(10))))

    assert len(asyncio.run(many())) == 1
    assert emulator.info()["requests"]["login"] == 2  # one discovery, one token request


@pytest.mark.parametrize("form", ["pem", "separate-key-with-chain", "pfx"])
def test_certificate_credentials_sign_in(
    emulator: Emulator,
    http: httpx.Client,
    log: RecordingLogger,
    cert: Certificate,
    tmp_path: Path,
    form: str,
) -> None:
    if form == "pem":
        emulator.register_certificate(cert.cert_pem)
        credential = AppCredential(APP_ID, certificate_file=cert.pem_path)
    elif form == "separate-key-with-chain":  # x5c: the emulator learns the certificate from it
        credential = AppCredential(
            APP_ID,
            certificate_file=cert.cert_path,
            private_key_file=cert.key_path,
            send_certificate_chain=True,
        )
    else:
        emulator.register_certificate(cert.cert_pem)
        credential = AppCredential(
            APP_ID,
            certificate_file=cert.pfx(tmp_path, b"pfx-pass"),
            certificate_password="pfx-pass",
        )
    assert credential.thumbprint == cert.thumbprint
    tokens = provider(emulator, http, log, partner=credential)
    token = asyncio.run(tokens.token(PARTNER, PC))
    assert decoded_claims(token)["appidacr"] == "2"
    assert log.names("warning") == ["client_secret_in_use"]  # the carrier only


def test_wrong_secret_is_an_auth_error_with_the_code_and_no_secret(
    emulator: Emulator,
    http: httpx.Client,
    log: RecordingLogger,
    caplog: pytest.LogCaptureFixture,
) -> None:
    wrong = "wrong-secret-value-that-must-not-leak"
    tokens = provider(emulator, http, log, partner=AppCredential(APP_ID, client_secret=wrong))
    with caplog.at_level(logging.DEBUG), pytest.raises(AuthError) as caught:
        asyncio.run(tokens.token(PARTNER, PC))
    error = caught.value
    assert error.aadsts == "AADSTS7000215"
    assert error.correlation_id
    assert "AADSTS7000215" in str(error)
    for text in (str(error), repr(error.args), caplog.text, log.text()):
        assert wrong not in text
        assert SECRET not in text
    assert "token_refused" in log.names("warning")


def test_unconsented_tenant_is_refused_with_its_code(
    emulator: Emulator, http: httpx.Client, log: RecordingLogger
) -> None:
    tokens = provider(emulator, http, log)
    with pytest.raises(AuthError) as caught:
        asyncio.run(tokens.token(C2, GRAPH))
    assert caught.value.aadsts == "AADSTS7000229"
    with pytest.raises(AuthError):
        asyncio.run(tokens.token(C1, GRAPH, identity="nobody"))


def test_app_user_tokens_rotate_the_stored_refresh_token(
    emulator: Emulator, http: httpx.Client, log: RecordingLogger, tmp_path: Path
) -> None:
    store = RefreshTokenStore(tmp_path / "secrets" / "refresh-token.json")
    initial = emulator.issue_refresh_token()
    store.save(initial)
    tokens = provider(emulator, http, log, store=store)
    first = asyncio.run(tokens.acquire(PARTNER, PC, identity=APP_USER))
    assert decoded_claims(first.access_token)["idtyp"] == "user"
    rotated = store.load()
    assert rotated is not None
    assert rotated != initial
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert [p.name for p in store.path.parent.iterdir()] == ["refresh-token.json"]
    age = store.age()
    assert age is not None
    assert age < timedelta(minutes=1)
    second = asyncio.run(tokens.acquire(PARTNER, PC, identity=APP_USER))
    assert second.token_source == "cache"
    assert store.load() == rotated
    assert "refresh_token_rotated" in log.names("info")
    assert rotated not in log.text()


def test_app_user_tokens_reach_customer_tenants_through_gdap_only(
    emulator: Emulator, http: httpx.Client, log: RecordingLogger, tmp_path: Path
) -> None:
    """A refresh token is bound to user and app, not to a tenant: the partner administrator's
    is redeemed in a customer tenant where GDAP is active and the app has consent (C1), and
    refused where the app has none (C2)."""
    store = RefreshTokenStore(tmp_path / "refresh-token.json")
    store.save(emulator.issue_refresh_token())
    tokens = provider(emulator, http, log, store=store)

    customer = asyncio.run(tokens.acquire(C1, GRAPH, identity=APP_USER))

    claims = decoded_claims(customer.access_token)
    assert (claims["tid"], claims["idtyp"]) == (C1, "user")
    with pytest.raises(AuthError):
        asyncio.run(tokens.token(C2, GRAPH, identity=APP_USER))


def test_app_user_without_a_refresh_token_is_an_auth_error(
    emulator: Emulator, http: httpx.Client, log: RecordingLogger, tmp_path: Path
) -> None:
    with pytest.raises(AuthError, match="auth login"):
        asyncio.run(provider(emulator, http, log).token(PARTNER, PC, identity=APP_USER))
    empty = RefreshTokenStore(tmp_path / "none.json")
    with pytest.raises(AuthError, match="auth login"):
        asyncio.run(
            provider(emulator, http, log, store=empty).token(PARTNER, PC, identity=APP_USER)
        )


def test_an_ageing_refresh_token_is_warned_about(
    emulator: Emulator, http: httpx.Client, log: RecordingLogger, tmp_path: Path
) -> None:
    path = tmp_path / "rt.json"
    RefreshTokenStore(path, clock=lambda: datetime.now(UTC) - timedelta(days=61)).save(
        emulator.issue_refresh_token()
    )
    store = RefreshTokenStore(path, warn_after_days=60)
    assert store.stale()
    tokens = provider(emulator, http, log, store=store)
    asyncio.run(tokens.token(PARTNER, PC, identity=APP_USER))
    assert "refresh_token_ageing" in log.names("warning")
    assert not store.stale()  # it rotated just now


def test_device_code_login_stores_a_refresh_token(
    emulator: Emulator, http: httpx.Client, log: RecordingLogger, tmp_path: Path
) -> None:
    store = RefreshTokenStore(tmp_path / "rt.json")
    tokens = provider(emulator, http, log, store=store)
    messages: list[str] = []
    tokens.device_code_login(messages.append)
    assert len(messages) == 1
    assert "/devicelogin" in messages[0]
    assert store.load()
    token = asyncio.run(tokens.token(PARTNER, PC, identity=APP_USER))
    assert decoded_claims(token)["scp"] == "user_impersonation"


def test_app_credential_needs_exactly_one_credential_and_hides_secrets(cert: Certificate) -> None:
    with pytest.raises(ValueError, match="either"):
        AppCredential(APP_ID)
    with pytest.raises(ValueError, match="either"):
        AppCredential(APP_ID, client_secret="s3cret-value", certificate_file=cert.pem_path)
    assert "s3cret-value" not in repr(AppCredential(APP_ID, client_secret="s3cret-value"))


def test_the_provider_needs_the_partner_app_and_an_https_authority(
    http: httpx.Client,
) -> None:
    with pytest.raises(ValueError, match="partner-app"):
        MsalTokenProvider("https://login.example", PARTNER, {}, http_client=http)
    with pytest.raises(ValueError, match="https"):
        MsalTokenProvider(
            "http://login.example",
            PARTNER,
            {"partner-app": AppCredential(APP_ID, client_secret=SECRET)},
            http_client=http,
        )


@pytest.mark.parametrize("kind", ["timeout", "malformed", "truncated"])
def test_a_login_that_gives_no_usable_answer_is_an_auth_error(
    tmp_path: Path, log: RecordingLogger, kind: str
) -> None:
    data = world(faults=[{"source": "login", "call": "token", "kind": kind, "times": 1}])
    with (
        Emulator(write(tmp_path / "w.json", data)) as emulator,
        httpx.Client(verify=ssl_context(emulator.ca_path)) as http,
    ):
        tokens = provider(emulator, http, log)
        with pytest.raises(AuthError, match="no usable answer"):
            asyncio.run(tokens.token(C1, GRAPH))
        assert SECRET not in log.text()
        assert asyncio.run(tokens.token(C1, GRAPH))  # the fault fired once


@pytest.mark.parametrize("broken", ["missing", "not a key", "encrypted"])
def test_an_unusable_certificate_is_blamed_not_the_sign_in_authority(
    emulator: Emulator,
    http: httpx.Client,
    log: RecordingLogger,
    cert: Certificate,
    tmp_path: Path,
    broken: str,
) -> None:
    path = tmp_path / "broken.pem"
    if broken == "not a key":
        path.write_bytes(cert.cert_pem)
    elif broken == "encrypted":
        from cryptography.hazmat.primitives import serialization

        key = cert.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"key-pass"),
        )
        path.write_bytes(key + cert.cert_pem)
    tokens = provider(emulator, http, log, partner=AppCredential(APP_ID, certificate_file=path))

    with pytest.raises(AuthError) as caught:
        asyncio.run(tokens.token(PARTNER, PC))

    assert str(caught.value).startswith("the certificate of partner-app cannot be used ("), str(
        caught.value
    )
    assert "authority" not in str(caught.value)
