"""Slack incoming webhooks: Block Kit blocks plus a plain ``text`` (notifications and screen
readers use it).

Slack answers ``200 ok``, 4xx with a reason word (``invalid_payload``, ``channel_not_found``,
``no_service``) and 429 with ``Retry-After``. Limits: header text 150 characters, a section's
text 3,000, 50 blocks; mrkdwn needs ``&``, ``<`` and ``>`` escaped.
"""

from __future__ import annotations

import json
from typing import Any

from agent.alerts.message import Message
from agent.alerts.sinks.base import DeliveryResult, HttpSink, clip


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _items_text(message: Message) -> str:
    lines: list[str] = []
    used = 0
    for item in message.items:
        line = clip(f"• *{item.severity}* {escape(item.customer)}: {escape(item.title)}", 300)
        if used + len(line) + 1 > 2900:
            break
        lines.append(line)
        used += len(line) + 1
    return "\n".join(lines)


def payload(message: Message) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": clip(message.title, 150), "emoji": False},
        },
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": f"*Rule*\n{escape(message.rule_title)}"},
                {"type": "mrkdwn", "text": f"*Severity*\n{message.severity}"},
                {"type": "mrkdwn", "text": f"*Findings*\n{message.total}"},
            ],
        },
        {"type": "section", "text": {"type": "mrkdwn", "text": _items_text(message)}},
    ]
    if message.omitted:
        blocks.append(
            {"type": "context", "elements": [{"type": "mrkdwn", "text": message.more_text()}]}
        )
    blocks.append(
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": f"dedup key `{message.dedup_key}`"
                    + (f" · run {message.run_id}" if message.run_id else ""),
                }
            ],
        }
    )
    return {"text": clip(f"{message.headline()}: {message.summary()}", 3000), "blocks": blocks}


class SlackSink(HttpSink):
    kind = "slack"

    async def send(self, message: Message) -> DeliveryResult:
        body = json.dumps(payload(message), ensure_ascii=False).encode("utf-8")
        return await self.post(body, {"Content-Type": "application/json"})
