"""The store on SQLite and PostgreSQL: UTC round trip, migrations, load and soft deletion."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import inspect, select

from agent.store import RunStatus, ScopeResult, ScopeStatus, Store
from agent.store.engine import MIGRATIONS, at_head, downgrade, head_revision, make_engine, migrate
from agent.store.models import Observation, ObservationEvent, SyncRun
from connectors.records.customers import Customer
from connectors.records.pal import PalLink

KINDS = (PalLink.KIND,)


def _pal(tenant: str, identity: str, partner: str | None) -> PalLink:
    return PalLink(
        customer_tenant_id=tenant, identity=identity, partner_id=partner, subscriptions=("s1",)
    )


def _complete(records: list[PalLink], tenant: str = "t1") -> ScopeResult:
    return ScopeResult(
        source="arm.pal",
        scope=f"{tenant}/partner-app",
        customer_tenant_id=tenant,
        kinds=KINDS,
        status=ScopeStatus.COMPLETE,
        records=records,
    )


def _failed(tenant: str = "t1") -> ScopeResult:
    return ScopeResult(
        source="arm.pal",
        scope=f"{tenant}/partner-app",
        customer_tenant_id=tenant,
        kinds=KINDS,
        status=ScopeStatus.FAILED,
        error_kind="auth",
        error="403",
    )


def test_datetimes_come_back_aware_and_in_utc(store: Store) -> None:
    plus_two = datetime(2026, 3, 29, 3, 30, tzinfo=timezone(timedelta(hours=2)))
    run_id = store.start_run(plus_two)
    run = store.run(run_id)
    assert run is not None
    assert run.started_at.tzinfo is not None
    assert run.started_at == plus_two
    assert run.started_at.utcoffset() == timedelta(0)


def test_naive_datetimes_are_refused(store: Store) -> None:
    with pytest.raises(Exception, match="naive datetime"):
        store.start_run(datetime(2026, 1, 1))


def test_migrations_go_down_and_up_again(store_url: str) -> None:
    engine = make_engine(store_url)
    migrate(engine)
    downgrade(engine, "base")
    assert "observation" not in inspect(engine).get_table_names()
    migrate(engine)
    assert "observation" in inspect(engine).get_table_names()
    engine.dispose()


def test_the_head_revision_read_from_the_file_names_is_alembics() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert head_revision() == ScriptDirectory.from_config(config).get_current_head()


def test_a_store_at_the_head_opens_without_alembic(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The schema is checked with one query; alembic runs only where there is work for it."""
    from alembic import command

    upgrades: list[str] = []
    real = command.upgrade
    monkeypatch.setattr(command, "upgrade", lambda cfg, rev: upgrades.append(rev) or real(cfg, rev))
    engine = make_engine(store_url)
    try:
        assert not at_head(engine)  # a fresh store: no schema yet
        migrate(engine, "0007")
        assert not at_head(engine)
        migrate(engine)
        assert at_head(engine)
        assert upgrades == ["0007", "head"]
        migrate(engine)
        Store.open(store_url).close()
        assert upgrades == ["0007", "head"]
    finally:
        engine.dispose()


def test_complete_read_adds_changes_and_soft_deletes(store: Store) -> None:
    t = datetime(2026, 11, 1, tzinfo=UTC)
    r1 = store.start_run(t)
    store.save(r1, [_complete([_pal("t1", "partner-app", "4100002")])], t)
    r2 = store.start_run(t + timedelta(days=1))
    stats = store.save(
        r2, [_complete([_pal("t1", "partner-app", "9999999")])], t + timedelta(days=1)
    )
    assert (stats.added, stats.changed) == (0, 1)
    r3 = store.start_run(t + timedelta(days=2))
    stats = store.save(r3, [_complete([])], t + timedelta(days=2))
    assert stats.removed == 1
    with store.read() as s:
        rows = list(s.scalars(select(Observation)))
        changes = [
            e.change for e in s.scalars(select(ObservationEvent).order_by(ObservationEvent.id))
        ]
    assert len(rows) == 1, "history is never hard-deleted (guarantee soft-delete)"
    assert rows[0].removed_at == t + timedelta(days=2)
    assert rows[0].first_seen_at == t
    assert changes == ["added", "changed", "removed"]
    assert store.current(customers=["t1"]) == []


