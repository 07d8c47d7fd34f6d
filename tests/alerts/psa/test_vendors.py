"""What each PSA's API asks of a client, checked on the wire: ConnectWise's Basic login and
``clientId`` and its conditions syntax; Autotask's three headers and zone discovery; HaloPSA's
client-credentials token, reused and renewed once on a 401; ``alerts test`` opening and
closing a ticket."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import httpx
import pytest

from agent.alerts.config import AlertsConfig
from agent.alerts.errors import PermanentDeliveryError
from agent.alerts.grouping import group_messages
from agent.alerts.message import Action, AlertItem
from agent.alerts.probe import send_test
from agent.alerts.sinkset import build_sinks
from tests.alerts.psa import autotask as at
from tests.alerts.psa import connectwise as cw
from tests.alerts.psa import halopsa as halo
from tests.alerts.psa.run import StandIn, alerts, references, run
from tests.alerts.psa.server import transport
from tests.alerts.support import CUSTOMER_B, finding
from tests.conftest import Clock

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)


async def test_connectwise_logs_in_with_basic_and_client_id_and_asks_for_its_marker(
    sqlite_url: str, clock: Clock
) -> None:
    with cw.ConnectWiseStandIn() as psa:
        config = alerts(psa, customer_companies={CUSTOMER_B: "NorthwindCo"})
        found = [finding("fp1", now=clock()), finding("fp2", customer=CUSTOMER_B, now=clock())]
        await run(sqlite_url, config, clock, 1, add=found)
    login = base64.b64encode(f"{cw.COMPANY}+{cw.PUBLIC_KEY}:{cw.PRIVATE_KEY}".encode()).decode()
    assert all(r.headers["authorization"] == f"Basic {login}" for r in psa.server.requests)
    assert all(r.headers["clientid"] == cw.CLIENT_ID for r in psa.server.requests)
    searches = [r.query["conditions"] for r in psa.server.requests if r.method == "GET"]
    assert searches and all(
        c.startswith('externalXRef = "PL-') and c.endswith('" and closedFlag = false')
        for c in searches
    )
    companies = {t.company for t in psa.book.tickets.values()}
    assert companies == {"Catchall", "NorthwindCo"}
    assert {t.fields["severity"] for t in psa.book.tickets.values()} == {"High"}


async def test_connectwise_wrong_keys_are_a_permanent_failure(
    sqlite_url: str, clock: Clock
) -> None:
    with cw.ConnectWiseStandIn() as psa:
        config = alerts(psa, private_key="not-the-private-key-0123")
        summary = await run(sqlite_url, config, clock, 1, add=[finding("fp1", now=clock())])
    assert (summary.sent, summary.retried, summary.dead) == (0, 0, 1)
    assert summary.errors[0].startswith("connectwise: HTTP 401")


async def test_autotask_asks_for_its_zone_once_per_process_and_calls_the_zone(
    sqlite_url: str, clock: Clock
) -> None:
    with at.AutotaskStandIn() as psa:
        config = alerts(psa)
        found = [finding(f"fp{i}", rule=r, now=clock()) for i, r in enumerate(at.REQUIRED)]
        await run(sqlite_url, config, clock, 1, add=found)
        assert psa.zone_asked == 1, "one discovery for four messages"
        clock.advance(days=2)
        await run(sqlite_url, config, clock, 2)
        assert psa.zone_asked == 2, "a new process asks again"
        calls = [r for r in psa.server.requests if "zoneInformation" not in r.path]
        assert calls and all(r.path.startswith("/zone2/ATServicesRest/V1.0/") for r in calls)
        assert all(
            (r.headers["apiintegrationcode"], r.headers["username"], r.headers["secret"])
            == (at.INTEGRATION_CODE, at.USERNAME, at.SECRET)
            for r in calls
        )
        ticket = next(iter(psa.book.tickets.values()))
        assert ticket.company == 174 and ticket.fields["queueID"] == 29682833
        assert ticket.fields["priority"] == 1, "high → Autotask's High (1)"
        assert len(ticket.notes) == 1


async def test_autotask_with_a_known_zone_skips_the_discovery(
    sqlite_url: str, clock: Clock
) -> None:
    with at.AutotaskStandIn() as psa:
        config = alerts(psa, url=psa.zone_url.rstrip("/"), zone_url=True)
        await run(sqlite_url, config, clock, 1, add=[finding("fp1", now=clock())])
        assert psa.zone_asked == 0 and len(psa.book.tickets) == 1


async def test_autotask_refuses_a_zone_outside_autotask_net() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"url": "https://collector.example/ATServicesRest/"})

    async def public(host: str, port: int) -> list[str]:
        return ["93.184.216.34"]

    sink = {
        "type": "autotask",
        "name": "autotask",
        "username": at.USERNAME,
        "secret": at.SECRET,
        "integration_code": at.INTEGRATION_CODE,
        "company_id": 174,
        "queue_id": 29682833,
    }
    config = AlertsConfig.model_validate({"sinks": [sink]}, context={"resolve": lambda h, p: []})
    item = AlertItem(fingerprint="fp1", rule="r", severity="high", status="open", title="t")
    message = group_messages([(item, Action.FIRST)], max_items=10, run_id=1, now=NOW)[0]
    mock = httpx.MockTransport(answer)
    async with build_sinks(config, clock=lambda: NOW, transport=mock, resolve=public) as sinks:
        with pytest.raises(PermanentDeliveryError, match=r"not an autotask\.net URL"):
            await sinks["autotask"].send(message)


async def test_halopsa_gets_one_token_per_process_and_renews_it_once_on_a_401(
    sqlite_url: str, clock: Clock
) -> None:
    with halo.HaloStandIn() as psa:
        config = alerts(psa)
        await run(sqlite_url, config, clock, 1, add=[finding("fp1", now=clock())])
        assert psa.issued == 1
        (token_request,) = [r for r in psa.server.requests if r.path == "/auth/token"]
        assert token_request.query == {"tenant": halo.TENANT}
        assert token_request.form()["scope"] == "all"
        psa.expire_tokens()
        clock.advance(days=2)
        summary = await run(sqlite_url, config, clock, 2)
        assert (summary.sent, summary.dead) == (1, 0)
        assert psa.issued == 2
        (ticket,) = psa.book.tickets.values()
        assert ticket.description.startswith("<p><b>New: PAL missing (fp1)</b><br>Customer:")
        (note,) = ticket.notes
        assert note.startswith("<p><b>Still firing: PAL missing (fp1)</b>")
    actions = [r.json()[0] for r in psa.server.requests if r.path == "/api/actions" and r.body]
    assert actions[0]["outcome"] == "Private Note" and actions[0]["hiddenfromuser"] is True


async def test_halopsa_wrong_client_secret_is_a_permanent_failure(
    sqlite_url: str, clock: Clock
) -> None:
    with halo.HaloStandIn() as psa:
        config = alerts(psa, client_secret="not-the-secret-0123456789")
        summary = await run(sqlite_url, config, clock, 1, add=[finding("fp1", now=clock())])
    assert (summary.sent, summary.dead) == (0, 1)
    assert summary.errors[0].startswith("halopsa: HTTP 401")
    assert references(sqlite_url, "halopsa", ["fp1"]) == {}


async def test_alerts_test_opens_a_ticket_and_closes_it(psa: StandIn) -> None:
    result = await send_test(alerts(psa), psa.kind, transport=transport())
    (ticket,) = psa.book.tickets.values()
    assert result.detail == f"opened and closed test ticket {ticket.id}"
    assert not ticket.open and ticket.title.startswith("Test notification from partnerlink")
