"""The dispatcher drains the outbox: claim, send through the sink, record, retry or give up.

Transient failures (5xx, 429 with its ``Retry-After``, timeouts) go back to ``pending`` with a
jittered exponential backoff until the row's deadline; then the row is ``dead``. A permanent
failure (other 4xx, a refused destination) makes the row ``dead`` at once and is logged once,
as an error. The clock, the sleep and the random source are injected, so tests run on virtual
time; database calls run in a worker thread so a busy SQLite writer never stalls the loop.

A sink may keep an external id per finding (a ticket or incident number): the ids it returns
from ``send`` are stored with the attempt's outcome, and each later message about that finding
(a repeat, a resolve, a new episode) carries them in ``Message.references``, across restarts.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import socket
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
import structlog
from pydantic import ValidationError

from agent.alerts.config import AlertsConfig
from agent.alerts.errors import (
    DeliveryError,
    PermanentDeliveryError,
    TransientDeliveryError,
    error_for_exception,
)
from agent.alerts.message import Message
from agent.alerts.sinks.base import Sink
from agent.alerts.sinkset import build_sinks
from agent.alerts.urls import AsyncResolver, async_system_resolver
from agent.store import Claim, Outcome, Store
from agent.store.alert_models import DeliveryStatus, OutboxStatus

log = structlog.get_logger("partnerlink.alerts")

Clock = Callable[[], datetime]
Sleep = Callable[[float], Awaitable[None]]


def utc_now() -> datetime:
    return datetime.now(UTC)


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True, slots=True)
class RetrySchedule:
    """Full-jitter exponential backoff between attempts of one row, and the caps."""

    base: timedelta = timedelta(seconds=15)
    cap: timedelta = timedelta(minutes=15)
    retry_after_cap: timedelta = timedelta(hours=1)

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> timedelta:
        """The wait after failed attempt number ``attempt`` (1-based)."""
        if retry_after is not None:
            return min(timedelta(seconds=retry_after), self.retry_after_cap)
        ceiling = min(
            self.cap.total_seconds(), self.base.total_seconds() * (2 ** max(0, attempt - 1))
        )
        return timedelta(seconds=rng.uniform(ceiling / 2, ceiling))


@dataclass(slots=True)
class DrainSummary:
    sent: int = 0
    retried: int = 0
    dead: int = 0
    lost: int = 0
    """Claims another worker took over (our lease had expired) before we recorded."""
    attempts: int = 0
    errors: list[str] = field(default_factory=list)


class Dispatcher:
    """Sends outbox rows through ``sinks``; many dispatchers may share one database.

    ``lease`` must outlast the slowest send (sink timeouts are 10-20 s; the default lease is
    5 minutes), or a second dispatcher could re-claim a row that is still being sent.
    """

    def __init__(
        self,
        store: Store,
        sinks: Mapping[str, Sink],
        *,
        worker: str | None = None,
        clock: Clock = utc_now,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
        lease: timedelta = timedelta(minutes=5),
        deadline: timedelta = timedelta(hours=6),
        schedule: RetrySchedule | None = None,
        batch: int = 16,
        concurrency: int = 4,
        monotonic: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.store = store
        self.sinks = sinks
        self.worker = worker or default_worker_id()
        self.clock = clock
        self.sleep = sleep
        self.rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
        self.lease = lease
        self.deadline = deadline
        self.schedule = schedule or RetrySchedule()
        self.batch = batch
        self.concurrency = max(1, concurrency)
        self.monotonic = monotonic

    async def run_once(self, summary: DrainSummary | None = None) -> int:
        """Claim one batch of due rows and send them; the number claimed."""
        summary = summary if summary is not None else DrainSummary()
        claims = await asyncio.to_thread(
            self.store.claim_outbox,
            worker=self.worker,
            now=self.clock(),
            lease=self.lease,
            limit=self.batch,
        )
        if not claims:
            return 0
        gate = asyncio.Semaphore(self.concurrency)

        async def one(c: Claim) -> None:
            async with gate:
                await self._deliver(c, summary)

        await asyncio.gather(*(one(c) for c in claims))
        return len(claims)

    async def drain(self, *, wait: bool = False) -> DrainSummary:
        """Send everything due now; with ``wait``, also sleep until retries and stale claims
        fall due, and return only when nothing is left pending or claimed."""
        summary = DrainSummary()
        while True:
            if await self.run_once(summary):
                continue
            if not wait:
                return summary
            wake = await asyncio.to_thread(self.store.next_outbox_wakeup, lease=self.lease)
            if wake is None:
                return summary
            await self.sleep(max(0.0, (wake - self.clock()).total_seconds()))

    async def serve(self, stop: asyncio.Event, *, poll: float = 30.0) -> None:
        """The daemon's loop: drain, then wait for the next due row (at most ``poll``
        seconds) or for ``stop``."""
        while not stop.is_set():
            try:
                await self.drain()
                wake = await asyncio.to_thread(self.store.next_outbox_wakeup, lease=self.lease)
            except Exception as exc:  # a database hiccup must not end the loop
                log.warning("alert_dispatch_failed", error=type(exc).__name__)
                wake = None
            timeout = poll
            if wake is not None:
                timeout = min(poll, max(0.05, (wake - self.clock()).total_seconds()))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout)

    async def _deliver(self, c: Claim, summary: DrainSummary) -> None:
        summary.attempts += 1
        bound = log.bind(sink=c.sink, outbox_id=c.outbox_id, attempt=c.attempt, kind=c.kind)
        started = self.monotonic()
        status_code, kept, error = await self._attempt(c)
        duration = round((self.monotonic() - started) * 1000, 1)
        now = self.clock()
        outcome = self._outcome(c, status_code, error, duration, now)
        held = await asyncio.to_thread(
            self.store.record_delivery, c, outcome, worker=self.worker, now=now, references=kept
        )
        if not held:
            summary.lost += 1
            bound.warning("alert_claim_lost", outcome=outcome.delivery.value)
            return
        if outcome.row is OutboxStatus.SENT:
            summary.sent += 1
            bound.info("alert_sent", status_code=status_code, duration_ms=duration)
        elif outcome.row is OutboxStatus.PENDING:
            summary.retried += 1
            bound.warning(
                "alert_retry_scheduled",
                error=outcome.error,
                status_code=outcome.status_code,
                next_attempt_at=(outcome.next_attempt_at or now).isoformat(),
            )
        else:
            summary.dead += 1
            summary.errors.append(outcome.error or "")
            event = (
                "alert_delivery_gave_up"
                if outcome.delivery is DeliveryStatus.TRANSIENT
                else "alert_delivery_failed"
            )
            bound.error(
                event, error=outcome.error, status_code=outcome.status_code, dedup_key=c.dedup_key
            )

    async def _attempt(self, c: Claim) -> tuple[int | None, dict[str, str], DeliveryError | None]:
        """Send the claimed message: the status code, the external ids to keep, the error."""
        sink = self.sinks.get(c.sink)
        if sink is None:
            return None, {}, PermanentDeliveryError("no such sink is configured any more")
        try:
            message = Message.from_json(c.payload)
        except ValidationError:
            return None, {}, PermanentDeliveryError("the stored payload is not a valid message")
        try:
            message = await self._with_references(c.sink, message)
            result = await sink.send(message)
        except DeliveryError as exc:
            return None, {}, exc
        except Exception as exc:  # a sink bug must not kill the dispatcher
            return None, {}, error_for_exception(exc, secrets=getattr(sink, "secrets", ()))
        return result.status_code, _new_references(message, result.references), None

    def _outcome(
        self,
        c: Claim,
        status_code: int | None,
        error: DeliveryError | None,
        duration: float,
        now: datetime,
    ) -> Outcome:
        """Sent; or retried with backoff until the row's deadline, then dead; or dead at once."""
        if error is None:
            return Outcome(
                DeliveryStatus.SENT,
                OutboxStatus.SENT,
                status_code=status_code,
                duration_ms=duration,
            )
        if isinstance(error, TransientDeliveryError):
            at = now + self.schedule.delay(c.attempt, error.retry_after, self.rng)
            late = at > c.created_at + self.deadline
            return Outcome(
                DeliveryStatus.TRANSIENT,
                OutboxStatus.DEAD if late else OutboxStatus.PENDING,
                status_code=error.status,
                error=error.message,
                duration_ms=duration,
                next_attempt_at=None if late else at,
            )
        return Outcome(
            DeliveryStatus.PERMANENT,
            OutboxStatus.DEAD,
            status_code=error.status,
            error=error.message,
            duration_ms=duration,
        )

    async def _with_references(self, sink: str, message: Message) -> Message:
        """The message with the external ids ``sink`` keeps for its findings and, on a
        resolve, how many other open findings share each id."""
        keys = message.fingerprints or tuple(item.fingerprint for item in message.items)
        if not keys:
            return message
        found = await asyncio.to_thread(self.store.references, sink, keys)
        if not found:
            return message
        update: dict[str, object] = {"references": found}
        if message.resolved:
            ids = sorted(set(found.values()))
            update["still_open"] = await asyncio.to_thread(
                self.store.open_under, sink, ids, excluding=keys
            )
        return message.model_copy(update=update)


