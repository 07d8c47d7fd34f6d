"""agent.readers: which reader each source belongs to, as one consent, permission or role
opens it."""

from __future__ import annotations

import pytest

from agent.readers import reader_of
from connectors.records.scope import Source


@pytest.mark.parametrize(
    ("source", "identity", "partner", "reader"),
    [
        (Source.PC_CUSTOMERS, None, True, "partner_center"),
        (Source.PC_SUBSCRIPTIONS, None, False, "partner_center"),
        (Source.PC_USAGE, None, False, "partner_center usage"),
        (Source.GRAPH_CONTRACTS, None, True, "graph (partner tenant)"),
        (Source.GRAPH_GDAP, None, True, "gdap"),
        (Source.GRAPH_SKUS, None, False, "graph"),
        (Source.GRAPH_IDENTITIES, None, False, "graph"),
        (Source.ARM_SUBSCRIPTIONS, None, False, "arm"),
        (Source.ARM_PAL, "partner-app", False, "pal as partner-app"),
        (Source.ARM_PAL, "ops", False, "pal as ops"),
        (Source.INSIGHTS, None, True, "insights"),
    ],
)
def test_every_source_has_its_reader(
    source: Source, identity: str | None, partner: bool, reader: str
) -> None:
    assert reader_of(source.value, identity, partner_scope=partner) == reader


def test_every_source_is_known_to_a_reader() -> None:
    assert all(reader_of(s.value, None, partner_scope=False) != s.value for s in Source)
