"""Scenario-driven in-memory connectors: the same records the real connectors yield, no HTTP.

One fake connector per source row (:mod:`connectors.sources`), answering as
:mod:`standin.answers` says; the shared contract suite checks that the real connectors reading
the emulator yield exactly these records. Faults of the scenario are honoured with the real
connectors' retry policy (without sleeping).
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from connectors.base import PARTNER_APP
from connectors.errors import (
    AuthError,
    ConnectorError,
    IncompleteListing,
    MalformedResponse,
    ThrottledError,
    TransientError,
    error_for_status,
)
from connectors.records.record import Record
from connectors.records.scope import Source
from connectors.retry_after import DEFAULT_RETRY, RetryPolicy
from connectors.sources import SOURCES, source_row
from standin.answers import FAKES, customer_records, partner_records
from standin.scenario.model import FaultSpec, Scenario
from standin.scenario.permissions import (
    CUSTOMER_ENDPOINTS,
    PARTNER_ENDPOINTS,
    allowed,
    graph_roles,
)
from standin.scenario.world import sign_in_refusal

# ---------------------------------------------------------------------------------------------
# Faults


@dataclass
class FaultBook:
    """Counts how often each fault of a scenario has fired; thread-safe for the emulator."""

    faults: list[FaultSpec]
    _used: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def take(
        self,
        source: str,
        scope: str,
        *,
        identity: str | None = None,
        call: str = "*",
        pages: int = 1,
    ) -> FaultSpec | None:
        """The first live fault matching this call; its use is counted."""
        with self._lock:
            for index, fault in enumerate(self.faults):
                if fault.source != source:
                    continue
                if fault.scope not in ("*", scope) and fault.scope.lower() != scope.lower():
                    continue
                if fault.identity is not None and fault.identity != identity:
                    continue
                if not _call_matches(fault, call, pages):
                    continue
                if fault.times is not None and self._used[index] >= fault.times:
                    continue
                self._used[index] += 1
                return fault
        return None

    def reset(self) -> None:
        with self._lock:
            self._used.clear()


def _call_matches(fault: FaultSpec, call: str, pages: int) -> bool:
    if fault.call in ("*", call):
        return True
    page = fault.page()
    # A listing read whole (the fake) meets a page fault when it has that many pages.
    return call == "*" and page is not None and page <= pages


def fault_error(fault: FaultSpec, what: str) -> ConnectorError:
    """The error a real connector would end up with for one firing of ``fault``."""
    if fault.kind == "timeout":
        return TransientError(f"{what} timed out")
    if fault.kind == "malformed":
        return MalformedResponse(f"{what}: the answer is not valid JSON of the documented shape")
    if fault.kind == "truncated":
        return IncompleteListing(f"{what}: the listing ended before its last page")
    assert fault.status is not None
    headers = {"retry-after": str(fault.retry_after)} if fault.retry_after is not None else {}
    return error_for_status(fault.status, headers=headers, what=what)


# ---------------------------------------------------------------------------------------------
# The connectors


class FakeWorld:
    """A scenario plus its fault counters: what the fake connectors read."""

    def __init__(
        self,
        scenario: Scenario,
        retry: RetryPolicy = DEFAULT_RETRY,
        *,
        audit_lookback_days: int = 30,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.scenario = scenario
        self.retry = retry
        self.audit_lookback = timedelta(days=audit_lookback_days)
        self.clock = clock or (lambda: datetime.now(UTC))
        self.faults = FaultBook(list(scenario.faults))

    def connectors(self, identities: tuple[str, ...] = (PARTNER_APP,)) -> list[FakeConnector]:
        """One connector per source row; a per-identity source (``arm.pal``) once per identity
        the agent signs in as."""
        made: list[FakeConnector] = []
        for row in SOURCES:
            if row.per_identity:
                made.extend(FakeConnector(self, row.source, identity=i) for i in identities)
            else:
                made.append(FakeConnector(self, row.source))
        return made


class FakeConnector:
    """Reads one source of a :class:`FakeWorld`."""

    def __init__(self, world: FakeWorld, source: Source, identity: str | None = None) -> None:
        self.world = world
        self.source = source
        self.row = source_row(source)
        self.scope_kind = self.row.scope_kind
        self.kinds = self.row.kinds
        self.identity = identity if self.row.per_identity else None
        self.requires = self.row.requires

    def __repr__(self) -> str:
        suffix = f"/{self.identity}" if self.identity else ""
        return f"FakeConnector({self.source}{suffix})"

    def _records(self, customer_tenant_id: str | None) -> list[Record]:
        scenario = self.world.scenario
        if customer_tenant_id is None:
            since = (self.world.clock() - self.world.audit_lookback).date()
            return list(partner_records(scenario, self.source, audit_since=since))
        customer = scenario.customer(customer_tenant_id)
        if customer is None:
            raise AuthError("the tenant is unknown to the identity platform", aadsts="AADSTS90002")
        return list(customer_records(scenario, self.source, customer, self.identity))

    def _signed_in(self, customer_tenant_id: str | None) -> None:
        """Token acquisition as the real connector does it before its first call."""
        if customer_tenant_id is None or FAKES[self.source].signs_in_to_partner:
            scope, identity = "partner", None
        else:
            scope, identity = customer_tenant_id, self.identity or PARTNER_APP
            refusal = sign_in_refusal(
                self.world.scenario, self.world.scenario.customer(customer_tenant_id), identity
            )
            if refusal is not None:
                raise AuthError(refusal.message, aadsts=refusal.aadsts)
        if self.world.faults.take("login", scope, identity=identity, call="token"):
            raise AuthError("token request refused", aadsts="AADSTS7000215")
        self._authorized(customer_tenant_id)

    def _authorized(self, customer_tenant_id: str | None) -> None:
        """Graph's check of the token's roles: those the app holds in that tenant."""
        endpoints = CUSTOMER_ENDPOINTS if customer_tenant_id else PARTNER_ENDPOINTS
        endpoint = endpoints.get(self.source)
        if endpoint is None:
            return
        scenario = self.world.scenario
        customer = scenario.customer(customer_tenant_id) if customer_tenant_id else None
        if not allowed(graph_roles(scenario, customer, PARTNER_APP), endpoint):
            scope = customer_tenant_id.lower() if customer_tenant_id else "partner"
            raise AuthError(
                f"{self.source} for {scope} failed: Insufficient privileges to complete the "
                "operation.",
                status=403,
                code="Authorization_RequestDenied",
            )

    async def fetch(self, customer_tenant_id: str | None) -> AsyncIterator[Record]:
        scope = customer_tenant_id.lower() if customer_tenant_id else "partner"
        what = f"{self.source} for {scope}"
        self._signed_in(customer_tenant_id)
        records = self._records(customer_tenant_id)
        pages = self.row.pages(len(records))
        attempt = 0
        while True:
            attempt += 1
            fault = self.world.faults.take(
                self.source.value, scope, identity=self.identity, pages=pages
            )
            if fault is None:
                break
            error = fault_error(fault, what)
            if not error.retryable or not self.world.retry.allows(
                attempt, throttled=isinstance(error, ThrottledError)
            ):
                raise error
        for record in records:
            yield record
