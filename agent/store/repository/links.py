"""Links as the audit derived them, with their presence counted over complete runs."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import and_, or_, select
from sqlmodel import Session, col

from agent.store.models import Link
from agent.store.repository.base import StoreBase
from agent.store.repository.tables import table_of
from agent.store.values import LINK_ROW_FIELDS, LinkRow, LinkState

_HELD_KEY = "_held_run_id"
"""The link table has no column for a held miss: it rides in the detail JSON under this key."""


class LinksMixin(StoreBase):
    def links(
        self,
        customers: Sequence[str] | None = None,
        *,
        unless_held_by: Sequence[str] | None = None,
        wrong_holder: str | None = None,
    ) -> list[Link]:
        """The links (of ``customers``); with ``unless_held_by``, only those held by someone
        else, missed in a run, or (``wrong_holder``) a PAL or CPOR held by that ID: the
        matrix's gaps, found by the database rather than by loading every link."""
        with self.read() as s:
            query = _narrowed(select(Link), customers, unless_held_by, wrong_holder)
            return list(s.scalars(query.order_by(col(Link.id))))

    def link_rows(
        self,
        customers: Sequence[str] | None = None,
        *,
        unless_held_by: Sequence[str] | None = None,
        wrong_holder: str | None = None,
    ) -> list[LinkRow]:
        """The same links as :meth:`links`, as plain values: a view of every link of a large
        estate reads a hundred thousand, and an ORM object each cost more than the view."""
        t = table_of(Link).c
        query = select(*(t[name] for name in LINK_ROW_FIELDS))
        query = _narrowed(query, customers, unless_held_by, wrong_holder)
        with self.read() as s:
            return [LinkRow(*row) for row in s.execute(query.order_by(t.id))]

    def link_states(self, customers: Sequence[str]) -> list[LinkState]:
        """The presence history of these customers' links, for the audit to carry forward."""
        return [_state(link) for link in self.links(customers)]


def _narrowed(
    query: Any,
    customers: Sequence[str] | None,
    unless_held_by: Sequence[str] | None,
    wrong_holder: str | None,
) -> Any:
    if customers is not None:
        query = query.where(col(Link.customer_tenant_id).in_(customers))
    if unless_held_by is not None:
        query = query.where(
            or_(
                col(Link.missing_runs) > 0,
                col(Link.holder).is_(None),
                col(Link.holder).not_in(list(unless_held_by)),
                and_(
                    col(Link.holder) == (wrong_holder or ""),
                    col(Link.kind).in_(("pal", "cpor")),
                ),
            )
        )
    return query


def _state(link: Link) -> LinkState:
    detail: dict[str, Any] = json.loads(link.detail or "{}")
    held = detail.pop(_HELD_KEY, None)
    return LinkState(
        key=link.link_key,
        kind=link.kind,
        customer_tenant_id=link.customer_tenant_id,
        workload=link.workload,
        holder=link.holder,
        ref=link.identity or "",
        source=link.source,
        first_seen_at=link.first_seen_at,
        last_seen_at=link.last_seen_at,
        last_seen_run_id=link.last_seen_run_id,
        missing_runs=link.missing_runs,
        last_counted_run_id=link.last_counted_run_id,
        cause=link.cause,
        detail=detail,
        held_run_id=held,
    )


def save_link_states(session: Session, states: Iterable[LinkState]) -> None:
    """Write back the states this audit changed (``dirty``): new links are added, known ones
    get their presence counts, cause and detail."""
    dirty = [st for st in states if st.dirty]
    if not dirty:
        return
    rows = {
        link.link_key: link
        for link in session.scalars(
            select(Link).where(col(Link.link_key).in_([d.key for d in dirty]))
        )
    }
    for st in dirty:
        row = rows.get(st.key)
        if row is None:
            row = Link(
                link_key=st.key,
                kind=st.kind,
                customer_tenant_id=st.customer_tenant_id,
                workload=st.workload,
                holder=st.holder,
                identity=st.ref,
                source=st.source,
                first_seen_at=st.first_seen_at,
                last_seen_at=st.last_seen_at,
                last_seen_run_id=st.last_seen_run_id,
            )
            session.add(row)
        row.last_seen_at = st.last_seen_at
        row.last_seen_run_id = st.last_seen_run_id
        row.missing_runs = st.missing_runs
        row.last_counted_run_id = st.last_counted_run_id
        row.cause = st.cause
        detail = {**st.detail, _HELD_KEY: st.held_run_id} if st.held_run_id else st.detail
        row.detail = json.dumps(detail, sort_keys=True, default=str)
