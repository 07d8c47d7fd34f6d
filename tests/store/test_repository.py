"""The repository's writers for the audit, on SQLite and PostgreSQL: a batch's findings (state
in, decision out, one event per status change), link states with their held miss, and one
transaction that commits or rolls back findings, links and outbox rows together."""

from __future__ import annotations

from datetime import timedelta

import pytest

from agent.store import (
    FindingContent,
    FindingState,
    FindingStatus,
    LinkState,
    StatusChange,
    Store,
)
from tests.conftest import T0

CUSTOMER = "c0000000-0000-4000-8000-000000000001"


def _content(rule: str = "link_missing", customer: str | None = CUSTOMER) -> FindingContent:
    return FindingContent(
        rule=rule,
        severity="high",
        customer_tenant_id=customer,
        customer_name="Alpine" if customer else None,
        subject="PAL on azure",
        link_kind="pal",
        title="PAL missing",
        remediation="Link the partner ID.",
        evidence='{"a": 1}',
        value_at_stake=12.5,
    )


def _state(status: FindingStatus, run_id: int = 1, **kw: object) -> FindingState:
    fields: dict[str, object] = {
        "hits": 1,
        "clears": 0,
        "last_run_id": run_id,
        "first_seen": T0,
        "last_seen": T0,
        **kw,
    }
    return FindingState(status, **fields)  # type: ignore[arg-type]


def _link(key: str, **kw: object) -> LinkState:
    fields: dict[str, object] = {
        "kind": "pal",
        "customer_tenant_id": CUSTOMER,
        "workload": "azure:s1",
        "holder": "4100002",
        "ref": "partner-app",
        "source": "arm.pal",
        "first_seen_at": T0,
        "last_seen_at": T0,
        "last_seen_run_id": 1,
        "dirty": True,
        **kw,
    }
    return LinkState(key=key, **fields)  # type: ignore[arg-type]


def test_a_finding_written_through_the_book_comes_back_as_its_state(store: Store) -> None:
    with store.transaction() as tx:
        book = tx.findings([CUSTOMER])
        assert book.state("fp1") is None
        book.write(
            "fp1",
            _state(FindingStatus.PENDING),
            content=_content(),
            change=StatusChange(None, FindingStatus.PENDING, 1, T0),
        )
        assert book.fingerprints("link_missing", CUSTOMER) == ["fp1"]

    later = T0 + timedelta(days=1)
    with store.transaction() as tx:
        book = tx.findings([CUSTOMER])
        assert book.state("fp1") == _state(FindingStatus.PENDING)
        opened = _state(FindingStatus.OPEN, run_id=2, hits=2, last_seen=later)
        book.write(
            "fp1",
            opened,
            change=StatusChange(FindingStatus.PENDING, opened.status, 2, later, "confirmed"),
        )

    with store.transaction() as tx:
        assert tx.findings([CUSTOMER]).state("fp1") == opened
    (row,) = store.findings()
    assert (row.title, row.evidence, row.value_at_stake) == ("PAL missing", '{"a": 1}', 12.5)
    events = [(e.from_status, e.to_status, e.run_id, e.note) for e in store.finding_events("fp1")]
    assert events == [(None, "pending", 1, None), ("pending", "open", 2, "confirmed")]
    assert store.customers_with_active_findings() == {CUSTOMER}


def test_a_book_holds_the_partners_findings_or_some_customers_never_both(store: Store) -> None:
    with store.transaction() as tx:
        tx.findings(None).write("partner", _state(FindingStatus.OPEN), content=_content("r", None))
        tx.findings([CUSTOMER]).write("theirs", _state(FindingStatus.OPEN), content=_content("r"))
    with store.transaction() as tx:
        assert tx.findings(None).fingerprints("r", None) == ["partner"]
        assert tx.findings(None).state("theirs") is None
        assert tx.findings([CUSTOMER]).fingerprints("r", CUSTOMER) == ["theirs"]
        assert tx.findings(["someone-else"]).state("theirs") is None


def test_a_new_finding_without_its_content_is_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="content"), store.transaction() as tx:
        tx.findings([CUSTOMER]).write("fp1", _state(FindingStatus.OPEN))
    assert store.findings() == []


def test_link_states_keep_their_held_miss_across_a_round_trip(store: Store) -> None:
    with store.transaction() as tx:
        tx.save_links(
            [
                _link(
                    "held", missing_runs=1, last_counted_run_id=3, held_run_id=3, detail={"x": 1}
                ),
                _link("clean", missing_runs=0),
                _link("untouched", dirty=False),
            ]
        )
    states = {s.key: s for s in store.link_states([CUSTOMER])}
    assert set(states) == {"held", "clean"}, "only what the audit changed is written"
    assert (states["held"].held_run_id, states["held"].detail) == (3, {"x": 1})
    assert states["clean"].held_run_id is None
    assert all(not s.dirty for s in states.values())

    with store.transaction() as tx:
        again = states["held"]
        again.held_run_id, again.missing_runs, again.dirty = None, 2, True
        tx.save_links([again])
    (held,) = [s for s in store.link_states([CUSTOMER]) if s.key == "held"]
    assert (held.held_run_id, held.missing_runs) == (None, 2)


def test_findings_links_and_outbox_rows_roll_back_together(store: Store) -> None:
    def audit_that_fails() -> None:
        with store.transaction() as tx:
            tx.findings([CUSTOMER]).write("fp1", _state(FindingStatus.OPEN), content=_content())
            tx.save_links([_link("k")])
            tx.outbox.enqueue(
                dedup_key="fp1", kind="first", sink="hook", payload="{}", now=T0, run_id=1
            )
            raise RuntimeError("the audit failed")

    with pytest.raises(RuntimeError):
        audit_that_fails()
    assert store.findings() == []
    assert store.link_states([CUSTOMER]) == []
    assert store.outbox_counts() == {}


def test_the_audit_stamp_and_its_coverage_are_written_in_the_transaction(store: Store) -> None:
    run_id = store.start_run(T0)
    with store.transaction() as tx:
        tx.mark_audited(run_id, T0 + timedelta(hours=1), coverage={"customers": 3})
    run = store.run(run_id)
    assert run is not None
    assert run.audited_at == T0 + timedelta(hours=1)
    assert '"coverage": {"customers": 3}' in run.stats
