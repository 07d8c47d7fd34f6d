"""Sync: run every connector, stamp what it read, record each scope's status.

Partner-level sources start first (they name the customers). As soon as the Partner Center
customer list is in, a fixed pool of workers reads customers while the other partner reads (a
GDAP listing of every relationship can take as long as the whole sync) go on; a customer they
name that is not yet known joins the queue. A single writer stores finished reads in batches,
many customers per transaction, each customer's reads complete or not at all (R12); a long
partner listing is spooled to disk rather than held in memory. So memory stays flat however large
the estate, and the sync runs as fast as the connectors' throttling budgets allow.

A source that fails is recorded as ``failed`` for its scope and nothing stored for that scope
changes (R1, R14); a run that overruns its time budget marks the customers it did not reach
``not_attempted`` (R17).

Between full syncs, Partner Center's audit records are the change feed (:class:`ChangeFeed`):
a customer's Partner Center subscriptions are read again only when the feed names the customer
since their last complete read; otherwise the scope is ``carried`` and that read stands.
"""

from __future__ import annotations

import asyncio
import contextlib
import pickle
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import IO, Any, Protocol

import structlog

from agent.memory import Trimmer
from agent.store import CarryBase, LoadStats, RunStatus, ScopeResult, ScopeStatus, Store
from connectors.base import Connector
from connectors.errors import ConnectorError
from connectors.records import AuditEvent, Record, ScopeKind, Source, scope_for

log = structlog.get_logger("partnerlink.sync")


class Clock(Protocol):
    def __call__(self) -> datetime: ...


class Progress(Protocol):
    """Told how far a sync has come; the CLI draws a bar from it."""

    def start(self, total: int) -> None: ...

    def advance(self, customer: str) -> None: ...

    def stop(self) -> None: ...


@dataclass(slots=True)
class SyncOutcome:
    run_id: int
    status: RunStatus
    customers: int = 0
    scopes: int = 0
    failed: list[ScopeResult] = field(default_factory=list)
    not_attempted: int = 0
    carried: int = 0
    load: LoadStats = field(default_factory=LoadStats)
    seconds: float = 0.0

    def stats(self) -> dict[str, Any]:
        return {
            "customers": self.customers,
            "scopes": self.scopes,
            "failed": len(self.failed),
            "not_attempted": self.not_attempted,
            "carried": self.carried,
            "added": self.load.added,
            "changed": self.load.changed,
            "removed": self.load.removed,
            "restored": self.load.restored,
            "seconds": round(self.seconds, 3),
        }


Applies = Callable[[Connector, str], bool]
"""Whether a customer-scoped connector is meant to read a given customer tenant."""


@dataclass(frozen=True, slots=True)
class ChangeFeed:
    """Partner Center's audit records as the change feed between full syncs.

    Partner Center logs every change to a customer and its subscriptions (orders, seat and
    status changes, relationship and association changes) in its audit records, which the sync
    reads anyway. A customer-scoped read of a source in ``sources`` is carried, not repeated,
    when all of these hold:

    - the audit records were read completely in this run, back to ``covers_from``;
    - the scope's newest status is ``complete`` or ``carried``, standing on a complete read
      that started less than ``full_every`` ago (so every scope is read in full at least that
      often: changes Microsoft makes on its own, such as a trial ending, are not all audited);
    - the feed reaches back to ``lag`` before that read, and names the customer in no record
      since then (``lag`` covers records that appear in the feed late).
    """

    full_every: timedelta
    covers_from: datetime
    lag: timedelta = timedelta(hours=24)
    sources: frozenset[Source] = frozenset({Source.PC_SUBSCRIPTIONS})

    def usable(self, base: CarryBase, now: datetime) -> bool:
        """Whether the feed can vouch for the scope since ``base`` (changes aside)."""
        return (
            base.started_at > now - self.full_every
            and base.started_at - self.lag >= self.covers_from
        )


