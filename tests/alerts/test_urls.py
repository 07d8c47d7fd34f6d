"""Webhook URL safety (guarantee safe-urls): refused at config load, re-checked at connect time, redirects
never followed."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

import httpx
import pytest
from pydantic import ValidationError

from agent.alerts.config import AlertsConfig
from agent.alerts.errors import PermanentDeliveryError, error_for_exception, error_for_response
from agent.alerts.urls import (
    BlockedDestination,
    UnsafeUrl,
    check_url,
    forbidden_reason,
    guarded_client,
)

pytestmark = pytest.mark.anyio

DNS = {
    "hooks.example.com": ["93.184.216.34"],
    "intranet.example.com": ["10.1.2.3"],
    "metadata.example.com": ["169.254.169.254"],
    "cgnat.example.com": ["100.64.0.7"],
    "ula.example.com": ["fc00::1"],
    "mapped.example.com": ["::ffff:127.0.0.1"],
    "split.example.com": ["93.184.216.34", "192.168.1.1"],
    "loop.example.com": ["127.0.0.1"],
}


def resolve(host: str, port: int) -> Sequence[str]:
    if host not in DNS:
        raise OSError("name does not resolve")
    return DNS[host]


async def aresolve(host: str, port: int) -> Sequence[str]:
    return resolve(host, port)


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://hooks.example.com/x", "https"),
        ("ftp://hooks.example.com/x", "https"),
        ("https://93.184.216.34/x", "IP address"),
        ("https://[2606:4700::1]/x", "IP address"),
        ("https://10.0.0.1/x", "IP address"),
        ("https://169.254.169.254/latest/meta-data", "IP address"),
        ("https://2130706433/x", "IP address"),
        ("https://localhost/x", "local name"),
        ("https://printer.local/x", "local name"),
        ("https://intranet.example.com/x", "private"),
        ("https://metadata.example.com/x", "metadata"),
        ("https://cgnat.example.com/x", "carrier-grade NAT"),
        ("https://ula.example.com/x", "unique-local"),
        ("https://mapped.example.com/x", "loopback"),
        ("https://split.example.com/x", "private"),
        ("https://loop.example.com/x", "loopback"),
        ("https://user:pw@hooks.example.com/x", "credentials"),
    ],
)
def test_unsafe_urls_are_refused(url: str, why: str) -> None:
    with pytest.raises(UnsafeUrl, match=why):
        check_url(url, resolve=resolve)


def test_a_public_https_host_is_accepted_and_an_unresolvable_one_left_to_connect_time() -> None:
    assert (
        check_url("https://hooks.example.com/x?sig=abc", resolve=resolve).host
        == "hooks.example.com"
    )
    assert check_url("https://not-yet-in-dns.example.com/x", resolve=resolve)


def test_localhost_is_refused_by_the_real_resolver_too() -> None:
    with pytest.raises(UnsafeUrl):
        check_url("https://localhost./x")


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.0.0.1",
        "172.16.0.1",
        "192.168.0.1",
        "169.254.169.254",
        "169.254.1.1",
        "100.64.0.1",
        "100.127.255.255",
        "0.0.0.0",
        "::1",
        "fc00::1",
        "fd12:3456::1",
        "fe80::1",
        "::ffff:10.0.0.1",
        "224.0.0.1",
    ],
)
def test_forbidden_ranges(address: str) -> None:
    assert forbidden_reason(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize("address", ["93.184.216.34", "52.96.0.1", "2606:4700::1"])
def test_public_addresses_pass(address: str) -> None:
    assert forbidden_reason(ipaddress.ip_address(address)) is None


def test_allowlist_takes_hosts_and_domain_suffixes() -> None:
    allow = ["logic.azure.com", "hooks.slack.com"]
    check_url(
        "https://prod-12.westeurope.logic.azure.com/workflows/x", allow_hosts=allow, resolve=None
    )
    check_url("https://hooks.slack.com/services/x", allow_hosts=allow, resolve=None)
    with pytest.raises(UnsafeUrl, match="allow_hosts"):
        check_url("https://evil-logic.azure.com.example.net/x", allow_hosts=allow, resolve=None)
    with pytest.raises(UnsafeUrl, match="allow_hosts"):
        check_url("https://notlogic.azure.com/x", allow_hosts=allow, resolve=None)


def test_config_applies_the_allowlist_and_never_echoes_the_url() -> None:
    sink = {"type": "teams", "name": "t", "url": "https://hooks.example.com/x?sig=TOPSECRETSIG"}
    ok = AlertsConfig.model_validate({"sinks": [sink]}, context={"resolve": resolve})
    assert ok.sinks[0].name == "t"
    with pytest.raises(ValidationError) as refused:
        AlertsConfig.model_validate(
            {"sinks": [sink], "allow_hosts": ["*.logic.azure.com"]}, context={"resolve": resolve}
        )
    assert "allow_hosts" in str(refused.value)
    assert "TOPSECRETSIG" not in str(refused.value)
    bad = {**sink, "url": "https://intranet.example.com/x?sig=TOPSECRETSIG"}
    with pytest.raises(ValidationError) as private:
        AlertsConfig.model_validate({"sinks": [bad]}, context={"resolve": resolve})
    assert "private" in str(private.value)
    assert "TOPSECRETSIG" not in str(private.value)


def test_allow_private_is_an_explicit_opt_in_for_local_receivers() -> None:
    local = {"type": "slack", "name": "s", "url": "http://127.0.0.1:9/hook"}
    with pytest.raises(ValidationError, match="https"):
        AlertsConfig.model_validate({"sinks": [local]})
    config = AlertsConfig.model_validate({"sinks": [{**local, "allow_private": True}]})
    assert config.sinks[0].allow_private  # type: ignore[union-attr]


# ------------------------------------------------------------------------- connect time


async def test_connect_time_check_refuses_a_host_that_now_resolves_inward() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    rebinding = dict(DNS)

    async def flipping(host: str, port: int) -> Sequence[str]:
        return rebinding[host]

    async with guarded_client(transport=httpx.MockTransport(handler), resolve=flipping) as client:
        response = await client.post("https://hooks.example.com/x?sig=abc", content=b"{}")
        assert response.status_code == 200
        rebinding["hooks.example.com"] = ["169.254.169.254"]  # DNS rebinding after the check
        with pytest.raises(BlockedDestination) as blocked:
            await client.post("https://hooks.example.com/x?sig=abc", content=b"{}")
    assert len(seen) == 1, "the refused request never reached the network"
    error = error_for_exception(blocked.value)
    assert isinstance(error, PermanentDeliveryError)
    assert "sig=abc" not in error.message


async def test_connect_time_check_pins_the_checked_address_and_keeps_the_name() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(202)

    async with guarded_client(transport=httpx.MockTransport(handler), resolve=aresolve) as client:
        await client.post("https://hooks.example.com:8443/x?sig=abc", content=b"{}")
    (request,) = seen
    assert request.url.host == "93.184.216.34"
    assert request.url.port == 8443
    assert request.headers["host"] == "hooks.example.com:8443"
    assert request.extensions["sni_hostname"] == "hooks.example.com"


async def test_redirects_are_not_followed_and_count_as_permanent() -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(str(request.url))
        return httpx.Response(302, headers={"Location": "https://169.254.169.254/"})

    async with guarded_client(transport=httpx.MockTransport(handler), resolve=aresolve) as client:
        response = await client.post("https://hooks.example.com/x", content=b"{}")
    assert len(calls) == 1
    error = error_for_response(response)
    assert isinstance(error, PermanentDeliveryError)
    assert "redirects are not followed" in error.message