def test_failed_read_leaves_stored_records_untouched(store: Store) -> None:
    t = datetime(2026, 11, 1, tzinfo=UTC)
    r1 = store.start_run(t)
    store.save(r1, [_complete([_pal("t1", "partner-app", "4100002")])], t)
    r2 = store.start_run(t + timedelta(days=1))
    store.save(r2, [_failed()], t + timedelta(days=1))
    with store.read() as s:
        row = s.scalars(select(Observation)).one()
    assert row.removed_at is None
    assert row.last_seen_at == t, (
        "a failed read must not age what was stored (guarantee failed-read)"
    )
    assert row.last_run_id == r1
    statuses = store.statuses(r2)
    assert statuses[("arm.pal", "t1/partner-app")].status == "failed"


def test_soft_deletion_is_scoped_to_the_read_scope(store: Store) -> None:
    t = datetime(2026, 11, 1, tzinfo=UTC)
    r1 = store.start_run(t)
    store.save(
        r1,
        [
            _complete([_pal("t1", "partner-app", "1")], "t1"),
            _complete([_pal("t2", "partner-app", "1")], "t2"),
        ],
        t,
    )
    r2 = store.start_run(t)
    store.save(r2, [_complete([], "t1")], t)
    current = {o.record.customer_tenant_id for o in store.current()}
    assert current == {"t2"}, "a complete read of t1 removes nothing of t2 (guarantee soft-delete)"


def test_identical_resync_changes_nothing_but_last_seen(store: Store) -> None:
    t = datetime(2026, 11, 1, tzinfo=UTC)
    records = [_pal("t1", "partner-app", "4100002"), _pal("t1", "carrier", None)]
    store.save(store.start_run(t), [_complete(records)], t)
    with store.read() as s:
        before = [
            (o.id, o.payload, o.payload_hash, o.first_seen_at)
            for o in s.scalars(select(Observation).order_by(Observation.id))
        ]
    stats = store.save(store.start_run(t), [_complete(list(reversed(records)))], t)
    with store.read() as s:
        after = [
            (o.id, o.payload, o.payload_hash, o.first_seen_at)
            for o in s.scalars(select(Observation).order_by(Observation.id))
        ]
        events = len(list(s.scalars(select(ObservationEvent))))
    assert before == after
    assert (stats.added, stats.changed, stats.removed, stats.unchanged) == (0, 0, 0, 2)
    assert events == 2, "only the two first additions (guarantee idempotent-sync)"


def test_a_write_that_fails_midway_leaves_the_previous_snapshot(store: Store) -> None:
    t = datetime(2026, 11, 1, tzinfo=UTC)
    store.save(store.start_run(t), [_complete([_pal("t1", "partner-app", "4100002")])], t)
    broken = Customer(tenant_id="t1", name="x" * 10)
    object.__setattr__(broken, "name", object())  # cannot be encoded: the transaction aborts
    r2 = store.start_run(t)
    with pytest.raises(Exception):
        store.save(
            r2,
            [
                _complete([_pal("t1", "partner-app", "1111111")]),
                ScopeResult(
                    source="partner_center.customers",
                    scope="partner",
                    customer_tenant_id=None,
                    kinds=(Customer.KIND,),
                    status=ScopeStatus.COMPLETE,
                    records=[broken],
                ),
            ],
            t,
        )
    [obs] = store.current(customers=["t1"])
    assert isinstance(obs.record, PalLink)
    assert obs.record.partner_id == "4100002", (
        "all or nothing per customer (guarantee atomic-customer)"
    )
    assert store.statuses(r2) == {}


def test_interrupted_runs_become_incomplete_and_are_never_audited(store: Store) -> None:
    t = datetime(2026, 11, 1, tzinfo=UTC)
    done = store.start_run(t)
    store.finish_run(done, RunStatus.COMPLETE, t)
    store.start_run(t)  # the process "dies" here
    assert store.abandon_interrupted(t) != []
    last = store.last_finished_run()
    assert last is not None
    assert last.id == done
    with store.read() as s:
        statuses = [r.status for r in s.scalars(select(SyncRun).order_by(SyncRun.id))]
    assert statuses == ["complete", "incomplete"]


def test_sqlite_file_is_private_to_its_owner(tmp_path) -> None:  # type: ignore[no-untyped-def]
    db = tmp_path / "sub" / "agent.db"
    opened = Store.open(f"sqlite:///{db}")
    opened.start_run(datetime(2026, 1, 1, tzinfo=UTC))
    opened.close()
    for path in (db, db.with_name("agent.db-wal"), db.with_name("agent.db-shm")):
        if path.exists():
            assert path.stat().st_mode & 0o777 == 0o600, path
