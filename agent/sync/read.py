"""One connector's read of one scope, as a result the store can take: its records (spilled to
disk past a threshold), or a ``failed`` status that says why and stores nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import structlog

from agent.store import ScopeResult, ScopeStatus
from agent.sync.spool import RecordSpool
from connectors.base import Connector
from connectors.errors import ConnectorError
from connectors.records.record import Record
from connectors.records.scope import scope_for

log = structlog.get_logger("partnerlink.sync")


@dataclass(slots=True)
class Read:
    """What one connector read of one scope produced."""

    result: ScopeResult
    spool: RecordSpool | None = None


class _Collector:
    """The records of one read: in memory, or once ``spill_after`` is reached, in a spool."""

    def __init__(self, spill_after: int | None) -> None:
        self.spill_after = spill_after
        self.records: list[Record] = []
        self.spool: RecordSpool | None = None

    def add(self, record: Record) -> None:
        if self.spool is not None:
            self.spool.append(record)
            return
        self.records.append(record)
        if self.spill_after is not None and len(self.records) >= self.spill_after:
            self.spool = RecordSpool()
            self.spool.extend(self.records)
            self.records = []

    def discard(self) -> None:
        if self.spool is not None:
            self.spool.close()

    def complete(self, base: dict[str, Any]) -> Read:
        if self.spool is not None:
            return Read(
                ScopeResult(status=ScopeStatus.COMPLETE, records=self.spool, **base), self.spool
            )
        return Read(ScopeResult(status=ScopeStatus.COMPLETE, records=self.records, **base))


async def read_scope(
    connector: Connector,
    customer: str | None,
    *,
    noticed: Callable[[Record], None] | None = None,
    spill_after: int | None = None,
) -> Read:
    """Read the connector's scope of ``customer`` (``None``: the partner) to its end.

    ``noticed`` sees every record as it arrives; past ``spill_after`` records the read goes to
    a :class:`RecordSpool`. A connector error, or any other exception, fails this scope only."""
    scope = scope_for(customer, connector.identity)
    base: dict[str, Any] = {
        "source": connector.source.value,
        "scope": scope,
        "customer_tenant_id": customer,
        "kinds": connector.kinds,
    }
    collected = _Collector(spill_after)
    try:
        async for record in connector.fetch(customer):
            if noticed is not None:
                noticed(record)
            collected.add(record)
    except ConnectorError as exc:
        collected.discard()
        return _failed(exc, base)
    except Exception as exc:  # a bug or an unforeseen answer: this scope only
        collected.discard()
        return _crashed(exc, base)
    except BaseException:
        collected.discard()
        raise
    return collected.complete(base)


def _failed(exc: ConnectorError, base: dict[str, Any]) -> Read:
    log.warning(
        "source_failed",
        source=base["source"],
        scope=base["scope"],
        error_kind=exc.kind,
        error=str(exc),
    )
    return Read(ScopeResult(status=ScopeStatus.FAILED, error_kind=exc.kind, error=str(exc), **base))


def _crashed(exc: Exception, base: dict[str, Any]) -> Read:
    log.error(
        "source_crashed",
        source=base["source"],
        scope=base["scope"],
        error_type=type(exc).__name__,
    )
    return Read(
        ScopeResult(
            status=ScopeStatus.FAILED,
            error_kind="internal",
            error=f"internal error: {type(exc).__name__}",
            **base,
        )
    )
