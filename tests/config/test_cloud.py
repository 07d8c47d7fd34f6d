"""``[cloud] preset``: one word sets the login authority, every API's URL and every token
resource of a national cloud; a URL of another cloud than the preset is refused, in one line."""

from __future__ import annotations

import asyncio
import json
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import parse_qs

import httpx
import pytest

from agent.auth import AppCredential, MsalTokenProvider
from agent.config import ConfigError, load_settings
from agent.live import build_wiring
from connectors.base import PARTNER_APP
from connectors.endpoints import CLOUDS, CloudEndpoints, cloud_of
from tests.config.test_config import config_error, write

TENANT = "7c3f5e2a-9d41-4b8e-a6f0-3e2d1c0b9a87"
APP = "5f3c9a1e-2b7d-4c8e-9a6f-0d1e2f3a4b5c"
CREDENTIALS = f'[credentials]\nclient_id = "{APP}"\nclient_secret = "s3cret-value-1"\n'


def _settings(tmp_path: Path, cloud: str) -> Path:
    return write(
        tmp_path / "p.toml",
        f'[partner]\ntenant_id = "{TENANT}"\n{CREDENTIALS}[cloud]\n{cloud}',
    )


@pytest.mark.parametrize(
    ("preset", "login", "pc", "graph", "arm"),
    [
        (
            "public",
            "https://login.microsoftonline.com",
            "https://api.partnercenter.microsoft.com",
            "https://graph.microsoft.com",
            "https://management.azure.com",
        ),
        (
            "usgov",
            "https://login.microsoftonline.us",
            "https://api.partnercenter.microsoft.com",
            "https://graph.microsoft.us",
            "https://management.usgovcloudapi.net",
        ),
        (
            "china",
            "https://login.chinacloudapi.cn",
            "https://partner.partnercenterapi.microsoftonline.cn",
            "https://microsoftgraph.chinacloudapi.cn",
            "https://management.chinacloudapi.cn",
        ),
    ],
)
def test_a_preset_sets_every_url_and_every_token_resource(
    tmp_path: Path, preset: str, login: str, pc: str, graph: str, arm: str
) -> None:
    settings = load_settings(_settings(tmp_path, f'preset = "{preset}"\n'))

    with ExitStack() as stack:
        endpoints = build_wiring(settings, stack).endpoints

    assert endpoints.authority_host == login
    assert (endpoints.partner_center, endpoints.partner_center_resource) == (pc, pc)
    assert (endpoints.graph, endpoints.graph_resource) == (graph, graph)
    assert (endpoints.arm, endpoints.arm_resource) == (arm, arm)
    assert endpoints.insights == pc + "/insights/v1/mpn"


def test_the_public_cloud_is_the_default() -> None:
    assert load_settings(None).cloud.endpoints() == CloudEndpoints.public()


def test_a_url_given_replaces_the_presets_but_keeps_its_token_resource(tmp_path: Path) -> None:
    text = 'preset = "usgov"\ngraph_url = "https://graph-proxy.example.net/"\n'
    endpoints = load_settings(_settings(tmp_path, text)).cloud.endpoints()

    assert endpoints.graph == "https://graph-proxy.example.net"
    assert endpoints.graph_resource == "https://graph.microsoft.us"
    assert endpoints.arm == "https://management.usgovcloudapi.net"


@pytest.mark.parametrize(
    ("text", "key", "cloud"),
    [
        ('graph_url = "https://graph.microsoft.us"\n', "cloud.graph_url", "usgov"),
        ('arm_url = "https://management.chinacloudapi.cn"\n', "cloud.arm_url", "china"),
        (
            'preset = "usgov"\nauthority_host = "https://login.microsoftonline.com"\n',
            "cloud.authority_host",
            "public",
        ),
    ],
)
def test_a_url_of_another_cloud_than_the_preset_is_refused_naming_the_preset_to_set(
    tmp_path: Path, text: str, key: str, cloud: str
) -> None:
    path = _settings(tmp_path, text)

    message = config_error(path)

    assert message.startswith(f"{path}: {key}: "), message
    assert f'set preset = "{cloud}"' in message
    assert "token resource" in message


def test_an_unknown_preset_is_refused_with_the_choices(tmp_path: Path) -> None:
    message = config_error(_settings(tmp_path, 'preset = "germany"\n'))

    assert "cloud.preset" in message
    assert "'public', 'usgov' or 'china'" in message


def test_the_public_partner_center_host_alone_names_no_cloud() -> None:
    """The US Government cloud answers Partner Center at the public host."""
    assert cloud_of("https://api.partnercenter.microsoft.com") is None
    assert cloud_of("https://graph.microsoft.us/v1.0") == "usgov"
    assert cloud_of("https://127.0.0.1:8443") is None


def test_tokens_are_asked_of_the_presets_authority_for_its_resources() -> None:
    """The token request goes to the national login host and names the national resource."""
    usgov = CLOUDS["usgov"]
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.endswith("/openid-configuration"):
            base = f"{usgov.authority_host}/{TENANT}"
            return httpx.Response(
                200,
                json={
                    "token_endpoint": f"{base}/oauth2/v2.0/token",
                    "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                    "issuer": f"{base}/v2.0",
                    "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
                },
            )
        return httpx.Response(
            200, json={"token_type": "Bearer", "expires_in": 3599, "access_token": "a.b.c"}
        )

    http = httpx.Client(transport=httpx.MockTransport(answer))
    tokens = MsalTokenProvider(
        usgov.authority_host,
        TENANT,
        {PARTNER_APP: AppCredential(client_id=APP, client_secret="s3cret-value-1")},
        http_client=http,
    )

    asyncio.run(tokens.token(TENANT, usgov.graph_resource))

    token_call = next(r for r in seen if r.url.path.endswith("/token"))
    assert token_call.url.host == "login.microsoftonline.us"
    form = parse_qs(token_call.content.decode())
    assert form["scope"] == ["https://graph.microsoft.us/.default"]
    assert json.dumps(form).count("graph.microsoft.com") == 0


def test_load_settings_without_a_preset_key_keeps_old_files_working(tmp_path: Path) -> None:
    """A file from before presets (every URL spelled out, public cloud) still loads."""
    text = (
        'authority_host = "https://login.microsoftonline.com"\n'
        'graph_url = "https://graph.microsoft.com"\n'
        'arm_url = "https://management.azure.com"\n'
    )
    assert load_settings(_settings(tmp_path, text)).cloud.endpoints() == CloudEndpoints.public()


def test_config_error_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(_settings(tmp_path, 'graph_url = "https://graph.microsoft.us"\n'))
    assert "\n" not in str(caught.value)
