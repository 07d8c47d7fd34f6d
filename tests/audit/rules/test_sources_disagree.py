"""sources_disagree: Partner Center's customer list and Graph's contracts disagree about one
customer relationship; a blind spot named as such, never a loss."""

from __future__ import annotations

from agent.audit.context import AuditContext
from agent.audit.rules import link_disappeared, sources_disagree
from connectors.records.customers import Contract, Customer
from connectors.records.links import LinkKind
from connectors.records.record import Record
from connectors.records.scope import Source

from .conftest import (
    TENANT,
    Runs,
    all_complete,
    evaluate,
    evaluated,
    healthy_records,
    key,
    with_status,
)

RULE = sources_disagree.RULE
CONTRACT = Contract(customer_tenant_id=TENANT, contract_type="ResellerPartner")


def _without_customer(records: list[Record]) -> list[Record]:
    return [r for r in records if not isinstance(r, Customer)]


def test_gone_from_partner_center_while_graph_shows_it_is_disagreement_not_loss() -> None:
    runs = Runs(k=1)
    runs.next([*healthy_records(), CONTRACT])
    snapshot, ctx = runs.next([*_without_customer(healthy_records()), CONTRACT])

    [cand] = evaluate(RULE, snapshot, ctx)

    assert cand.link_id == "tenant|partner-center"
    assert "Graph's contracts still do (ResellerPartner)" in cand.title
    assert runs.state(LinkKind.CSP, "partner-center").missing_runs == 0
    gone = [c for c in evaluate(link_disappeared.RULE, snapshot, ctx) if c.link_kind == "csp"]
    assert [c.verdict.value for c in gone] == ["unknown"]


def test_gone_from_both_is_a_disappearance_and_no_disagreement() -> None:
    runs = Runs(k=1)
    runs.next([*healthy_records(), CONTRACT])
    snapshot, ctx = runs.next(_without_customer(healthy_records()))

    assert evaluate(RULE, snapshot, ctx) == []
    assert runs.state(LinkKind.CSP, "partner-center").missing_runs == 1


def test_a_reseller_customer_without_a_contract_is_disagreement() -> None:
    runs = Runs()
    snapshot, ctx = runs.next(healthy_records())

    [cand] = evaluate(RULE, snapshot, ctx)

    assert cand.link_id == "tenant|graph-contracts"
    assert cand.evidence["seen"] == {"partner_center": "reseller", "graph_contracts": "absent"}


def test_agreeing_sources_raise_nothing(ctx: AuditContext) -> None:
    runs = Runs()
    snapshot, ctx = runs.next([*healthy_records(), CONTRACT])

    assert evaluate(RULE, snapshot, ctx) == []


def test_not_evaluated_when_either_list_was_not_read() -> None:
    runs = Runs()
    for source in (Source.PC_CUSTOMERS, Source.GRAPH_CONTRACTS):
        statuses = with_status(all_complete(), {key(source): "failed"})
        snapshot, _ctx = runs.next(healthy_records(), statuses=statuses)
        assert not evaluated(RULE, snapshot)
