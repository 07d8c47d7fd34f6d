"""One run of the agent against a PSA stand-in, as a fresh process would do it: a new Store on
the same database, findings changed, the alerts planned, new sinks with new HTTP clients,
the outbox drained (retries on virtual time), everything closed again."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from sqlmodel import Session

from agent.alerts.config import AlertsConfig
from agent.alerts.dispatcher import Dispatcher, DrainSummary
from agent.alerts.outbox import plan_and_enqueue
from agent.alerts.sinkset import build_sinks
from agent.store import Store
from agent.store.models import Finding
from tests.alerts.psa.autotask import AutotaskStandIn
from tests.alerts.psa.book import Book
from tests.alerts.psa.connectwise import ConnectWiseStandIn
from tests.alerts.psa.halopsa import HaloStandIn
from tests.alerts.psa.server import JsonServer, transport
from tests.alerts.support import set_status, virtual_sleep
from tests.conftest import Clock


class StandIn(Protocol):
    kind: str
    CREATE: tuple[str, str]
    NOTE: tuple[str, str]
    closing: tuple[dict[str, Any], Any]
    server: JsonServer
    book: Book

    def sink(self, **extra: Any) -> dict[str, Any]: ...

    def __enter__(self) -> Any: ...

    def __exit__(self, *exc: object) -> None: ...


STANDINS: dict[str, Callable[..., StandIn]] = {
    "connectwise": ConnectWiseStandIn,
    "autotask": AutotaskStandIn,
    "halopsa": HaloStandIn,
}

TITLES = {"link_missing": "Link missing", "gdap_expiring": "GDAP expiring"}


def alerts(psa: StandIn, **extra: Any) -> AlertsConfig:
    return AlertsConfig.model_validate({"repeat_interval": "1d", "sinks": [psa.sink(**extra)]})


async def run(
    store_url: str,
    config: AlertsConfig,
    clock: Clock,
    run_id: int,
    *,
    add: Sequence[Finding] = (),
    resolve: Sequence[str] = (),
    change: Callable[[Session], None] | None = None,
) -> DrainSummary:
    store = Store.open(store_url)
    try:
        with store.write() as s:
            for finding in add:
                s.add(finding)
            for fingerprint in resolve:
                set_status(s, fingerprint, "resolved")
            if change is not None:
                change(s)
        with store.transaction() as tx:
            plan_and_enqueue(
                tx.outbox, run_id=run_id, now=clock(), config=config, rule_titles=TITLES
            )
        async with build_sinks(config, clock=clock, transport=transport()) as sinks:
            dispatcher = Dispatcher(
                store,
                sinks,
                worker=f"process-{run_id}",
                clock=clock,
                sleep=virtual_sleep(clock),
                rng=random.Random(run_id),
            )
            return await dispatcher.drain(wait=True)
    finally:
        store.close()


def references(store_url: str, sink: str, fingerprints: Sequence[str]) -> dict[str, str]:
    store = Store.open(store_url)
    try:
        return store.references(sink, list(fingerprints))
    finally:
        store.close()
