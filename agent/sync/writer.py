"""The one writer of a sync run: finished reads go to the store in batches, many customers per
transaction, each customer's reads complete or not at all."""

from __future__ import annotations

import asyncio

from agent.memory import Trimmer
from agent.store import LoadStats, ScopeResult, Store
from agent.sync.outcome import Clock, Progress, SyncOutcome
from agent.sync.read import Read


class Writer:
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
        self._queue: asyncio.Queue[tuple[str | None, list[Read]] | None] = asyncio.Queue(queue_size)
        self._task: asyncio.Task[None] | None = None
        self.trimmer = Trimmer()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="sync-writer")

    async def put(self, customer: str | None, reads: list[Read]) -> None:
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

    async def _write(self, batch: list[tuple[str | None, list[Read]]]) -> None:
        reads = [read for _customer, items in batch for read in items]
        results = [read.result for read in reads]
        try:
            load = await asyncio.to_thread(self._save, results)
        finally:
            for read in reads:
                if read.spool is not None:
                    read.spool.close()
        self.outcome.count(results, load)
        if self.progress:
            for customer, _items in batch:
                if customer is not None:
                    self.progress.advance(customer)
