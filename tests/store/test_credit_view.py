"""The credit view the audit keeps (``credit_line``): read back, it is the view judged live,
row for row and in the same order, filtered the same way and summed to the same figures, on the
demo world and on a generated estate, on SQLite and PostgreSQL; it is served only for the last
finished run under the same partner IDs and rulebook; a new audit replaces it."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from agent.app import Agent
from agent.config import load_settings
from agent.recognition.holdings import Us
from agent.recognition.model import Rulebook
from agent.recognition.summary import from_json, summarize
from agent.recognition.view import judged, opened
from agent.store import CreditFilter
from agent.store.repository.tables import CREDIT_LINE
from tests.conftest import Clock
from tests.recognition.estate import write_world


@pytest.fixture
def agent(tmp_path: Path, store_url: str, clock: Clock) -> Iterator[Agent]:
    with Agent(load_settings(write_world(tmp_path, "demo", store_url)), clock=clock) as agent:
        agent.cycle()
        yield agent


def _us(agent: Agent) -> tuple[Us, Rulebook]:
    ctx = agent.audit_context(agent.clock(), 0, credentials=False)
    return Us.from_context(ctx), ctx.rulebook


def _kept_lines(agent: Agent) -> list[tuple[int, int]]:
    c = CREDIT_LINE.c
    with agent.store.read() as s:
        query = select(c.run_id, func.count()).group_by(c.run_id)
        return [(int(run), int(n)) for run, n in s.execute(query)]


@pytest.mark.parametrize("world", ["demo", "150"])
def test_the_kept_view_is_the_live_view_row_for_row_filtered_and_summed(
    tmp_path: Path, store_url: str, clock: Clock, world: str
) -> None:
    with Agent(load_settings(write_world(tmp_path, world, store_url)), clock=clock) as agent:
        agent.cycle()
        us, book = _us(agent)
        rows = judged(agent.store, us, book, CreditFilter())
        tenants = sorted({r.customer_tenant_id for r in rows})[:3]
        choices = [
            CreditFilter(),
            CreditFilter(customers=tenants),
            CreditFilter(areas=["modern_work", "security"]),
            CreditFilter(not_counting=True),
            CreditFilter(customers=tenants[:1], areas=["data_ai"], not_counting=True),
        ]
        for chosen in choices:
            with opened(
                agent.store,
                us,
                book,
                customers=chosen.customers,
                areas=chosen.areas,
                not_counting=chosen.not_counting,
            ) as view:
                assert view.kept, chosen
                live = judged(agent.store, us, book, chosen)
                assert view.count() == len(live), chosen
                assert view.summary(top=5) == summarize(live, top=5), chosen
                assert view.summary() == summarize(live), chosen  # the kept one, if whole
                assert view.rows() == live, chosen
    assert len(rows) > (100 if world == "demo" else 200)
    assert {r.line.counts_for_us for r in rows} == {True, False, None}


def test_a_changed_partner_id_or_a_run_not_audited_yet_is_judged_live(agent: Agent) -> None:
    us, book = _us(agent)
    with opened(agent.store, us, book) as view:
        assert view.kept
        kept = view.rows()
    other = dataclasses.replace(us, partner_ids=us.partner_ids | {"4999999"})
    with opened(agent.store, other, book) as view:
        assert not view.kept, "judged under other partner IDs: never served"
    unknown = "c9999999-0000-4000-8000-000000000999"
    with opened(agent.store, us, book, customers=[unknown]) as view:
        assert not view.kept, "a customer the audit kept no lines of"
        assert view.rows() == judged(agent.store, us, book, CreditFilter([unknown]))

    agent.sync()  # a newer run, not audited
    with opened(agent.store, us, book) as view:
        assert not view.kept
        assert view.rows() == kept, "the world did not change"


def test_each_audit_replaces_the_kept_lines_and_none_pile_up(agent: Agent) -> None:
    [(first, lines)] = _kept_lines(agent)
    agent.cycle()
    [(second, again)] = _kept_lines(agent)

    assert second > first and again == lines
    us, book = _us(agent)
    with opened(agent.store, us, book) as view:
        assert view.kept and view.count() == lines


def test_the_audit_keeps_the_whole_views_summary_and_credit_reads_it(
    agent: Agent, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``credit`` on a large estate prints the summary: the audit sums the whole view once,
    and the view serves that; a narrowed view is still summed by the database."""
    from agent.recognition import view as views

    us, book = _us(agent)
    live = summarize(judged(agent.store, us, book, CreditFilter()))
    with opened(agent.store, us, book) as view:
        assert view.kept
        stored = view.stored.kept_summary()  # type: ignore[attr-defined]
        assert stored is not None and from_json(stored) == live
        monkeypatch.setattr(views, "from_store", _refused)
        assert view.summary() == live, "read, not summed again"
    with opened(agent.store, us, book, not_counting=True) as view, pytest.raises(AssertionError):
        view.summary()  # narrowed: summed by the database
    agent.sync()  # a newer run, not audited yet: no kept view, no kept summary
    with opened(agent.store, us, book) as view:
        assert not view.kept


def _refused(*_args: object, **_kwargs: object) -> None:
    raise AssertionError("summed again")
