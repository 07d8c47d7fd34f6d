"""What each (source, scope) of a run comes to without a read of its own: the partner scopes'
placeholders opened first, the reads a customer is due, and the ``not_attempted`` and
``carried`` results recorded instead of a read."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from agent.store import CarryBase, ScopeResult, ScopeStatus
from connectors.base import Connector
from connectors.records.scope import Source, scope_for

Applies = Callable[[Connector, str], bool]
"""Whether a customer-scoped connector is meant to read a given customer tenant."""


def always(_connector: Connector, _customer: str) -> bool:
    return True


def connector_requires(connector: Connector) -> Source | None:
    """The partner source that lists the customers a customer source applies to."""
    required = getattr(connector, "requires", None)
    return required if isinstance(required, Source) else None


def plan_customer(
    connectors: Iterable[Connector],
    tenant: str,
    applies: Applies,
    pc_customers: set[str] | None,
) -> tuple[list[Connector], list[ScopeResult]]:
    """The connectors to read for ``tenant``, and the results of those that cannot be read.

    A source that applies only to customers on the Partner Center list is skipped for a tenant
    not on it, and not attempted when the list itself could not be read (``None``)."""
    planned: list[Connector] = []
    skipped: list[ScopeResult] = []
    for connector in connectors:
        if not applies(connector, tenant):
            continue
        if connector_requires(connector) is Source.PC_CUSTOMERS:
            if pc_customers is None:
                why = "the Partner Center customer list could not be read"
                skipped.append(not_attempted(connector, tenant, why))
                continue
            if tenant not in pc_customers:
                continue
        planned.append(connector)
    return planned, skipped


def placeholder(connector: Connector) -> ScopeResult:
    """The status row a partner read opens before it starts."""
    return ScopeResult(
        source=connector.source.value,
        scope=scope_for(None, connector.identity),
        customer_tenant_id=None,
        kinds=connector.kinds,
        status=ScopeStatus.COMPLETE,
    )


def not_attempted(connector: Connector, tenant: str, why: str) -> ScopeResult:
    return ScopeResult(
        source=connector.source.value,
        scope=scope_for(tenant, connector.identity),
        customer_tenant_id=tenant,
        kinds=connector.kinds,
        status=ScopeStatus.NOT_ATTEMPTED,
        error=why,
    )


def carried(connector: Connector, tenant: str, base: CarryBase) -> ScopeResult:
    """The scope stands on the complete read ``base``: the change feed shows no change since."""
    return ScopeResult(
        source=connector.source.value,
        scope=scope_for(tenant, connector.identity),
        customer_tenant_id=tenant,
        kinds=connector.kinds,
        status=ScopeStatus.CARRIED,
        as_of_run_id=base.run_id,
        carried_records=base.records,
    )