class _FeedState:
    """What this run's audit-record read said: the newest record naming each customer."""

    def __init__(self, feed: ChangeFeed, bases: dict[str, dict[str, CarryBase]]) -> None:
        self.feed = feed
        self.bases = bases
        """Per source value: scope -> the complete read the scope stands on."""
        self.latest: dict[str, datetime] = {}
        self.complete = False
        self.done = asyncio.Event()

    def notice(self, record: Record) -> None:
        if isinstance(record, AuditEvent) and record.customer_tenant_id:
            tenant = record.customer_tenant_id
            seen = self.latest.get(tenant)
            if seen is None or record.operation_date > seen:
                self.latest[tenant] = record.operation_date

    def base(self, connector: Connector, tenant: str, now: datetime) -> CarryBase | None:
        """The read this scope may stand on without reading it, before the feed is in."""
        if connector.source not in self.feed.sources:
            return None
        base = self.bases.get(connector.source.value, {}).get(scope_for(tenant, connector.identity))
        return base if base is not None and self.feed.usable(base, now) else None

    def unchanged(self, tenant: str, base: CarryBase) -> bool:
        """Once the feed is in: whether it vouches that nothing changed since ``base``."""
        if not self.complete:
            return False
        changed = self.latest.get(tenant)
        return changed is None or changed < base.started_at - self.feed.lag


def _always(_connector: Connector, _customer: str) -> bool:
    return True


class RecordSpool:
    """The records of one long read, kept in a temporary file in pickled batches.

    A partner listing of a large estate (tens of thousands of GDAP relationships, insight rows)
    would otherwise sit in memory until the store takes it. Iterating reads it back one batch
    at a time; it can be iterated once the read is over, as often as needed.
    """

    def __init__(self, batch: int = 1000) -> None:
        self.batch = batch
        self._buffer: list[Record] = []
        self._file: IO[bytes] | None = None
        self._count = 0

    def append(self, record: Record) -> None:
        self._buffer.append(record)
        self._count += 1
        if len(self._buffer) >= self.batch:
            self._flush()

    def extend(self, records: Iterable[Record]) -> None:
        for record in records:
            self.append(record)

    def _flush(self) -> None:
        if not self._buffer:
            return
        if self._file is None:
            self._file = tempfile.TemporaryFile(prefix="partnerlink-spool-")  # noqa: SIM115
        self._file.seek(0, 2)
        pickle.dump(self._buffer, self._file, protocol=pickle.HIGHEST_PROTOCOL)
        self._buffer = []

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[Record]:
        self._flush()
        if self._file is None:
            return
        self._file.seek(0)
        while True:
            try:
                batch: list[Record] = pickle.load(self._file)  # noqa: S301 - our own file
            except EOFError:
                return
            yield from batch

    def close(self) -> None:
        self._buffer = []
        if self._file is not None:
            self._file.close()
            self._file = None


@dataclass(slots=True)
class _Read:
    """What one connector read of one scope produced."""

    result: ScopeResult
    spool: RecordSpool | None = None


