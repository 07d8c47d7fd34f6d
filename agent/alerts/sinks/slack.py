"""Slack incoming webhooks: Block Kit blocks plus a plain ``text`` (notifications and screen
readers use it).

Slack answers ``200 ok``, 4xx with a reason word (``invalid_payload``, ``channel_not_found``,
``no_service``) and 429 with ``Retry-After``. Limits: header text 150 characters, a section's
text 3,000, 50 blocks. Every value the agent did not write goes through ``for_slack`` (``&``,
``<``, ``>`` escaped: no ``<!channel>`` or ``<http://x|y>`` can form from a name), mrkdwn is
``verbatim`` (no auto-linked addresses or mentions) and nothing is unfurled.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from agent.alerts.message import Message
from agent.alerts.sinks.base import DeliveryResult, HttpSink, clip
from agent.alerts.sinks.config import HttpSinkBase
from agent.escape import for_slack


class SlackSinkConfig(HttpSinkBase):
    """A Slack incoming webhook (``https://hooks.slack.com/services/...``)."""

    type: Literal["slack"]


def _mrkdwn(text: str) -> dict[str, Any]:
    """A mrkdwn text object Slack shows as written: no auto-linked URLs, channels or users."""
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def _fitted(text: str, limit: int) -> str:
    """``for_slack(text)`` within ``limit`` characters as escaped (``&lt;`` counts four), so
    that a name full of ``<`` cannot push a block over Slack's limit and get it refused."""
    size = limit
    while True:
        escaped = for_slack(clip(text, size))
        if len(escaped) <= limit or size <= 1:
            return escaped
        size -= len(escaped) - limit


def _items_text(message: Message) -> str:
    lines: list[str] = []
    used = 0
    for item in message.items:
        line = f"• *{for_slack(item.severity)}* " + for_slack(
            clip(f"{item.customer}: {item.title}", 280)
        )
        if used + len(line) + 1 > 2900:
            break
        lines.append(line)
        used += len(line) + 1
    return "\n".join(lines)


def payload(message: Message) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {
                "type": "plain_text",
                "text": _fitted(message.title, 150),
                "emoji": False,
            },
        },
        {
            "type": "section",
            "fields": [
                _mrkdwn(f"*Rule*\n{for_slack(message.rule_title)}"),
                _mrkdwn(f"*Severity*\n{for_slack(message.severity)}"),
                _mrkdwn(f"*Findings*\n{message.total}"),
            ],
        },
        {"type": "section", "text": _mrkdwn(_items_text(message))},
    ]
    if message.omitted:
        blocks.append({"type": "context", "elements": [_mrkdwn(message.more_text())]})
    blocks.append(
        {
            "type": "context",
            "elements": [
                _mrkdwn(
                    f"dedup key `{for_slack(message.dedup_key)}`"
                    + (f" · run {message.run_id}" if message.run_id else "")
                )
            ],
        }
    )
    return {
        "text": for_slack(clip(f"{message.headline()}: {message.summary()}", 2900)),
        "blocks": blocks,
        "unfurl_links": False,
        "unfurl_media": False,
    }


class SlackSink(HttpSink):
    kind = "slack"

    async def send(self, message: Message) -> DeliveryResult:
        body = json.dumps(payload(message), ensure_ascii=False).encode("utf-8")
        return await self.post(body, {"Content-Type": "application/json"})
