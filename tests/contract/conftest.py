"""Fixtures of the contract tests (samples, fake-vs-live, what goes on the wire): the async
backend, the demo scenario, an emulator serving it and the production token provider."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from agent import auth
from connectors.base import PARTNER_APP
from standin import emulator as emulator_module
from standin.scenario import Scenario, bundled_path, load_scenario


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return load_scenario(bundled_path("demo"))


@pytest.fixture(scope="module")
def emulator(scenario: Scenario) -> Iterator[Any]:
    with emulator_module.Emulator(scenario) as running:
        yield running


@pytest.fixture(scope="module")
def tokens(
    emulator: Any, scenario: Scenario, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    """The production token provider, signing in at the emulator."""
    context = ssl.create_default_context(cafile=emulator.ca_path)
    store = auth.RefreshTokenStore(tmp_path_factory.mktemp("auth") / "refresh-token.json")
    store.save(
        emulator.issue_refresh_token(),
        client_id=scenario.partner.app.client_id,
        tenant_id=scenario.partner.tenant_id,
    )
    apps = {
        PARTNER_APP: auth.AppCredential(
            scenario.partner.app.client_id, client_secret=scenario.partner.app.client_secret
        )
    }
    apps.update(
        {
            c.name: auth.AppCredential(c.client_id, client_secret=c.client_secret)
            for c in scenario.partner.carriers
        }
    )
    with httpx.Client(verify=context, timeout=10) as http:
        yield auth.MsalTokenProvider(
            emulator.base_url,
            scenario.partner.tenant_id,
            apps,
            http_client=http,
            refresh_token_store=store,
        )
