"""guarantee no-secrets-out for the PSA sinks: a PSA that echoes the request back in its errors
(headers and body, as some do) still leaves no credential in a log line, an error message or
the database: not ConnectWise's private key, clientId or Basic token, not Autotask's secret or
integration code, not HaloPSA's client secret or bearer token."""

from __future__ import annotations

import base64
import json

import pytest
import structlog
from sqlalchemy import select

from agent.store import Store
from agent.store.alert_models import AlertDelivery, AlertOutbox
from tests.alerts.psa import autotask as at
from tests.alerts.psa import connectwise as cw
from tests.alerts.psa import halopsa as halo
from tests.alerts.psa.run import StandIn, alerts, run
from tests.alerts.support import finding
from tests.conftest import Clock
from tests.logs import project_logging

pytestmark = pytest.mark.anyio

BASIC = base64.b64encode(f"{cw.COMPANY}+{cw.PUBLIC_KEY}:{cw.PRIVATE_KEY}".encode()).decode()
SECRETS = (
    cw.PRIVATE_KEY,
    cw.CLIENT_ID,
    BASIC,
    at.SECRET,
    at.INTEGRATION_CODE,
    halo.CLIENT_SECRET,
)


async def test_no_credential_in_logs_errors_or_the_database_when_the_psa_echoes_them(
    psa: StandIn, sqlite_url: str, clock: Clock
) -> None:
    psa.server.fail(*psa.CREATE, 500, echo=True, times=2)
    psa.server.fail(*psa.CREATE, 400, echo=True)
    with project_logging() as rendered:
        with structlog.testing.capture_logs() as captured:
            summary = await run(
                sqlite_url, alerts(psa), clock, 1, add=[finding("fp1", now=clock())]
            )
        log = structlog.get_logger("partnerlink.alerts")
        for entry in captured:  # once more through the project's renderer and redactor
            fields = {k: v for k, v in entry.items() if k not in ("event", "log_level")}
            log.warning(entry["event"], **fields)
    assert (summary.retried, summary.dead) == (2, 1)
    echoed = [r for r in psa.server.requests if (r.method, r.path) == psa.CREATE]
    assert echoed, "the faults did answer with the request"
    tokens = tuple(getattr(psa, "tokens", ()))  # HaloPSA's bearer tokens, still valid
    store = Store.open(sqlite_url)
    with store.read() as s:
        stored = [r.last_error or "" for r in s.scalars(select(AlertOutbox))]
        stored += [d.error or "" for d in s.scalars(select(AlertDelivery))]
        stored += [r.payload for r in s.scalars(select(AlertOutbox))]
    store.close()
    assert any("HTTP 400" in e for e in stored)
    assert any("**********" in e for e in stored), "the echoed credentials were masked"
    everything = " ".join(
        [*stored, *summary.errors, json.dumps(captured, default=str), rendered.getvalue()]
    )
    assert [s for s in (*SECRETS, *tokens) if s in everything] == []