class _Writer:
    """The one writer of a run: stores finished reads in batches, in a worker thread.

    Items queue up while a batch is being written and go together into the next one (up to
    ``batch_scopes`` reads), so a fast sync costs few transactions; the bounded queue makes
    the readers wait when the database falls behind instead of piling records up in memory.
    """

    def __init__(
        self,
        store: Store,
        run_id: int,
        clock: Clock,
        outcome: SyncOutcome,
        *,
        batch_scopes: int,
        queue_size: int,
        progress: Progress | None,
    ) -> None:
        self.store = store
        self.run_id = run_id
        self.clock = clock
        self.outcome = outcome
        self.batch_scopes = batch_scopes
        self.progress = progress
        self._queue: asyncio.Queue[tuple[str | None, list[_Read]] | None] = asyncio.Queue(
            queue_size
        )
        self._task: asyncio.Task[None] | None = None
        self.trimmer = Trimmer()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="sync-writer")

    async def put(self, customer: str | None, reads: list[_Read]) -> None:
        """Hand over one customer's reads (or one partner read); waits when the queue is full,
        and raises the writer's error if it has stopped."""
        assert self._task is not None
        if self._task.done():
            self._task.result()
            raise RuntimeError("the sync writer stopped")
        put = asyncio.ensure_future(self._queue.put((customer, reads)))
        done, _pending = await asyncio.wait({put, self._task}, return_when=asyncio.FIRST_COMPLETED)
        if put not in done:
            put.cancel()
            self._task.result()
            raise RuntimeError("the sync writer stopped")

    async def close(self) -> None:
        """Write what is queued, then stop."""
        assert self._task is not None
        if not self._task.done():
            await self._queue.put(None)
        await self._task

    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def _run(self) -> None:
        while True:
            item = await self._queue.get()
            if item is None:
                return
            batch = [item]
            scopes = len(item[1])
            finished = False
            while scopes < self.batch_scopes and not self._queue.empty():
                more = self._queue.get_nowait()
                if more is None:
                    finished = True
                    break
                batch.append(more)
                scopes += len(more[1])
            await self._write(batch)
            if finished:
                return

    def _save(self, results: list[ScopeResult]) -> LoadStats:
        load = self.store.save(self.run_id, results, self.clock())
        self.trimmer.maybe()  # in the writer's thread, between transactions (agent.memory)
        return load

    async def _write(self, batch: list[tuple[str | None, list[_Read]]]) -> None:
        reads = [read for _customer, items in batch for read in items]
        results = [read.result for read in reads]
        try:
            load = await asyncio.to_thread(self._save, results)
        finally:
            for read in reads:
                if read.spool is not None:
                    read.spool.close()
        outcome = self.outcome
        outcome.load.merge(load)
        outcome.scopes += len(results)
        outcome.failed.extend(r for r in results if r.status is ScopeStatus.FAILED)
        outcome.not_attempted += sum(r.status is ScopeStatus.NOT_ATTEMPTED for r in results)
        outcome.carried += sum(r.status is ScopeStatus.CARRIED for r in results)
        if self.progress:
            for customer, _items in batch:
                if customer is not None:
                    self.progress.advance(customer)


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
        applies: Applies = _always,
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
        self._feed: _FeedState | None = None

    async def run(self, trigger: str = "manual") -> SyncOutcome:
        started = time.monotonic()
        deadline = started + self.time_budget.total_seconds()
        run_id = self.store.start_run(self.clock(), trigger)
        outcome = SyncOutcome(run_id=run_id, status=RunStatus.RUNNING)
        bound = log.bind(run_id=run_id)
        bound.info("sync_started", trigger=trigger, sources=len(self.partner) + len(self.customer))
        writer = _Writer(
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
            self._pc_done = asyncio.Event()
            if not any(c.source is Source.PC_CUSTOMERS for c in self.partner):
                self._pc_done.set()
            await self._start_feed()
            # The partner reads' status rows open first: they start before any customer.
            await asyncio.to_thread(
                self.store.open_scopes,
                run_id,
                [self._placeholder(c) for c in self.partner],
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
            outcome.customers = len(self._seen)
        except BaseException as exc:
            for task in tasks:
                task.cancel()
            writer.cancel()
            with contextlib.suppress(BaseException):
                await asyncio.gather(*tasks, return_exceptions=True)
            status = RunStatus.FAILED if isinstance(exc, Exception) else RunStatus.INCOMPLETE
            self.store.finish_run(
                run_id, status, self.clock(), stats=outcome.stats(), error=type(exc).__name__
            )
            bound.error("sync_crashed", error_type=type(exc).__name__)
            raise
        finally:
            if self.progress:
                self.progress.stop()
        outcome.seconds = time.monotonic() - started
        outcome.status = self._verdict(outcome)
        self.store.finish_run(run_id, outcome.status, self.clock(), stats=outcome.stats())
        bound.info("sync_finished", status=str(outcome.status), **outcome.stats())
        return outcome

    # -------------------------------------------------------------------------------------

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
        self._feed = _FeedState(feed, bases)

    def _offer(self, tenant: str) -> None:
        """Queue a customer tenant the first time anything names it."""
        if tenant not in self._seen:
            self._seen.add(tenant)
            self._queue.put_nowait(tenant)

    async def _partner(self, connector: Connector, writer: _Writer) -> None:
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

    async def _worker(self, writer: _Writer, deadline: float) -> None:
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
    ) -> _Read:
        scope = scope_for(customer, connector.identity)
        base: dict[str, Any] = {
            "source": connector.source.value,
            "scope": scope,
            "customer_tenant_id": customer,
            "kinds": connector.kinds,
        }
        records: list[Record] = []
        spool: RecordSpool | None = None
        try:
            async for record in connector.fetch(customer):
                if noticed is not None:
                    noticed(record)
                if spool is not None:
                    spool.append(record)
                    continue
                records.append(record)
                if spill and len(records) >= self.spool_after:
                    spool = RecordSpool()
                    spool.extend(records)
                    records = []
        except ConnectorError as exc:
            if spool is not None:
                spool.close()
            log.warning(
                "source_failed",
                source=connector.source.value,
                scope=scope,
                error_kind=exc.kind,
                error=str(exc),
            )
            return _Read(
                ScopeResult(status=ScopeStatus.FAILED, error_kind=exc.kind, error=str(exc), **base)
            )
        except Exception as exc:  # a bug or an unforeseen answer: this scope only
            if spool is not None:
                spool.close()
            log.error(
                "source_crashed",
                source=connector.source.value,
                scope=scope,
                error_type=type(exc).__name__,
            )
            return _Read(
                ScopeResult(
                    status=ScopeStatus.FAILED,
                    error_kind="internal",
                    error=f"internal error: {type(exc).__name__}",
                    **base,
                )
            )
        except BaseException:
            if spool is not None:
                spool.close()
            raise
        if spool is not None:
            return _Read(ScopeResult(status=ScopeStatus.COMPLETE, records=spool, **base), spool)
        return _Read(ScopeResult(status=ScopeStatus.COMPLETE, records=records, **base))

    async def _customer(self, tenant: str, deadline: float) -> list[_Read]:
        planned: list[Connector] = []
        skipped: list[_Read] = []
        pc_customers = self._pc_customers
        for connector in self.customer:
            if not self.applies(connector, tenant):
                continue
            if connector_requires(connector) is Source.PC_CUSTOMERS:
                if pc_customers is None:
                    skipped.append(
                        _Read(
                            self._not_attempted(
                                connector,
                                tenant,
                                "the Partner Center customer list could not be read",
                            )
                        )
                    )
                    continue
                if tenant not in pc_customers:
                    continue
            planned.append(connector)
        why = (
            "the agent is stopping"
            if self.stop.is_set()
            else "the run's time budget ran out"
            if time.monotonic() > deadline
            else None
        )
        if why is not None:
            skipped.extend(_Read(self._not_attempted(c, tenant, why)) for c in planned)
            planned = []
        reads = list(await asyncio.gather(*(self._read_or_carry(c, tenant) for c in planned)))
        return reads + skipped

    async def _read_or_carry(self, connector: Connector, tenant: str) -> _Read:
        """Read the scope, or carry its last complete read when the change feed vouches that
        nothing changed since (waiting for the feed only where a carry is possible)."""
        feed = self._feed
        base = feed.base(connector, tenant, self.clock()) if feed is not None else None
        if feed is not None and base is not None:
            await feed.done.wait()
            if feed.unchanged(tenant, base):
                return _Read(
                    ScopeResult(
                        source=connector.source.value,
                        scope=scope_for(tenant, connector.identity),
                        customer_tenant_id=tenant,
                        kinds=connector.kinds,
                        status=ScopeStatus.CARRIED,
                        as_of_run_id=base.run_id,
                        carried_records=base.records,
                    )
                )
        return await self._read(connector, tenant)

    @staticmethod
    def _placeholder(connector: Connector) -> ScopeResult:
        return ScopeResult(
            source=connector.source.value,
            scope=scope_for(None, connector.identity),
            customer_tenant_id=None,
            kinds=connector.kinds,
            status=ScopeStatus.COMPLETE,
        )

    @staticmethod
    def _not_attempted(connector: Connector, tenant: str, why: str) -> ScopeResult:
        return ScopeResult(
            source=connector.source.value,
            scope=scope_for(tenant, connector.identity),
            customer_tenant_id=tenant,
            kinds=connector.kinds,
            status=ScopeStatus.NOT_ATTEMPTED,
            error=why,
        )

    @staticmethod
    def _verdict(outcome: SyncOutcome) -> RunStatus:
        if outcome.scopes == 0:
            return RunStatus.FAILED
        bad = len(outcome.failed) + outcome.not_attempted
        if bad == 0:
            return RunStatus.COMPLETE
        return RunStatus.FAILED if bad >= outcome.scopes else RunStatus.PARTIAL


async def _all(tasks: Sequence[asyncio.Task[Any]]) -> None:
    """Wait for every task; the first failure is raised as soon as it happens."""
    if not tasks:
        return
    done, _pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    for task in done:
        if not task.cancelled() and task.exception() is not None:
            raise task.exception()  # type: ignore[misc]
    await asyncio.gather(*tasks)


def connector_requires(connector: Connector) -> Source | None:
    """The partner source that lists the customers a customer source applies to."""
    required = getattr(connector, "requires", None)
    return required if isinstance(required, Source) else None
