"""Grouping per cycle and rule (guarantee grouping-silences): one sink's decisions of one run become
few messages.

Findings of one rule that need the same kind of message in the same run go out together: one
message with the count, the first ``max_items`` findings and "and N more". A lone finding
gets a message of its own, keyed by its fingerprint (guarantee dedup-and-repeat). Pure: no I/O, no
clock.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime

from agent.alerts.message import Action, AlertItem, Kind, Message, kind_of, verb
from agent.alerts.settings import severity_rank
from agent.web.paths import absolute, finding_path, findings_path

_BUCKET = {
    Action.FIRST: Action.FIRST,
    Action.NEW: Action.FIRST,
    Action.REPEAT: Action.REPEAT,
    Action.RESOLVED: Action.RESOLVED,
}


def _sort_key(item: AlertItem) -> tuple[int, str, str]:
    return (severity_rank(item.severity), item.customer or "", item.fingerprint)


def idempotency_key(dedup_key: str, kind: Kind, run_id: int | None, now: datetime) -> str:
    """Dedup key + kind + the run: stable across retries of one message, distinct for a repeat
    or a new episode in a later run (a key of dedup key + kind alone would make a receiver drop
    every legitimate repeat)."""
    occasion = f"r{run_id}" if run_id is not None else f"t{int(now.timestamp())}"
    return f"{dedup_key}:{kind.value}:{occasion}"


def group_key(rule: str, action: Action, fingerprints: Sequence[str]) -> str:
    text = "|".join(("group", rule, action.value, *sorted(fingerprints)))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def single(
    item: AlertItem,
    action: Action,
    *,
    run_id: int | None,
    now: datetime,
    rule_title: str,
    page_url: str | None = None,
) -> Message:
    kind = kind_of(action)
    return Message(
        dedup_key=item.fingerprint,
        idempotency_key=idempotency_key(item.fingerprint, kind, run_id, now),
        kind=kind,
        action=action,
        rule=item.rule,
        rule_title=rule_title,
        severity=item.severity,
        title=f"{verb(action)}: {item.title}"[:250],
        total=1,
        items=(item,),
        fingerprints=(item.fingerprint,),
        run_id=run_id,
        created_at=now,
        link=absolute(page_url, finding_path(item.fingerprint)) if page_url else None,
    )


def group_messages(
    decided: Sequence[tuple[AlertItem, Action]],
    *,
    max_items: int,
    run_id: int | None,
    now: datetime,
    rule_titles: Mapping[str, str] | None = None,
    page_url: str | None = None,
) -> list[Message]:
    """One sink's sends of one run, grouped by (rule, first|repeat|resolved); with
    ``page_url`` (``[http] public_url``) each message links to its finding (a group: to its
    rule's findings) on the daemon's page."""
    titles = rule_titles or {}
    buckets: dict[tuple[str, Action], list[tuple[AlertItem, Action]]] = defaultdict(list)
    for item, action in decided:
        if action is Action.SKIP:
            continue
        buckets[(item.rule, _BUCKET[action])].append((item, action))
    messages: list[Message] = []
    for (rule, bucket), members in sorted(
        buckets.items(), key=lambda kv: (kv[0][0], kv[0][1].value)
    ):
        title = titles.get(rule, rule.replace("_", " "))
        if len(members) == 1:
            item, action = members[0]
            messages.append(
                single(item, action, run_id=run_id, now=now, rule_title=title, page_url=page_url)
            )
            continue
        items = sorted((item for item, _a in members), key=_sort_key)
        fingerprints = tuple(item.fingerprint for item in items)
        dedup = group_key(rule, bucket, fingerprints)
        what = {Action.FIRST: "new", Action.REPEAT: "still firing", Action.RESOLVED: "resolved"}[
            bucket
        ]
        messages.append(
            Message(
                dedup_key=dedup,
                idempotency_key=idempotency_key(dedup, Kind.GROUP, run_id, now),
                kind=Kind.GROUP,
                action=bucket,
                rule=rule,
                rule_title=title,
                severity=min((i.severity for i in items), key=severity_rank),
                title=f"{len(items)} {what} findings: {title}",
                total=len(items),
                items=tuple(items[:max_items]),
                omitted=max(0, len(items) - max_items),
                fingerprints=fingerprints,
                run_id=run_id,
                created_at=now,
                link=absolute(page_url, findings_path(rule)) if page_url else None,
            )
        )
    return messages
