"""Sync: run every connector in dependency order, stamp what it read, record each scope's status.

Partner-level sources run first (they name the customers); then each customer's tenant sources,
concurrently across customers, each customer written in one transaction (R12). A source that
fails is recorded as ``failed`` for its scope and nothing stored for that scope changes (R1, R14);
a run that overruns its time budget marks the customers it did not reach ``not_attempted`` (R17).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

import structlog

from agent.store import LoadStats, RunStatus, ScopeResult, ScopeStatus, Store
from connectors.base import Connector
from connectors.errors import ConnectorError
from connectors.records import Customer, Record, ScopeKind, Source, scope_for

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
    load: LoadStats = field(default_factory=LoadStats)
    seconds: float = 0.0

    def stats(self) -> dict[str, Any]:
        return {
            "customers": self.customers,
            "scopes": self.scopes,
            "failed": len(self.failed),
            "not_attempted": self.not_attempted,
            "added": self.load.added,
            "changed": self.load.changed,
            "removed": self.load.removed,
            "restored": self.load.restored,
            "seconds": round(self.seconds, 3),
        }


Applies = Callable[[Connector, str], bool]
"""Whether a customer-scoped connector is meant to read a given customer tenant."""


def _always(_connector: Connector, _customer: str) -> bool:
    return True


class Syncer:
    """Runs one sync over a set of connectors into a store."""

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
    ) -> None:
        self.store = store
        self.partner = [c for c in connectors if c.scope_kind is ScopeKind.PARTNER]
        self.customer = [c for c in connectors if c.scope_kind is ScopeKind.CUSTOMER]
        self.clock = clock
        self.concurrency = concurrency
        self.time_budget = time_budget
        self.applies = applies
        self.extra_customers = {c.lower() for c in extra_customers}
        self.progress = progress
        self.stop = stop or threading.Event()
        self._write_lock = asyncio.Lock()
        self._slots = asyncio.Semaphore(concurrency)

    async def run(self, trigger: str = "manual") -> SyncOutcome:
        started = time.monotonic()
        deadline = started + self.time_budget.total_seconds()
        run_id = self.store.start_run(self.clock(), trigger)
        outcome = SyncOutcome(run_id=run_id, status=RunStatus.RUNNING)
        bound = log.bind(run_id=run_id)
        bound.info("sync_started", trigger=trigger, sources=len(self.partner) + len(self.customer))
        try:
            partner_results = await asyncio.gather(
                *(self._read(c, None) for c in self.partner)
            )
            for result, _records in partner_results:
                await self._save(outcome, [result])
            pc_customers = self._pc_customers(partner_results)
            customers = self._universe(partner_results)
            outcome.customers = len(customers)
            if self.progress:
                self.progress.start(len(customers))
            await asyncio.gather(
                *(self._customer(outcome, tenant, pc_customers, deadline) for tenant in customers)
            )
        except BaseException as exc:
            status = RunStatus.FAILED if isinstance(exc, Exception) else RunStatus.INCOMPLETE
            self.store.finish_run(run_id, status, self.clock(), stats=outcome.stats(),
                                  error=type(exc).__name__)
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

    async def _read(
        self, connector: Connector, customer: str | None
    ) -> tuple[ScopeResult, list[Record]]:
        scope = scope_for(customer, connector.identity)
        base = {"source": connector.source.value, "scope": scope, "customer_tenant_id": customer,
                "kinds": connector.kinds}
        async with self._slots:
            records: list[Record] = []
            try:
                async for record in connector.fetch(customer):
                    records.append(record)
            except ConnectorError as exc:
                log.warning("source_failed", source=connector.source.value, scope=scope,
                            error_kind=exc.kind, error=str(exc))
                return ScopeResult(status=ScopeStatus.FAILED, error_kind=exc.kind,
                                   error=str(exc), **base), []
            except Exception as exc:  # a bug or an unforeseen answer: this scope only
                log.error("source_crashed", source=connector.source.value, scope=scope,
                          error_type=type(exc).__name__)
                return ScopeResult(status=ScopeStatus.FAILED, error_kind="internal",
                                   error=f"internal error: {type(exc).__name__}", **base), []
        return ScopeResult(status=ScopeStatus.COMPLETE, records=records, **base), records

    async def _save(self, outcome: SyncOutcome, results: list[ScopeResult]) -> None:
        async with self._write_lock:
            load = await asyncio.to_thread(self.store.save, outcome.run_id, results, self.clock())
        outcome.load.merge(load)
        outcome.scopes += len(results)
        outcome.failed.extend(r for r in results if r.status is ScopeStatus.FAILED)
        outcome.not_attempted += sum(r.status is ScopeStatus.NOT_ATTEMPTED for r in results)

    @staticmethod
    def _pc_customers(results: Sequence[tuple[ScopeResult, list[Record]]]) -> set[str] | None:
        """Customers in the Partner Center list; ``None`` when the list could not be read."""
        for result, records in results:
            if result.source == Source.PC_CUSTOMERS.value:
                if result.status is not ScopeStatus.COMPLETE:
                    return None
                return {r.tenant_id for r in records if isinstance(r, Customer)}
        return set()

    def _universe(self, results: Sequence[tuple[ScopeResult, list[Record]]]) -> list[str]:
        """Every customer tenant to read: listed now, known from before, or expected."""
        tenants = set(self.extra_customers)
        for _result, records in results:
            tenants.update(r.customer_tenant_id for r in records if r.customer_tenant_id)
        tenants.update(self.store.known_customers())
        return sorted(tenants)

    async def _customer(
        self, outcome: SyncOutcome, tenant: str, pc_customers: set[str] | None, deadline: float
    ) -> None:
        planned: list[Connector] = []
        skipped: list[ScopeResult] = []
        for connector in self.customer:
            if not self.applies(connector, tenant):
                continue
            if connector_requires(connector) is Source.PC_CUSTOMERS:
                if pc_customers is None:
                    skipped.append(self._not_attempted(
                        connector, tenant, "the Partner Center customer list could not be read"
                    ))
                    continue
                if tenant not in pc_customers:
                    continue
            planned.append(connector)
        why = ("the agent is stopping" if self.stop.is_set()
               else "the run's time budget ran out" if time.monotonic() > deadline else None)
        if why is not None:
            skipped.extend(self._not_attempted(c, tenant, why) for c in planned)
            planned = []
        results = [r for r, _ in await asyncio.gather(*(self._read(c, tenant) for c in planned))]
        await self._save(outcome, results + skipped)
        if self.progress:
            self.progress.advance(tenant)

    @staticmethod
    def _not_attempted(connector: Connector, tenant: str, why: str) -> ScopeResult:
        return ScopeResult(
            source=connector.source.value, scope=scope_for(tenant, connector.identity),
            customer_tenant_id=tenant, kinds=connector.kinds,
            status=ScopeStatus.NOT_ATTEMPTED, error=why,
        )

    @staticmethod
    def _verdict(outcome: SyncOutcome) -> RunStatus:
        if outcome.scopes == 0:
            return RunStatus.FAILED
        bad = len(outcome.failed) + outcome.not_attempted
        if bad == 0:
            return RunStatus.COMPLETE
        return RunStatus.FAILED if bad >= outcome.scopes else RunStatus.PARTIAL


def connector_requires(connector: Connector) -> Source | None:
    """The partner source that lists the customers a customer source applies to."""
    required = getattr(connector, "requires", None)
    return required if isinstance(required, Source) else None
