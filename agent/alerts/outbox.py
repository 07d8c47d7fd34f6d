"""Planning the notification outbox inside the audit's transaction.

``plan_and_enqueue`` runs on the outbox book of the audit's own transaction, so the findings
and the messages about them commit or roll back together. Decisions come from the findings'
current state and each sink's notification log, both read through the repository; the rows it
writes go back through it. Claiming and recording deliveries are the store's
(:meth:`agent.store.Store.claim_outbox`, :meth:`agent.store.Store.record_delivery`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from agent.alerts.config import AlertsConfig
from agent.alerts.decide import History, decide, routes, view_of
from agent.alerts.grouping import group_messages
from agent.alerts.message import Action, AlertItem, Message
from agent.alerts.sinks.config import SinkBase
from agent.store.alert_models import AlertOutbox
from agent.store.models import Finding
from agent.store.repository import OutboxBook, SinkHistory


class CustomerLike(Protocol):
    """What routing needs of ``agent.expectations.ManagedCustomer``."""

    @property
    def tenant_id(self) -> str: ...

    @property
    def tags(self) -> tuple[str, ...]: ...


def tags_by_tenant(customers: Iterable[CustomerLike]) -> dict[str, tuple[str, ...]]:
    """tenant id → tags, from the managed-customers file's rows."""
    return {c.tenant_id.lower(): tuple(c.tags) for c in customers}


@dataclass(slots=True)
class PlanSummary:
    run_id: int | None
    messages: int = 0
    by_sink: dict[str, int] = field(default_factory=dict)
    by_action: dict[str, int] = field(default_factory=dict)
    """Finding-level sends by action (first/new/repeat/resolved), across sinks."""
    outbox_ids: list[int] = field(default_factory=list)


def enqueue(
    book: OutboxBook,
    message: Message,
    *,
    sink: str,
    now: datetime,
    run_id: int | None,
) -> AlertOutbox:
    """Write one outbox row in the book's transaction; the dispatcher sends it later."""
    return book.enqueue(
        dedup_key=message.dedup_key,
        kind=message.kind.value,
        sink=sink,
        payload=message.to_json(),
        now=now,
        run_id=run_id,
    )


def _item(finding: Finding) -> AlertItem:
    return AlertItem(
        fingerprint=finding.fingerprint,
        rule=finding.rule,
        severity=str(finding.severity),
        status=str(finding.status),
        title=finding.title,
        subject=finding.subject,
        customer_tenant_id=finding.customer_tenant_id,
        customer_name=finding.customer_name,
        link_kind=finding.link_kind,
        remediation=finding.remediation,
        first_seen=finding.first_seen,
    )


def plan_and_enqueue(
    book: OutboxBook,
    *,
    run_id: int | None,
    now: datetime,
    config: AlertsConfig,
    rule_titles: Mapping[str, str],
    customer_tags: Mapping[str, Sequence[str]] | None = None,
    page_url: str | None = None,
) -> PlanSummary:
    """Decide, group and enqueue every message this run calls for, in ``book``'s transaction.

    Call it at the end of the audit, in the audit's own write transaction (after its last
    batch of findings is written). ``rule_titles`` names each rule in the messages (a rule
    missing there is named after its id); ``page_url`` (``[http] public_url``) makes each
    message link to its finding on the daemon's page. Calling it twice for one run enqueues
    nothing the second time.
    """
    summary = PlanSummary(run_id=run_id)
    sinks = [s for s in config.sinks if s.enabled]
    if not sinks:
        return summary
    tags = {k.lower(): tuple(v) for k, v in (customer_tags or {}).items()}
    findings = book.candidates()
    histories = book.histories([f.fingerprint for f in findings])
    items: dict[str, AlertItem] = {}
    for sink in sinks:
        decided: list[tuple[AlertItem, Action]] = []
        for finding in findings:
            if not routes(sink, view_of(finding), tags):
                continue
            action = _decide(book, config, sink, finding, histories, now)
            if action is not None:
                item = items.get(finding.fingerprint) or _item(finding)
                items[finding.fingerprint] = item
                decided.append((item, action))
        actions = {item.fingerprint: action for item, action in decided}
        for message in group_messages(
            decided,
            max_items=max(len(decided), 1) if sink.lists_every_finding else config.group_max_items,
            run_id=run_id,
            now=now,
            rule_titles=rule_titles,
            page_url=page_url,
        ):
            _enqueue_and_remember(book, summary, message, sink.name, actions, now)
    book.flush()
    return summary


def _enqueue_and_remember(
    book: OutboxBook,
    summary: PlanSummary,
    message: Message,
    sink: str,
    actions: Mapping[str, Action],
    now: datetime,
) -> None:
    """Enqueue one message for ``sink``, count it, and note in the sink's notification log
    what it says of each finding (its outbox row referenced)."""
    run_id = summary.run_id
    row = enqueue(book, message, sink=sink, now=now, run_id=run_id)
    assert row.id is not None
    summary.messages += 1
    summary.outbox_ids.append(row.id)
    summary.by_sink[sink] = summary.by_sink.get(sink, 0) + 1
    for fp in message.fingerprints:
        action = actions[fp]
        summary.by_action[action.value] = summary.by_action.get(action.value, 0) + 1
        book.remember(
            fp,
            sink,
            action=action.value,
            open_episode=action is not Action.RESOLVED,
            now=now,
            outbox_id=row.id,
            run_id=run_id,
        )


def _decide(
    book: OutboxBook,
    config: AlertsConfig,
    sink: SinkBase,
    finding: Finding,
    histories: Mapping[tuple[str, str], SinkHistory],
    now: datetime,
) -> Action | None:
    """What ``sink`` must be sent about ``finding`` now (``None``: nothing), from the
    sink's notification log; a resolve the sink does not take closes the episode."""
    known = histories.get((finding.fingerprint, sink.name))
    history = (
        None
        if known is None
        else History(Action(known.last_action), known.last_at, known.open_episode)
    )
    decision = decide(
        view_of(finding),
        history,
        now=now,
        repeat_interval=config.repeat_interval,
        silences=config.silences,
        send_resolved=sink.send_resolved,
    )
    if decision.close_episode and known is not None:
        book.close_episode(finding.fingerprint, sink.name)
    return decision.action if decision.sends else None
