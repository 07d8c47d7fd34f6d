"""What PagerDuty and Opsgenie share: one event per finding, keyed by its fingerprint.

Incident services keep one open alert per key: a repeat with the same key joins the open alert
instead of paging again, and a resolve or close with that key ends it. So every event carries
the finding's own fingerprint (guarantee dedup-and-repeat), never a group's key, which the later
resolve of a differently composed group could not know; a grouped message becomes one event per
finding. Both APIs answer 202 Accepted; 429 and 5xx are worth retrying, other refusals are not. Both
show text as written, so names pass through ``for_plain_text`` (no invisible characters, no
line breaks) in the summary and every detail.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import httpx

from agent.alerts.errors import PermanentDeliveryError, error_for_exception, error_for_response
from agent.alerts.message import AlertItem, Message, verb
from agent.alerts.sinks.base import Clock, DeliveryResult, clip
from agent.alerts.sinks.config import ApiSinkBase
from agent.escape import for_plain_text

SOURCE = "partnerlink"


@dataclass(frozen=True, slots=True)
class Member:
    """One finding of a message. ``item`` is ``None`` for a group's findings beyond
    ``group_max_items``: only their fingerprints travel in the message."""

    fingerprint: str
    item: AlertItem | None


def members(message: Message) -> list[Member]:
    """Every finding of ``message``, most severe first, each under its own key."""
    listed = {item.fingerprint: item for item in message.items}
    keys = message.fingerprints or tuple(listed)
    return [Member(key, listed.get(key)) for key in keys]


def severity_of(message: Message, member: Member) -> str:
    """A finding's severity; an unlisted one is at most as severe as the last listed (a
    group lists its most severe findings first), so that bound never understates it."""
    if member.item is not None:
        return member.item.severity
    return message.items[-1].severity if message.items else message.severity


def summary_of(message: Message, member: Member) -> str:
    if member.item is not None:
        return for_plain_text(f"{member.item.title} · {member.item.customer}")
    return (
        f"{message.rule_title}: one of {message.total} findings, not listed in this "
        f"message; run `partnerlink explain {member.fingerprint}`"
    )


def details(message: Message, member: Member) -> dict[str, str]:
    """What an on-call person needs on the alert itself, as strings (Opsgenie's ``details``
    takes nothing else), each short enough for its 8,000-character total."""
    item = member.item
    found: dict[str, str | None] = {
        "customer": item.customer if item else None,
        "rule": f"{message.rule_title} ({message.rule})",
        "severity": severity_of(message, member),
        "subject": item.subject if item else None,
        "link_kind": item.link_kind if item else None,
        "first_seen": item.first_seen.isoformat() if item and item.first_seen else None,
        "what_to_do": item.remediation if item else None,
        "finding": member.fingerprint,
        "evidence": f"partnerlink explain {member.fingerprint}",
        "notification": verb(message.action)
        + (f", run {message.run_id}" if message.run_id is not None else ""),
        "test": "true" if message.test else None,
    }
    return {key: clip(for_plain_text(value), 600) for key, value in found.items() if value}


class IncidentApiSink:
    """Sends a message as one request per finding (``deliver``, in subclasses), in order,
    stopping at the first failure so the dispatcher retries the message.

    Re-sending a finding the service already accepted is harmless (its key deduplicates), but
    it spends the service's rate limit: a group larger than one minute's allowance would then
    fail at the same point on every retry. So this process remembers which findings of which
    message were accepted, and a retry resumes after them; after a restart, or on another
    worker, the retry starts again from the first.
    """

    kind = "incident"
    accepted: ClassVar[OrderedDict[tuple[str, str, str], None]] = OrderedDict()
    remember = 20_000

    def __init__(
        self, config: ApiSinkBase, client: httpx.AsyncClient, *, clock: Clock, key: str
    ) -> None:
        self.config = config
        self.client = client
        self.clock = clock
        self.secrets: tuple[str, ...] = (key,)
        # A digest, so a new key or URL for the same sink name does not inherit its memory.
        self._identity = hashlib.sha256(
            f"{config.name}\0{config.endpoint}\0{key}".encode()
        ).hexdigest()[:24]

    @property
    def name(self) -> str:
        return self.config.name

    async def deliver(self, message: Message, member: Member) -> None:
        raise NotImplementedError

    async def send(self, message: Message) -> DeliveryResult:
        sent = earlier = 0
        for member in members(message):
            mark = (self._identity, message.idempotency_key, member.fingerprint)
            if mark in self.accepted:
                earlier += 1
                continue
            await self.deliver(message, member)
            self.accepted[mark] = None
            while len(self.accepted) > self.remember:
                self.accepted.popitem(last=False)
            sent += 1
        detail = f"{sent} event(s) accepted" + (f", {earlier} earlier" if earlier else "")
        return DeliveryResult(202, detail)

    async def post(
        self, url: str, payload: Mapping[str, Any], headers: Mapping[str, str] | None = None
    ) -> None:
        """POST JSON; anything but 202 Accepted raises. Another 2xx is permanent: these APIs
        answer nothing else on success, so the URL is not the API it should be."""
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        try:
            response = await self.client.post(
                url, content=body, headers={"Content-Type": "application/json", **(headers or {})}
            )
        except httpx.HTTPError as exc:
            raise error_for_exception(exc, secrets=self.secrets) from None
        error = error_for_response(response, secrets=self.secrets, now=self.clock())
        if error is not None:
            raise error
        if response.status_code != 202:
            raise PermanentDeliveryError(
                f"HTTP {response.status_code} where the API answers 202 Accepted; "
                "is the URL right?",
                status=response.status_code,
            )

    async def aclose(self) -> None:
        await self.client.aclose()
