"""Microsoft Teams through a Workflows webhook ("When a Teams webhook request is received").

Workflows expects the Bot Framework message envelope: ``{"type": "message", "attachments":
[{"contentType": "application/vnd.microsoft.card.adaptive", "content": <card>}]}`` and answers
202 Accepted. The card is Adaptive Card 1.4, the newest version Teams renders everywhere
(mobile included); Teams refuses cards over about 28 KB, hence the short item lines. Teams reads
``TextBlock`` and ``FactSet`` text as Markdown, so every value the agent did not write goes
through ``for_teams``: no link, image or emphasis forms from a name.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from agent.alerts.message import Action, Message
from agent.alerts.sinks.base import DeliveryResult, HttpSink, clip
from agent.alerts.sinks.config import HttpSinkBase
from agent.escape import for_teams

CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
_COLOR = {
    "critical": "Attention",
    "high": "Attention",
    "medium": "Warning",
    "low": "Accent",
    "info": "Default",
}


class TeamsSinkConfig(HttpSinkBase):
    """Microsoft Teams through a Workflows ("When a Teams webhook request is received") URL."""

    type: Literal["teams"]


def card(message: Message) -> dict[str, Any]:
    """The Adaptive Card 1.4 for ``message``."""
    color = "Good" if message.action is Action.RESOLVED else _COLOR.get(message.severity, "Default")
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": for_teams(clip(message.title, 200)),
            "weight": "Bolder",
            "size": "Medium",
            "wrap": True,
            "color": color,
        },
        {
            "type": "TextBlock",
            "text": for_teams(clip(message.summary(), 400)),
            "wrap": True,
            "isSubtle": True,
            "spacing": "Small",
        },
        {"type": "FactSet", "facts": _facts(message)},
        *(_items(message) if message.total > 1 else _remedy(message)),
        {
            "type": "TextBlock",
            "text": f"dedup key {for_teams(message.dedup_key)}",
            "isSubtle": True,
            "size": "Small",
            "wrap": True,
        },
    ]
    return {
        "$schema": CARD_SCHEMA,
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
        "msteams": {"width": "Full"},
    }


def _facts(message: Message) -> list[dict[str, str]]:
    """Rule, severity and count; for a single finding its customer first and its subject."""
    facts = [
        {"title": "Rule", "value": for_teams(message.rule_title)},
        {"title": "Severity", "value": for_teams(message.severity)},
        {"title": "Findings", "value": str(message.total)},
    ]
    if message.total == 1:
        item = message.items[0]
        facts.insert(0, {"title": "Customer", "value": for_teams(clip(item.customer, 200))})
        if item.subject:
            facts.append({"title": "Subject", "value": for_teams(clip(item.subject, 200))})
    return facts


def _items(message: Message) -> list[dict[str, Any]]:
    """A grouped message: one short line per finding, and how many more were left out."""
    blocks: list[dict[str, Any]] = [
        {
            "type": "Container",
            "items": [
                {
                    "type": "TextBlock",
                    "wrap": True,
                    "spacing": "Small",
                    "text": f"- **{for_teams(i.severity)}** "
                    + for_teams(clip(f"{i.customer}: {i.title}", 220)),
                }
                for i in message.items
            ],
        }
    ]
    if message.omitted:
        blocks.append(
            {"type": "TextBlock", "text": message.more_text(), "isSubtle": True, "wrap": True}
        )
    return blocks


def _remedy(message: Message) -> list[dict[str, Any]]:
    """A single finding still firing: what to do about it, if the rule says."""
    if not message.items[0].remediation or message.action is Action.RESOLVED:
        return []
    return [
        {
            "type": "TextBlock",
            "text": for_teams(clip(message.items[0].remediation, 600)),
            "wrap": True,
            "spacing": "Medium",
        }
    ]


def payload(message: Message) -> dict[str, Any]:
    """The envelope Teams Workflows expects around the card."""
    return {
        "type": "message",
        "attachments": [
            {"contentType": CARD_CONTENT_TYPE, "contentUrl": None, "content": card(message)}
        ],
    }


class TeamsSink(HttpSink):
    kind = "teams"

    async def send(self, message: Message) -> DeliveryResult:
        body = json.dumps(payload(message), ensure_ascii=False).encode("utf-8")
        return await self.post(body, {"Content-Type": "application/json"})
