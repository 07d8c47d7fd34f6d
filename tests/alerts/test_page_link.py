"""Alerts link to the finding on the daemon's page when ``[http] public_url`` is set: the link
rides in the shared message (its ``link`` and the summary every sink shows), so Teams, Slack,
e-mail and the webhook all carry it without a line of their own."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from agent.alerts.grouping import group_messages
from agent.alerts.message import SUMMARY_LIMIT, Action, AlertItem, Message
from agent.alerts.sinks import email, slack, teams, webhook

NOW = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)
PAGE = "https://partnerlink.example.com"


def item(n: int, *, name: str = "Contoso") -> AlertItem:
    return AlertItem(
        fingerprint=f"{n:04d}" + "ab" * 14,
        rule="link_missing",
        severity="high",
        status="open",
        title=f"PAL missing for customer {n}",
        customer_tenant_id=f"tenant-{n:04d}",
        customer_name=name,
    )


def messages(*items: AlertItem, page_url: str | None = PAGE) -> list[Message]:
    decided = [(i, Action.FIRST) for i in items]
    titles = {"link_missing": "Link missing"}
    return group_messages(
        decided, max_items=10, run_id=7, now=NOW, rule_titles=titles, page_url=page_url
    )


def test_a_single_finding_links_to_its_page_and_a_group_to_its_rules_findings() -> None:
    (one,) = messages(item(1))
    assert one.link == f"{PAGE}/findings/{item(1).fingerprint}"
    assert one.summary() == f"Contoso (tenant-0001) · high · Link missing · {one.link}"
    (group,) = messages(item(1), item(2))
    assert group.link == f"{PAGE}/findings?rule=link_missing"
    assert group.summary().endswith(f"· {group.link}")


def test_without_a_public_url_there_is_no_link() -> None:
    (one,) = messages(item(1), page_url=None)
    assert one.link is None
    assert "http" not in one.summary()
    assert Message.from_json(one.to_json()) == one, "kept in the outbox as it was"


def test_a_long_name_is_cut_short_before_the_link_is() -> None:
    (one,) = messages(item(1, name="N" * 600))
    summary = one.summary()
    assert len(summary) <= SUMMARY_LIMIT
    assert summary.endswith(f"… · {one.link}")


def test_every_sink_carries_the_link() -> None:
    (one,) = messages(item(1))
    path = f"/findings/{item(1).fingerprint}"
    assert json.loads(webhook.body(one))["link"] == one.link
    assert path in json.dumps(teams.payload(one)), "Teams: in the card's summary line"
    assert one.link in slack.payload(one)["text"]
    assert one.link in email.plain_text(one) and one.link in email.html_text(one)
