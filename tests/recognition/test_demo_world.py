"""The credit view over the bundled demo world, its records made the way the fake connectors
make them: the customer whose Microsoft 365 licences were bought through another partner's
tenant shows that partner as the transacting one, from the licence owner alone."""

from __future__ import annotations

from agent.audit.snapshot import PARTNER_SCOPED, CustomerSnapshot, group_records
from agent.recognition.credit import Reason, evaluate
from agent.recognition.holdings import Us, Whose
from connectors.records.licences import SubscribedSku
from connectors.records.record import Record
from connectors.records.scope import Source, scope_for
from standin.answers import customer_records, partner_records
from standin.scenario import bundled_path, load_scenario
from tests.recognition.support import book

DEMO = load_scenario(bundled_path("demo"))
IDENTITIES = ("partner-app",)


def demo_snapshot(tenant: str, *, reports: bool) -> CustomerSnapshot:
    customer = next(c for c in DEMO.customers if c.tenant_id.lower() == tenant)
    records: list[Record] = []
    statuses: dict[tuple[str, str], str] = {}
    for source in Source:
        if source is Source.INSIGHTS and not reports:
            statuses[(source.value, "partner")] = "not_attempted"
        elif source in PARTNER_SCOPED:
            records += [r for r in partner_records(DEMO, source) if r.customer_tenant_id == tenant]
            statuses[(source.value, "partner")] = "complete"
        elif source is Source.ARM_PAL:
            for identity in IDENTITIES:
                try:  # the fake cannot sign in where the identity has no service principal
                    records += customer_records(DEMO, source, customer, identity)
                    status = "complete"
                except RuntimeError:
                    status = "failed"
                statuses[(source.value, scope_for(tenant, identity))] = status
        else:
            records += customer_records(DEMO, source, customer)
            statuses[(source.value, scope_for(tenant))] = "complete"
    return CustomerSnapshot(tenant, group_records(records), statuses)


def us() -> Us:
    partner = DEMO.partner
    ids = frozenset({partner.global_partner_id} | {loc.partner_id for loc in partner.locations})
    meant = {k: frozenset({"4100002"}) for k in ("pal", "cpor", "dpor", "csp")}
    return Us(partner.tenant_id.lower(), ids, meant, IDENTITIES)


def licence_owned_elsewhere() -> str:
    for customer in DEMO.customers:
        owners = {lic.owner_tenant_id for lic in customer.licences if lic.owner_tenant_id}
        if owners - {DEMO.partner.tenant_id}:
            return customer.tenant_id.lower()
    raise AssertionError("the demo world has no licence bought through another partner")


def test_demo_licences_bought_through_another_tenant_are_held_by_that_partner() -> None:
    tenant = licence_owned_elsewhere()
    snapshot = demo_snapshot(tenant, reports=False)

    lines = evaluate(snapshot, us(), book())
    smb = next(x for x in lines if x.rule_id == "modern-work-net-customer-adds-smb")

    assert (smb.counts_for_us, smb.reason) == (False, Reason.OTHER_TRANSACTING_PARTNER)
    assert smb.holder is not None and smb.holder.whose is Whose.OTHER
    assert smb.holder.holder != us().tenant_id
    seats = sum(s.enabled_units for s in snapshot.of(SubscribedSku))
    assert smb.stake.value == seats


def test_every_demo_customer_gets_lines_with_units_and_sources() -> None:
    for customer in DEMO.customers:
        lines = evaluate(demo_snapshot(customer.tenant_id.lower(), reports=True), us(), book())

        assert lines, customer.name
        for line in lines:
            assert line.sources and line.words
            assert line.counts_for_us is not None or line.reason is Reason.CANNOT_VERIFY
