"""``group_by = "customer"``: one ticket per customer holding all of its findings; a new finding
of that customer is a note on the open ticket; the ticket closes only when the last of its
findings resolves (until then a resolve is a note), across restarts."""

from __future__ import annotations

import pytest

from tests.alerts.psa.run import StandIn, alerts, references, run
from tests.alerts.support import CUSTOMER_B, finding
from tests.conftest import Clock

pytestmark = pytest.mark.anyio


async def test_a_customer_ticket_collects_its_findings_and_closes_with_the_last(
    psa: StandIn, store_url: str, clock: Clock
) -> None:
    config = alerts(psa, group_by="customer")
    now = clock()
    a1, a2 = finding("a1", now=now), finding("a2", now=now, rule="gdap_expiring")
    b1 = finding("b1", customer=CUSTOMER_B, now=now)
    await run(store_url, config, clock, 1, add=[a1, a2, b1])
    tickets = {t.id: t for t in psa.book.tickets.values()}
    assert len(tickets) == 2, "one per customer"
    kept = references(store_url, psa.kind, ["a1", "a2", "b1"])
    assert kept["a1"] == kept["a2"] != kept["b1"]
    first = tickets[int(kept["a1"])]
    assert first.title.startswith("partnerlink: partner links to follow up for Contoso [PL-")
    texts = "\n".join(first.texts)
    assert "PAL missing (a1)" in texts and "PAL missing (a2)" in texts
    assert "b1" not in texts

    clock.advance(hours=1)  # a new finding of the same customer: a note, no new ticket
    await run(store_url, config, clock, 2, add=[finding("a3", now=clock())])
    assert len(psa.book.tickets) == 2
    assert "New: PAL missing (a3)" in first.notes[-1]
    assert references(store_url, psa.kind, ["a3"]) == {"a3": str(first.id)}

    clock.advance(hours=1)
    await run(store_url, config, clock, 3, resolve=["a1", "a3"])
    assert first.open, "a2 is still open under it"
    assert "Resolved: PAL missing (a1)" in first.notes[-1]

    clock.advance(hours=1)
    await run(store_url, config, clock, 4, resolve=["a2"])
    assert not first.open
    assert "Resolved: PAL missing (a2)" in first.notes[-1]
    assert tickets[int(kept["b1"])].open, "the other customer's ticket is untouched"
