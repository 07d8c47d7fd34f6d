"""The sink registry: a sink type is one entry (config model, sink class, how it connects, its
secrets), and building goes through the registry alone, so a new sink type needs no other
line of the builder."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

import httpx
import pytest
from pydantic import SecretStr

from agent import logging as plog
from agent.alerts.message import Message
from agent.alerts.sinks import (
    SINK_TYPES,
    DeliveryResult,
    SinkType,
    build_sink,
    over_http,
    sink_type,
)
from agent.alerts.sinks.config import ApiSinkBase
from agent.alerts.sinks.teams import TeamsSinkConfig
from agent.alerts.urls import AsyncResolver

pytestmark = pytest.mark.anyio

TOKEN = "pager-token-0123456789abcdef"


class PagerSinkConfig(ApiSinkBase):
    """A sink type the agent does not ship: registered by the test alone."""

    type: Literal["pager"]
    url: str = "https://pager.example/api/events"
    token: SecretStr


class PagerSink:
    kind = "pager"

    def __init__(
        self, config: PagerSinkConfig, client: httpx.AsyncClient, *, clock: object
    ) -> None:
        self.config = config
        self.client = client

    @property
    def name(self) -> str:
        return self.config.name

    async def send(self, message: Message) -> DeliveryResult:
        response = await self.client.post(
            self.config.url, json={"title": message.title, "token": "x"}
        )
        return DeliveryResult(response.status_code, detail=response.text)

    async def aclose(self) -> None:
        await self.client.aclose()


def _token(config: PagerSinkConfig) -> list[str]:
    return [config.token.get_secret_value()]


REGISTRY = {**SINK_TYPES, "pager": SinkType(PagerSinkConfig, PagerSink, over_http, _token)}


async def _public(host: str, port: int) -> list[str]:
    return ["93.184.216.34"]


def test_each_registered_type_is_found_by_its_config_model() -> None:
    for name, registered in SINK_TYPES.items():
        assert registered.kind == name
    teams = TeamsSinkConfig.model_validate(
        {"type": "teams", "name": "t", "url": "https://example.logic.azure.com/x?sig=abcdefgh"}
    )
    assert sink_type(teams) is SINK_TYPES["teams"]


def test_an_unregistered_config_model_is_refused_by_name() -> None:
    config = PagerSinkConfig(type="pager", name="pager", token=SecretStr(TOKEN))
    with pytest.raises(TypeError, match="PagerSinkConfig"):
        build_sink(config)


async def test_a_sink_type_registered_once_is_built_wired_and_its_secret_redacted() -> None:
    sent: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(202, text="PG-1")

    resolve: AsyncResolver = _public
    config = PagerSinkConfig(type="pager", name="pager", token=SecretStr(TOKEN))
    sink = build_sink(
        config,
        registry=REGISTRY,
        transport=httpx.MockTransport(answer),
        resolve=resolve,
        clock=lambda: datetime(2026, 11, 2, tzinfo=UTC),
    )
    assert isinstance(sink, PagerSink)
    message = Message.model_validate(
        {
            "dedup_key": "fp",
            "idempotency_key": "fp:first:r1",
            "kind": "first",
            "action": "first",
            "rule": "link_missing",
            "rule_title": "Link missing",
            "severity": "high",
            "title": "New: PAL missing",
            "total": 1,
            "items": [],
            "created_at": datetime(2026, 11, 2, tzinfo=UTC),
        }
    )
    try:
        result = await sink.send(message)
    finally:
        await sink.aclose()
    assert (result.status_code, result.detail) == (202, "PG-1")
    assert [(r.headers["host"], r.url.path) for r in sent] == [("pager.example", "/api/events")]
    assert sent[0].url.host == "93.184.216.34", "through the guard, with the resolver it was given"

    assert TOKEN not in plog.scrub(f"the token is {TOKEN}"), "its registered secret is redacted"
