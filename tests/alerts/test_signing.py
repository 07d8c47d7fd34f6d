"""Webhook signatures cover a timestamp and the body: deliveries captured by a real local
receiver verify, and a tampered byte, a moved timestamp, a replay past the tolerance, a
missing header or a wrong key are refused; secret rotation signs with both keys."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from agent.alerts import signing
from agent.alerts.config import AlertsConfig
from agent.alerts.grouping import group_messages
from agent.alerts.message import Action, AlertItem, Message
from agent.alerts.signing import SignatureError, sign, verify
from agent.alerts.sinkset import build_sinks
from agent.config import ConfigError, load_settings
from tests.alerts.conftest import HMAC_SECRET, local_sinks
from tests.alerts.support import Received, Receiver
from tests.conftest import T0, Clock

pytestmark = pytest.mark.anyio

OLD_SECRET = "old-hmac-secret-fedcba9876543210"
OTHER_SECRET = "unrelated-secret-0123456789"
SENT = int(T0.timestamp())


def message() -> Message:
    item = AlertItem(
        fingerprint="fp1", rule="link_missing", severity="high", status="open", title="PAL gone"
    )
    return group_messages([(item, Action.FIRST)], max_items=10, run_id=7, now=T0)[0]


def webhook_config(receiver: Receiver, **extra: Any) -> AlertsConfig:
    sinks = [{**s, **extra} for s in local_sinks(receiver) if s["type"] == "webhook"]
    return AlertsConfig.model_validate({"sinks": sinks})


async def deliver(receiver: Receiver, clock: Clock, **extra: Any) -> Received:
    async with build_sinks(webhook_config(receiver, **extra), clock=clock) as sinks:
        await sinks["webhook"].send(message())
    return receiver.requests[-1]


def with_header(request: Received, name: str, value: str | None) -> dict[str, str]:
    headers = {k: v for k, v in request.headers.items() if k != name.lower()}
    if value is not None:
        headers[name] = value
    return headers


async def test_a_captured_delivery_verifies_and_one_changed_body_byte_does_not(
    receiver: Receiver, clock: Clock
) -> None:
    request = await deliver(receiver, clock)
    assert verify(HMAC_SECRET, request.headers, request.body, now=SENT) == SENT
    for index in (0, len(request.body) // 2, len(request.body) - 1):
        tampered = bytearray(request.body)
        tampered[index] ^= 0x01
        with pytest.raises(SignatureError, match="does not match"):
            verify(HMAC_SECRET, request.headers, bytes(tampered), now=SENT)


async def test_the_timestamp_is_signed_so_moving_it_fails_even_within_the_tolerance(
    receiver: Receiver, clock: Clock
) -> None:
    request = await deliver(receiver, clock)
    for moved in (SENT + 1, SENT - 1, SENT + 60):
        headers = with_header(request, signing.TIMESTAMP_HEADER, str(moved))
        with pytest.raises(SignatureError, match="does not match"):
            verify(HMAC_SECRET, headers, request.body, now=moved)


async def test_a_replay_older_than_the_tolerance_is_refused(
    receiver: Receiver, clock: Clock
) -> None:
    request = await deliver(receiver, clock)
    assert verify(HMAC_SECRET, request.headers, request.body, now=SENT + 300) == SENT
    with pytest.raises(SignatureError, match="more than 300 s old"):
        verify(HMAC_SECRET, request.headers, request.body, now=SENT + 301)
    with pytest.raises(SignatureError, match="old"):
        verify(HMAC_SECRET, request.headers, request.body, now=SENT + 86_400)
    with pytest.raises(SignatureError, match="in the future"):
        verify(HMAC_SECRET, request.headers, request.body, now=SENT - 301)
    assert verify(HMAC_SECRET, request.headers, request.body, now=SENT + 50, tolerance=60)
    with pytest.raises(SignatureError, match="more than 60 s old"):
        verify(HMAC_SECRET, request.headers, request.body, now=SENT + 61, tolerance=60)


async def test_missing_or_malformed_headers_are_refused_with_the_reason(
    receiver: Receiver, clock: Clock
) -> None:
    request = await deliver(receiver, clock)
    cases = {
        (signing.TIMESTAMP_HEADER, None): "missing X-Partnerlink-Timestamp",
        (signing.TIMESTAMP_HEADER, " "): "missing X-Partnerlink-Timestamp",
        (signing.TIMESTAMP_HEADER, "-5"): "not a Unix time",
        (signing.TIMESTAMP_HEADER, "1.8e9"): "not a Unix time",
        (signing.TIMESTAMP_HEADER, "١٧٩٣٥٩٣٦٠٠"): "not a Unix time",  # Arabic-Indic digits
        (signing.SIGNATURE_HEADER, None): "missing X-Partnerlink-Signature",
        (signing.SIGNATURE_HEADER, "sha256=abc"): "no v1= signature",
        (signing.SIGNATURE_HEADER, "v1="): "no v1= signature",
        (signing.SIGNATURE_HEADER, "v1=é" * 40): "does not match",
    }
    for (name, value), reason in cases.items():
        with pytest.raises(SignatureError, match=reason):
            verify(HMAC_SECRET, with_header(request, name, value), request.body, now=SENT)


async def test_header_names_match_in_any_case(receiver: Receiver, clock: Clock) -> None:
    request = await deliver(receiver, clock)
    upper = {k.upper(): v for k, v in request.headers.items()}
    assert verify(HMAC_SECRET, upper, request.body, now=SENT) == SENT


async def test_each_attempt_is_signed_with_the_clock_at_that_moment(
    receiver: Receiver, clock: Clock
) -> None:
    first = await deliver(receiver, clock)
    clock.advance(minutes=30)  # a retry half an hour later
    retry = await deliver(receiver, clock)
    assert retry.body == first.body
    assert retry.headers["idempotency-key"] == first.headers["idempotency-key"]
    assert int(retry.headers["x-partnerlink-timestamp"]) == SENT + 1800
    assert verify(HMAC_SECRET, retry.headers, retry.body, now=SENT + 1800) == SENT + 1800
    with pytest.raises(SignatureError, match="old"):
        verify(HMAC_SECRET, first.headers, first.body, now=SENT + 1800)


async def test_while_rotating_a_delivery_carries_a_signature_for_each_key(
    receiver: Receiver, clock: Clock
) -> None:
    request = await deliver(receiver, clock, previous_secret=OLD_SECRET)
    entries = request.headers["x-partnerlink-signature"].split(",")
    assert [e.split("=")[0] for e in entries] == ["v1", "v1"]
    assert verify(HMAC_SECRET, request.headers, request.body, now=SENT) == SENT
    assert verify(OLD_SECRET, request.headers, request.body, now=SENT) == SENT
    with pytest.raises(SignatureError, match="does not match"):
        verify(OTHER_SECRET, request.headers, request.body, now=SENT)


def test_previous_secret_is_checked_like_secret_and_never_echoed() -> None:
    base = {"type": "webhook", "name": "w", "url": "http://127.0.0.1:9/p", "allow_private": True}
    for previous, reason in (("short-old", "16 characters"), (HMAC_SECRET, "not the same")):
        with pytest.raises(ValidationError) as caught:
            AlertsConfig.model_validate(
                {"sinks": [{**base, "secret": HMAC_SECRET, "previous_secret": previous}]}
            )
        assert reason in str(caught.value)
        assert previous not in str(caught.value)
        assert HMAC_SECRET not in str(caught.value)


def test_a_broken_previous_secret_in_the_file_is_one_line_naming_the_key_not_the_value(
    tmp_path: Path,
) -> None:
    config = tmp_path / "partnerlink.toml"
    sink = (
        '[[alerts.sinks]]\nname = "w"\ntype = "webhook"\nallow_private = true\n'
        f'url = "http://127.0.0.1:9/hook"\nsecret = "{HMAC_SECRET}"\n'
    )
    for previous, reason in (("short-old", "16 characters"), (HMAC_SECRET, "the old key")):
        config.write_text(sink + f'previous_secret = "{previous}"\n', encoding="utf-8")
        with pytest.raises(ConfigError) as caught:
            load_settings(config)
        message = str(caught.value)
        assert "partnerlink.toml" in message and "previous_secret" in message, message
        assert reason in message and "\n" not in message
        assert previous not in message and HMAC_SECRET not in message


def test_sign_needs_a_key_and_the_signed_string_is_timestamp_dot_body() -> None:
    assert signing.signed_string(1700000000, b'{"a":1}') == b'1700000000.{"a":1}'
    with pytest.raises(ValueError, match="at least one secret"):
        sign([], b"{}", SENT)


def test_refusals_never_hold_the_secret_or_a_signature() -> None:
    headers = sign(HMAC_SECRET, b"{}", SENT)
    digest = headers[signing.SIGNATURE_HEADER].removeprefix("v1=")
    messages = []
    for key, now, body in (
        (OTHER_SECRET, SENT, b"{}"),
        (HMAC_SECRET, SENT + 999, b"{}"),
        (HMAC_SECRET, SENT, b"{ }"),
    ):
        with pytest.raises(SignatureError) as caught:
            verify(key, headers, body, now=now)
        messages.append(str(caught.value))
    text = " ".join(messages)
    assert HMAC_SECRET not in text and OTHER_SECRET not in text
    assert digest not in text and digest[:16] not in text


def test_the_module_is_standard_library_only_so_receivers_can_copy_it() -> None:
    tree = ast.parse(inspect.getsource(signing))
    imported = {
        (node.module or "") if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert imported == {"__future__", "hashlib", "hmac", "collections.abc"}