def _new_references(message: Message, returned: Mapping[str, str]) -> dict[str, str]:
    """The ids a sink returned that are new or changed, for the message's own findings only
    (an id is text: anything else, or an empty one, is not kept)."""
    members = set(message.fingerprints) | {item.fingerprint for item in message.items}
    return {
        fp: ref
        for fp, ref in returned.items()
        if fp in members and isinstance(ref, str) and ref and message.references.get(fp) != ref
    }


async def deliver_pending(
    store: Store,
    config: AlertsConfig,
    *,
    wait: bool = False,
    clock: Clock = utc_now,
    worker: str | None = None,
    sleep: Sleep = asyncio.sleep,
    transport: httpx.AsyncBaseTransport | None = None,
    resolve: AsyncResolver = async_system_resolver,
) -> DrainSummary:
    """Build the configured sinks, drain the outbox once (``wait``: until nothing is left),
    close the sinks. The one call a synchronous caller needs: ``asyncio.run(deliver_pending(
    store, config))`` after each audit."""
    async with build_sinks(config, clock=clock, transport=transport, resolve=resolve) as sinks:
        dispatcher = Dispatcher(
            store, sinks, worker=worker, clock=clock, sleep=sleep, deadline=config.delivery_deadline
        )
        return await dispatcher.drain(wait=wait)
