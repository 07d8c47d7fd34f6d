"""link_disappeared: a link of ours seen in an earlier complete run is absent in the last K
complete runs (guarantee confirm-k-runs); failed reads neither advance nor reset the count (guarantees failed-read, proven-absence)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from agent.audit.anomaly import Anomaly, AnomalyScope
from agent.audit.rules import gdap_ended, link_disappeared
from connectors.records.attribution import Attribution
from connectors.records.customers import CspSubscription
from connectors.records.gdap import GdapRelationship, GdapStatus
from connectors.records.links import LinkKind
from connectors.records.pal import Identity, PalLink
from connectors.records.record import Record
from connectors.records.scope import Source

from .conftest import (
    APP,
    HQ,
    OTHER,
    SUB,
    TENANT,
    Runs,
    all_complete,
    evaluate,
    fingerprints,
    firing,
    gdap,
    healthy_records,
    key,
    unknown,
    with_status,
)

RULE = link_disappeared.RULE
PAL_FAILED = with_status(all_complete(), {key(Source.ARM_PAL, APP): "failed"})
PAL_AND_IDENTITIES_FAILED = with_status(PAL_FAILED, {key(Source.GRAPH_IDENTITIES): "failed"})


def _pal_removed() -> list[Record]:
    """ARM answered ManagementPartnerNotFound for our app: the link was removed."""
    records = [r for r in healthy_records() if not isinstance(r, PalLink)]
    records.append(
        PalLink(customer_tenant_id=TENANT, identity=APP, partner_id=None, subscriptions=(SUB,))
    )
    return records


def _identity_deleted() -> list[Record]:
    # The PAL read failed (the identity cannot sign in any more), so the store still holds the
    # last PAL it saw; the identity is gone from a complete read of the tenant's identities.
    return [r for r in healthy_records() if not isinstance(r, Identity)]


def _gdap_only(status: GdapStatus, raw: str | None = None) -> list[Record]:
    records = [r for r in healthy_records() if r.KIND != "gdap_relationship"]
    records.append(gdap(status=status, raw=raw, ends_in=timedelta(days=-3)))
    return records


def test_links_present_in_every_run_never_fire() -> None:
    runs = Runs()
    runs.next(healthy_records())
    snapshot, ctx = runs.next(healthy_records())

    assert firing(RULE, snapshot, ctx) == []


def test_link_absent_in_one_complete_run_is_pending_and_confirmed_at_the_second() -> None:
    runs = Runs(k=2)
    runs.next(healthy_records())

    snapshot, ctx = runs.next(_pal_removed())
    [pending] = firing(RULE, snapshot, ctx)

    assert pending.confirmed is False
    assert pending.customer_tenant_id == TENANT
    assert pending.subject == f"pal on azure:{SUB} via {APP}"
    assert pending.link_kind == LinkKind.PAL
    assert pending.link_id == f"azure:{SUB}|{APP}|{HQ}"
    assert pending.evidence["missing_runs"] == 1
    assert pending.evidence["runs_to_confirm"] == 2
    assert pending.evidence["holder"] == HQ
    assert pending.evidence["carried_by"] == APP
    assert pending.evidence["source"] == Source.ARM_PAL.value
    assert pending.evidence["cause"] == f"the Partner Admin Link of {APP} was removed"

    snapshot, ctx = runs.next(_pal_removed())
    [confirmed] = firing(RULE, snapshot, ctx)

    assert confirmed.confirmed is True
    assert confirmed.evidence["missing_runs"] == 2
    assert fingerprints([confirmed], ctx) == fingerprints([pending], ctx)


def test_disappeared_after_runs_is_configurable() -> None:
    runs = Runs(k=3)
    runs.next(healthy_records())
    runs.next(_pal_removed())
    snapshot, ctx = runs.next(_pal_removed())

    [cand] = firing(RULE, snapshot, ctx)

    assert (cand.confirmed, cand.evidence["missing_runs"]) == (False, 2)


def test_auditing_the_same_run_twice_counts_the_miss_once() -> None:
    runs = Runs()
    runs.next(healthy_records())
    runs.next(_pal_removed())
    snapshot, ctx = runs.next(_pal_removed(), same_run=True)

    [cand] = firing(RULE, snapshot, ctx)

    assert cand.evidence["missing_runs"] == 1
    assert cand.confirmed is False


def test_link_that_reappears_before_k_runs_is_withdrawn_and_its_count_reset() -> None:
    runs = Runs()
    runs.next(healthy_records())
    runs.next(_pal_removed())
    snapshot, ctx = runs.next(healthy_records())

    assert firing(RULE, snapshot, ctx) == []
    assert runs.state(LinkKind.PAL, APP).missing_runs == 0


def test_disappeared_link_is_not_counted_when_the_read_failed() -> None:
    # The PAL read failed; the identity is still there and enabled: nothing is proven (guarantee failed-read).
    runs = Runs()
    runs.next(healthy_records())
    for _ in range(3):
        snapshot, ctx = runs.next(healthy_records(), statuses=PAL_FAILED)
        assert firing(RULE, snapshot, ctx) == []
        assert runs.state(LinkKind.PAL, APP).missing_runs == 0

    snapshot, ctx = runs.next(_pal_removed())
    [cand] = firing(RULE, snapshot, ctx)
    assert (cand.confirmed, cand.evidence["missing_runs"]) == (False, 1)


def test_failed_read_with_no_records_left_is_not_counted_either() -> None:
    runs = Runs()
    runs.next(healthy_records())
    records = [r for r in healthy_records() if not isinstance(r, PalLink)]
    snapshot, ctx = runs.next(records, statuses=PAL_FAILED)

    assert firing(RULE, snapshot, ctx) == []
    assert runs.state(LinkKind.PAL, APP).missing_runs == 0


def test_failed_read_between_two_misses_neither_advances_nor_resets_the_count() -> None:
    runs = Runs(k=2)
    runs.next(healthy_records())
    runs.next(_pal_removed())

    snapshot, ctx = runs.next(healthy_records(), statuses=PAL_AND_IDENTITIES_FAILED)
    [still_pending] = firing(RULE, snapshot, ctx)
    assert (still_pending.confirmed, still_pending.evidence["missing_runs"]) == (False, 1)

    snapshot, ctx = runs.next(_pal_removed())
    [confirmed] = firing(RULE, snapshot, ctx)
    assert (confirmed.confirmed, confirmed.evidence["missing_runs"]) == (True, 2)


def test_pal_of_a_deleted_identity_counts_as_gone_while_the_pal_read_fails() -> None:
    runs = Runs()
    runs.next(healthy_records())

    snapshot, ctx = runs.next(_identity_deleted(), statuses=PAL_FAILED)
    [cand] = firing(RULE, snapshot, ctx)

    assert cand.evidence["missing_runs"] == 1
    assert cand.evidence["cause"] == f"identity {APP} was deleted from the customer tenant"


def test_pal_of_a_disabled_identity_counts_as_gone_with_that_cause() -> None:
    runs = Runs()
    runs.next(healthy_records())
    records = [r for r in healthy_records() if not isinstance(r, Identity)]
    records.append(Identity(customer_tenant_id=TENANT, identity=APP, enabled=False))

    snapshot, ctx = runs.next(records, statuses=PAL_FAILED)
    [cand] = firing(RULE, snapshot, ctx)

    assert cand.evidence["cause"] == f"identity {APP} was disabled"


def test_deleted_identity_is_not_proof_when_the_identity_read_failed_too() -> None:
    runs = Runs()
    runs.next(healthy_records())
    snapshot, ctx = runs.next(_identity_deleted(), statuses=PAL_AND_IDENTITIES_FAILED)

    assert firing(RULE, snapshot, ctx) == []


def test_another_partners_link_disappearing_is_not_our_loss() -> None:
    dpor = Attribution(
        customer_tenant_id=TENANT, workload="m365", attribution_type="DPOR", partner_id=OTHER
    )
    runs = Runs()
    runs.next([*healthy_records(), dpor])
    runs.next(healthy_records())
    snapshot, ctx = runs.next(healthy_records())

    assert runs.state(LinkKind.DPOR, "microsoft").missing_runs == 2
    assert firing(RULE, snapshot, ctx) == []


def test_a_gdap_relationship_that_is_gone_is_a_disappearance() -> None:
    runs = Runs()
    runs.next(healthy_records())
    records = [r for r in healthy_records() if not isinstance(r, GdapRelationship)]
    snapshot, ctx = runs.next(records)

    [cand] = firing(RULE, snapshot, ctx)

    assert (cand.link_kind, cand.link_id) == (LinkKind.GDAP, "tenant|rel-1|self")
    assert cand.evidence["cause"] == "the relationship no longer exists"


@pytest.mark.parametrize("status", [GdapStatus.TERMINATED, GdapStatus.EXPIRED])
def test_a_gdap_relationship_that_ended_is_one_finding_gdap_ended_not_two(
    status: GdapStatus,
) -> None:
    """One cause, one finding: a terminated (or expired) relationship is gdap_ended's; the
    GDAP link it carried does not disappear a second time here."""
    runs = Runs()
    runs.next(healthy_records())
    for _ in range(2):
        snapshot, ctx = runs.next(_gdap_only(status))

        assert [c for c in evaluate(RULE, snapshot, ctx) if c.link_kind == LinkKind.GDAP] == []
        assert len(evaluate(gdap_ended.RULE, snapshot, ctx)) == 1
    assert runs.state(LinkKind.GDAP, "rel-1").missing_runs == 2


def test_gdap_in_an_unrecognised_status_never_disappears() -> None:
    # guarantee proven-absence: "unknownFutureValue" or any new string is stored as unknown and proves nothing.
    runs = Runs()
    runs.next(healthy_records())
    for _ in range(3):
        snapshot, ctx = runs.next(_gdap_only(GdapStatus.UNKNOWN, raw="unknownFutureValue"))
        assert firing(RULE, snapshot, ctx) == []
    assert runs.state(LinkKind.GDAP, "rel-1").missing_runs == 0


def test_fingerprint_is_stable_across_two_evaluations() -> None:
    runs = Runs()
    runs.next(healthy_records())
    snapshot, ctx = runs.next(_pal_removed())

    first = fingerprints(firing(RULE, snapshot, ctx), ctx)
    again = fingerprints(firing(RULE, snapshot, ctx), ctx)

    assert first == again
    assert len(first) == 1


def test_rule_has_no_source_gate_so_a_deleted_identity_is_seen_while_pal_fails() -> None:
    # Completeness is judged per link when presence is tracked; a gate on arm.pal would hide
    # exactly the case where an identity was deleted and can no longer read its own PAL.
    assert RULE.meta.id == "link_disappeared"
    assert RULE.meta.required_sources == ()


PAL_WAVE = Anomaly(AnomalyScope.LINK_KIND, "pal", known=25, gone=20)


def test_miss_counted_during_a_source_anomaly_is_suspect_until_a_calm_run_proves_it() -> None:
    """guarantee mass-loss-guard: held while the anomaly touches it; released by the next calm run that still sees
    the link gone (and, with K = 2, confirmed by it)."""
    runs = Runs(k=2)
    runs.next(healthy_records())

    snapshot, ctx = runs.next(_pal_removed(), anomalies=(PAL_WAVE,))
    [held] = firing(RULE, snapshot, ctx)
    assert (held.suspect, held.confirmed) == (True, False)
    assert held.evidence["held_since_run"] == ctx.run_id
    assert held.evidence["held_because"] == "20 of 25 PAL links (80 %) vanished in one run"

    snapshot, ctx = runs.next(_pal_removed())
    [released] = firing(RULE, snapshot, ctx)
    assert (released.suspect, released.confirmed) == (False, True)
    assert "held_since_run" not in released.evidence


def test_held_miss_stays_suspect_through_a_run_that_proves_nothing() -> None:
    runs = Runs(k=1)
    runs.next(healthy_records())
    runs.next(_pal_removed(), anomalies=(PAL_WAVE,))

    snapshot, ctx = runs.next(healthy_records(), statuses=PAL_AND_IDENTITIES_FAILED)
    [still] = firing(RULE, snapshot, ctx)

    assert still.suspect is True, "not released before a run confirms it"


def test_anomaly_of_another_kind_holds_nothing_here() -> None:
    runs = Runs(k=1)
    runs.next(healthy_records())
    cpor_wave = Anomaly(AnomalyScope.LINK_KIND, "cpor", known=30, gone=10)

    snapshot, ctx = runs.next(_pal_removed(), anomalies=(cpor_wave,))
    [cand] = firing(RULE, snapshot, ctx)

    assert (cand.suspect, cand.confirmed) == (False, True)


def test_link_of_ours_that_this_run_could_not_read_is_unknown() -> None:
    """So that a finding about it neither resolves nor advances on a run that judged nothing."""
    runs = Runs()
    runs.next(healthy_records())
    snapshot, ctx = runs.next(healthy_records(), statuses=PAL_AND_IDENTITIES_FAILED)

    [cand] = unknown(RULE, snapshot, ctx)

    assert cand.link_id == f"azure:{SUB}|{APP}|{HQ}"


def test_remediation_follows_the_cause() -> None:
    runs = Runs(k=1)
    runs.next(healthy_records())
    snapshot, ctx = runs.next(_identity_deleted(), statuses=PAL_FAILED)
    [deleted] = firing(RULE, snapshot, ctx)

    assert deleted.remediation is not None
    assert deleted.remediation.startswith(
        f"Re-create the service principal of {APP} in Alpine Dairy Co-op's tenant"
    )
    assert f"az managementpartner create --partner-id {HQ}" in deleted.remediation

    runs = Runs(k=1)
    runs.next(healthy_records())
    gone = [r for r in healthy_records() if not isinstance(r, GdapRelationship)]
    snapshot, ctx = runs.next(gone)
    [gdap_gone] = firing(RULE, snapshot, ctx)
    assert gdap_gone.remediation is not None
    assert gdap_gone.remediation.startswith("Send Alpine Dairy Co-op a new GDAP relationship")


def test_a_carried_read_is_no_new_proof_of_absence() -> None:
    """A scope the change feed carries stands on an earlier read: it keeps a link seen there,
    and repeats an absence without counting it again."""
    sold = CspSubscription(
        customer_tenant_id=TENANT,
        subscription_id="e1",
        offer_name="M365",
        status="active",
        partner_id=HQ,
    )
    carried = with_status(all_complete(), {key(Source.PC_SUBSCRIPTIONS): "carried"})
    runs = Runs(k=2)
    runs.next([*healthy_records(), sold])
    snapshot, ctx = runs.next([*healthy_records(), sold], statuses=carried)
    assert firing(RULE, snapshot, ctx) == []
    state = runs.state(LinkKind.INDIRECT_RESELLER, "partner-center")
    assert state.last_seen_run_id == ctx.run_id, "carried: still present, as the feed vouches"

    snapshot, ctx = runs.next(healthy_records())  # a complete read without it: one miss
    [pending] = firing(RULE, snapshot, ctx)
    assert pending.evidence["missing_runs"] == 1
    for _ in range(2):
        snapshot, ctx = runs.next(healthy_records(), statuses=carried)
        [still] = firing(RULE, snapshot, ctx)
        assert (still.evidence["missing_runs"], still.confirmed) == (1, False)
    snapshot, ctx = runs.next(healthy_records())
    [confirmed] = firing(RULE, snapshot, ctx)
    assert (confirmed.evidence["missing_runs"], confirmed.confirmed) == (2, True)
