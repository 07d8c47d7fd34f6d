"""Sources disagree: Partner Center's customer list and Graph's contracts say different things
about one customer relationship. It is a blind spot, not a loss (guarantee
corroborated-absence): while they disagree the relationship is neither present nor gone, so
``link_disappeared`` counts no miss and this finding says why.

Two ways: the customer vanished from Partner Center's list while Graph's contracts still show it
(we knew it from Partner Center), or Partner Center lists it as a reseller customer while
Graph's contracts, read completely, no longer do. The finding clears as soon as the two agree
again, whichever way.
"""

from __future__ import annotations

from collections.abc import Iterator

from agent.audit.context import AuditContext
from agent.audit.link import SELF, TENANT
from agent.audit.model import Candidate, Rule, RuleMeta, Severity
from agent.audit.snapshot import CustomerSnapshot, finding_stake
from connectors.records.customers import Contract, Customer
from connectors.records.links import LinkKind
from connectors.records.scope import Source

META = RuleMeta(
    id="sources_disagree",
    title="Sources disagree",
    severity=Severity.MEDIUM,
    rationale="Partner Center and Graph each keep a list of the partner's customers; when one "
    "drops a customer the other still shows, the agent cannot tell whether the relationship "
    "ended, and says so instead of reporting it gone.",
    remediation="Look the customer up in Partner Center (Customers) and ask its administrator "
    "whether the partner relationship still stands (Microsoft 365 admin center > Settings > "
    "Partner relationships); the finding clears when both sources agree again.",
    required_sources=(Source.PC_CUSTOMERS, Source.GRAPH_CONTRACTS),
)


def evaluate(snapshot: CustomerSnapshot, ctx: AuditContext) -> Iterator[Candidate]:
    if not snapshot.tenant_id:
        return
    customers = snapshot.of(Customer)
    contracts = snapshot.of(Contract)
    knew = any(
        s.kind == LinkKind.CSP and s.source == Source.PC_CUSTOMERS and s.holder == SELF
        for s in snapshot.link_states
    )
    if not customers and contracts and knew:
        contract = contracts[0]
        yield _candidate(
            snapshot,
            "partner-center",
            "Partner Center's customer list no longer shows it; Graph's contracts still do "
            f"({contract.contract_type or 'contract'})",
            {"partner_center": "absent", "graph_contracts": contract.contract_type or "present"},
        )
    resold = [c for c in customers if c.relationship == "reseller"]
    if resold and not contracts:
        yield _candidate(
            snapshot,
            "graph-contracts",
            "Partner Center lists it as a reseller customer; Graph's contracts no longer show it",
            {"partner_center": "reseller", "graph_contracts": "absent"},
        )


def _candidate(
    snapshot: CustomerSnapshot, missing_from: str, how: str, seen: dict[str, str]
) -> Candidate:
    figures = snapshot.stake(TENANT)
    return Candidate(
        rule=META.id,
        customer_tenant_id=snapshot.tenant_id,
        subject=f"customer relationship missing from {missing_from}",
        title=f"Cannot verify the customer relationship with {snapshot.name}: {how}",
        link_kind=LinkKind.CSP,
        link_id=f"{TENANT}|{missing_from}",
        evidence={
            "missing_from": missing_from,
            "seen": seen,
            "sources": [Source.PC_CUSTOMERS.value, Source.GRAPH_CONTRACTS.value],
            "stake": figures,
        },
        stake=finding_stake(TENANT, figures),
    )


RULE = Rule(META, evaluate)
