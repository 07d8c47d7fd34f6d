"""Sync: run every connector, stamp what it read, record each scope's status.

Partner-level sources start first (they name the customers). As soon as the Partner Center
customer list is in, a fixed pool of workers reads customers while the other partner reads (a
GDAP listing of every relationship can take as long as the whole sync) go on; a customer they
name that is not yet known joins the queue. A single writer stores finished reads in batches,
many customers per transaction, each customer's reads complete or not at all (guarantee
atomic-customer); a long partner listing is spooled to disk rather than held in memory. So memory
stays flat however large the estate, and the sync runs as fast as the connectors' throttling budgets
allow.

A source that fails is recorded as ``failed`` for its scope and nothing stored for that scope
changes (guarantees failed-read, soft-delete); a run that overruns its time budget marks the
customers it did not reach ``not_attempted`` (guarantee bounded-waits).

Between full syncs, Partner Center's audit records are the change feed (:class:`ChangeFeed`):
a customer's Partner Center subscriptions are read again only when the feed names the customer
since their last complete read; otherwise the scope is ``carried`` and that read stands.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import structlog

from agent.store import RunStatus, ScopeStatus, Store
from agent.sync.feed import ChangeFeed, FeedState
from agent.sync.outcome import Clock, Progress, SyncOutcome
from agent.sync.read import Read, read_scope
from agent.sync.scopes import Applies, always, carried, not_attempted, placeholder, plan_customer
from agent.sync.writer import Writer
from connectors.base import Connector
from connectors.records.record import Record
from connectors.records.scope import ScopeKind, Source

log = structlog.get_logger("partnerlink.sync")


class Syncer:
    """Runs one sync over a set of connectors into a store.

    ``concurrency`` is the number of customers read at once (each reads its sources
    concurrently; the connectors' own limiters keep every throttling scope within budget).
    ``batch_scopes`` bounds the reads written per transaction; a partner read of more than
    ``spool_after`` records goes to a :class:`RecordSpool` on disk.
    """

    def __init__(
        self,
        store: Store,
        connectors: Sequence[Connector],
        *,
        clock: Clock,
        concurrency: int = 8,
        time_budget: timedelta = timedelta(hours=4),
        applies: Applies = always,
        extra_customers: Iterable[str] = (),
        progress: Progress | None = None,
        stop: threading.Event | None = None,
        batch_scopes: int = 500,
        spool_after: int = 2000,
        threads: int | None = None,
        feed: ChangeFeed | None = None,
    ) -> None:
        self.store = store
        self.partner = [c for c in connectors if c.scope_kind is ScopeKind.PARTNER]
        self.customer = [c for c in connectors if c.scope_kind is ScopeKind.CUSTOMER]
        self.clock = clock
        self.concurrency = max(1, concurrency)
        self.time_budget = time_budget
        self.applies = applies
        self.extra_customers = {c.lower() for c in extra_customers}
        self.progress = progress
        self.stop = stop or threading.Event()
        self.batch_scopes = max(1, batch_scopes)
        self.spool_after = max(1, spool_after)
        self.threads = threads or max(8, min(64, self.concurrency))
        self._queue: asyncio.Queue[str | None] = asyncio.Queue()
        self._seen: set[str] = set()
        self._pc_customers: set[str] | None = set()
        self._pc_listed: set[str] = set()
        self._pc_done: asyncio.Event | None = None
        self.feed = feed
        self._feed: FeedState | None = None

    async def run(self, trigger: str = "manual") -> SyncOutcome:
        started = time.monotonic()
        deadline = started + self.time_budget.total_seconds()
        run_id = self.store.start_run(self.clock(), trigger)
        outcome = SyncOutcome(run_id=run_id, status=RunStatus.RUNNING)
        bound = log.bind(run_id=run_id)
        bound.info("sync_started", trigger=trigger, sources=len(self.partner) + len(self.customer))
        writer = Writer(
            self.store,
            run_id,
            self.clock,
            outcome,
            batch_scopes=self.batch_scopes,
            queue_size=2 * self.concurrency + 8,
            progress=self.progress,
        )
        tasks: list[asyncio.Task[Any]] = []
        # Token calls (MSAL is synchronous: the first one of a tenant signs in over the network)
        # and the writer run in the loop's default threads: cpu + 4 of them would let a few
        # slow sign-ins hold up every customer.
        asyncio.get_running_loop().set_default_executor(
            ThreadPoolExecutor(self.threads, thread_name_prefix="sync")
        )
        try:
            await self._read_all(run_id, writer, deadline, tasks)
            outcome.customers = len(self._seen)
        except BaseException as exc:
            await self._crashed(exc, outcome, writer, tasks, bound)
            raise
        finally:
            if self.progress:
                self.progress.stop()
        outcome.seconds = time.monotonic() - started
        outcome.status = outcome.verdict()
        self.store.finish_run(run_id, outcome.status, self.clock(), stats=outcome.stats())
        bound.info("sync_finished", status=str(outcome.status), **outcome.stats())
        return outcome

    # -------------------------------------------------------------------------------------

    async def _read_all(
        self, run_id: int, writer: Writer, deadline: float, tasks: list[asyncio.Task[Any]]
    ) -> None:
        """The partner reads, then every customer they and the store name, to the last write.
        Each task started is added to ``tasks`` (for the caller to cancel on a crash)."""
        self._pc_done = asyncio.Event()
        if not any(c.source is Source.PC_CUSTOMERS for c in self.partner):
            self._pc_done.set()
        await self._start_feed()
        # The partner reads' status rows open first: they start before any customer.
        await asyncio.to_thread(
            self.store.open_scopes,
            run_id,
            [placeholder(c) for c in self.partner],
            self.clock(),
        )
        writer.start()
        partner = [
            asyncio.create_task(self._partner(c, writer), name=f"read-{c.source}")
            for c in self.partner
        ]
        tasks.extend(partner)
        known = await asyncio.to_thread(self.store.known_customers)
        await self._pc_done.wait()
        for tenant in sorted(self.extra_customers) + known:
            self._offer(tenant)
        if self.progress:
            self.progress.start(len(self._seen))
        workers = [
            asyncio.create_task(self._worker(writer, deadline), name=f"worker-{n}")
            for n in range(self.concurrency)
        ]
        tasks.extend(workers)
        await _all(partner)  # every customer a partner read names is queued by now
        for _ in workers:
            self._queue.put_nowait(None)
        await _all(workers)
        await writer.close()

    async def _crashed(
        self,
        exc: BaseException,
        outcome: SyncOutcome,
        writer: Writer,
        tasks: list[asyncio.Task[Any]],
        bound: Any,
    ) -> None:
        """Stop every task and the writer, and record the run as failed (an error) or
        incomplete (a cancellation or an interrupt)."""
        for task in tasks:
            task.cancel()
        writer.cancel()
        with contextlib.suppress(BaseException):
            await asyncio.gather(*tasks, return_exceptions=True)
        status = RunStatus.FAILED if isinstance(exc, Exception) else RunStatus.INCOMPLETE
        self.store.finish_run(
            outcome.run_id, status, self.clock(), stats=outcome.stats(), error=type(exc).__name__
        )
        bound.error("sync_crashed", error_type=type(exc).__name__)

    async def _start_feed(self) -> None:
        """Load where each feed-covered scope stands, when this run may use the change feed."""
        feed = self.feed
        if (
            feed is None
            or feed.full_every <= timedelta(0)
            or not any(c.source is Source.PC_AUDIT for c in self.partner)
        ):
            return
        wanted = {c.source.value for c in self.customer if c.source in feed.sources}
        bases = {
            source: await asyncio.to_thread(self.store.carry_bases, source)
            for source in sorted(wanted)
        }
        self._feed = FeedState(feed, bases)

    def _offer(self, tenant: str) -> None:
        """Queue a customer tenant the first time anything names it."""
        if tenant not in self._seen:
            self._seen.add(tenant)
            self._queue.put_nowait(tenant)

    async def _partner(self, connector: Connector, writer: Writer) -> None:
        is_pc = connector.source is Source.PC_CUSTOMERS
        feed = self._feed if connector.source is Source.PC_AUDIT else None
        try:

            def noticed(record: Record) -> None:
                if feed is not None:
                    feed.notice(record)
                    return  # a customer named in the audit log is not thereby ours
                tenant = record.customer_tenant_id
                if tenant:
                    if is_pc:
                        self._pc_listed.add(tenant)
                    self._offer(tenant)

            read = await self._read(connector, None, noticed=noticed, spill=True)
            complete = read.result.status is ScopeStatus.COMPLETE
            if is_pc:
                self._pc_customers = self._pc_listed if complete else None
            if feed is not None:
                feed.complete = complete
        finally:
            if is_pc and self._pc_done is not None:
                self._pc_done.set()
            if feed is not None:
                feed.done.set()
        await writer.put(None, [read])

    async def _worker(self, writer: Writer, deadline: float) -> None:
        while True:
            tenant = await self._queue.get()
            if tenant is None:
                return
            reads = await self._customer(tenant, deadline)
            await writer.put(tenant, reads)

    async def _read(
        self,
        connector: Connector,
        customer: str | None,
        *,
        noticed: Callable[[Record], None] | None = None,
        spill: bool = False,
    ) -> Read:
        spill_after = self.spool_after if spill else None
        return await read_scope(connector, customer, noticed=noticed, spill_after=spill_after)

    async def _customer(self, tenant: str, deadline: float) -> list[Read]:
        planned, skipped = plan_customer(self.customer, tenant, self.applies, self._pc_customers)
        why = (
            "the agent is stopping"
            if self.stop.is_set()
            else "the run's time budget ran out"
            if time.monotonic() > deadline
            else None
        )
        if why is not None:
            skipped.extend(not_attempted(c, tenant, why) for c in planned)
            planned = []
        reads = list(await asyncio.gather(*(self._read_or_carry(c, tenant) for c in planned)))
        return reads + [Read(result) for result in skipped]

    async def _read_or_carry(self, connector: Connector, tenant: str) -> Read:
        """Read the scope, or carry its last complete read when the change feed vouches that
        nothing changed since (waiting for the feed only where a carry is possible)."""
        feed = self._feed
        base = feed.base(connector, tenant, self.clock()) if feed is not None else None
        if feed is not None and base is not None:
            await feed.done.wait()
            if feed.unchanged(tenant, base):
                return Read(carried(connector, tenant, base))
        return await self._read(connector, tenant)


async def _all(tasks: Sequence[asyncio.Task[Any]]) -> None:
    """Wait for every task; the first failure is raised as soon as it happens."""
    if not tasks:
        return
    done, _pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    for task in done:
        if not task.cancelled() and task.exception() is not None:
            raise task.exception()  # type: ignore[misc]
    await asyncio.gather(*tasks)
