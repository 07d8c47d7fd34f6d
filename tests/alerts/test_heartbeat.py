"""The dead man's switch (guarantee heartbeat): start, then success or fail; short, retried, never raising."""

from __future__ import annotations

import httpx
import pytest
import structlog

from agent.alerts.config import AlertsConfig
from agent.alerts.heartbeat import Heartbeat
from tests.alerts.support import Receiver, Reply

pytestmark = pytest.mark.anyio

TOKEN = "5a7f-heartbeat-uuid-0001"


async def no_wait(_seconds: float) -> None:
    return None


def beat(receiver: Receiver, **kw: object) -> Heartbeat:
    config = AlertsConfig.model_validate(
        {"heartbeat_url": receiver.url(f"/ping/{TOKEN}"), "heartbeat_allow_private": True}
    )
    return Heartbeat.from_config(config, sleep=no_wait, **kw)  # type: ignore[arg-type]


async def test_a_complete_run_pings_start_then_success(receiver: Receiver) -> None:
    heartbeat = beat(receiver)
    assert await heartbeat.start()
    assert await heartbeat.finish(complete=True)
    assert [r.path for r in receiver.requests] == [f"/ping/{TOKEN}/start", f"/ping/{TOKEN}"]


async def test_a_partial_or_crashed_run_pings_fail_with_the_reason(receiver: Receiver) -> None:
    heartbeat = beat(receiver)
    await heartbeat.start()
    assert await heartbeat.finish(complete=False, detail="run 7 partial: 3 scopes failed")
    assert receiver.requests[-1].path == f"/ping/{TOKEN}/fail"
    assert receiver.requests[-1].body == b"run 7 partial: 3 scopes failed"


async def test_server_errors_are_retried_a_few_times_then_given_up_quietly(
    receiver: Receiver,
) -> None:
    receiver.default = Reply(500, b"down")
    with structlog.testing.capture_logs() as logs:
        assert await beat(receiver).start() is False
    assert len(receiver.requests) == 3
    (warning,) = logs
    assert warning["event"] == "heartbeat_failed"
    assert warning["log_level"] == "warning"
    assert TOKEN not in repr(logs)


async def test_a_permanent_answer_is_not_retried(receiver: Receiver) -> None:
    receiver.default = Reply(404, b"not found")
    assert await beat(receiver).success() is False
    assert len(receiver.requests) == 1


async def test_an_unreachable_heartbeat_never_raises() -> None:
    with Receiver() as gone:
        heartbeat = beat(gone)
    with structlog.testing.capture_logs() as logs:
        assert await heartbeat.start() is False
        assert await heartbeat.fail("crashed") is False
    assert all(TOKEN not in repr(entry) for entry in logs)


async def test_even_a_broken_transport_never_raises() -> None:
    def explode(request: httpx.Request) -> httpx.Response:
        raise RuntimeError(f"bug while sending to {request.url}")

    heartbeat = Heartbeat(
        f"https://hc-ping.com/{TOKEN}",
        transport=httpx.MockTransport(explode),
        resolve=_public,
        sleep=no_wait,
    )
    with structlog.testing.capture_logs() as logs:
        assert await heartbeat.start() is False
    assert TOKEN not in repr(logs)


async def _public(host: str, port: int) -> list[str]:
    return ["93.184.216.34"]


async def test_no_url_means_no_pings() -> None:
    heartbeat = Heartbeat.from_config(AlertsConfig())
    assert not heartbeat.enabled
    assert await heartbeat.start() is False


async def test_heartbeat_url_is_checked_like_a_webhook() -> None:
    with pytest.raises(ValueError, match="https"):
        AlertsConfig.model_validate({"heartbeat_url": "http://hc-ping.com/x"})
