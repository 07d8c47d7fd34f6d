"""The sink-neutral message: what was decided in the audit's transaction, stored as the outbox
payload, and rendered by each sink at send time.

Storing the neutral form (not the rendered body) keeps the outbox readable and lets a sink's
rendering be fixed without re-planning; the decision itself never changes after commit.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

SUMMARY_LIMIT = 400
"""The summary's length with a link in it: what the shortest sink shows of it (Teams)."""


class Action(StrEnum):
    """What the decision function concluded for one finding and one sink."""

    FIRST = "first"
    """Never notified on this sink: the first message."""
    NEW = "new"
    """Notified before, resolved since, firing again: a new episode."""
    REPEAT = "repeat"
    """Still firing and the repeat interval has passed."""
    RESOLVED = "resolved"
    """Was notified, is now resolved."""
    SKIP = "skip"


class Kind(StrEnum):
    """The outbox row's kind."""

    FIRST = "first"
    REPEAT = "repeat"
    RESOLVED = "resolved"
    GROUP = "group"


def kind_of(action: Action) -> Kind:
    return {
        Action.FIRST: Kind.FIRST,
        Action.NEW: Kind.FIRST,
        Action.REPEAT: Kind.REPEAT,
        Action.RESOLVED: Kind.RESOLVED,
    }[action]


class AlertItem(BaseModel):
    """One finding as a message shows it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    fingerprint: str
    rule: str
    severity: str
    status: str
    title: str
    subject: str = ""
    customer_tenant_id: str | None = None
    customer_name: str | None = None
    link_kind: str | None = None
    remediation: str = ""
    first_seen: datetime | None = None

    @property
    def customer(self) -> str:
        if self.customer_tenant_id is None:
            return "partner tenant"
        if self.customer_name:
            return f"{self.customer_name} ({self.customer_tenant_id})"
        return self.customer_tenant_id


class Message(BaseModel):
    """One notification for one sink: a single finding or a group of one rule's findings."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    dedup_key: str
    """The finding's fingerprint (guarantee dedup-and-repeat), or for a group a key derived from its
    members."""
    idempotency_key: str
    """Unique per message and stable across retries: receivers drop duplicate deliveries."""
    kind: Kind
    action: Action
    rule: str
    rule_title: str
    severity: str
    title: str
    total: int
    items: tuple[AlertItem, ...]
    """The first ``group_max_items`` findings; ``omitted`` more are only counted."""
    omitted: int = 0
    fingerprints: tuple[str, ...] = ()
    """Every member's fingerprint, for receivers that track findings individually."""
    run_id: int | None = None
    created_at: datetime
    test: bool = False
    link: str | None = None
    """The finding on the daemon's page (for a group: its rule's findings there), when
    ``[http] public_url`` is set; every sink shows it through :meth:`summary`."""
    references: dict[str, str] = Field(default_factory=dict, exclude=True)
    """fingerprint → the external id this sink returned for that finding earlier (a ticket or
    incident number). Filled in by the dispatcher at send time; never serialised, so neither
    the outbox row nor a rendered body carries it unless a sink puts it there."""
    still_open: dict[str, int] = Field(default_factory=dict, exclude=True)
    """On a resolve: external id → how many other findings this sink keeps under that same id
    (a customer's ticket) whose episode on this sink is still open. Filled in by the
    dispatcher like ``references``, never serialised; a sink closes a shared ticket only at
    zero."""

    @property
    def resolved(self) -> bool:
        return self.action is Action.RESOLVED

    def headline(self) -> str:
        """The short text every sink leads with."""
        return f"[partnerlink] {self.title}"

    def summary(self) -> str:
        """One line under the title: who and what for one finding, the count for a group;
        then the link to the page, if there is one (kept whole: what comes before it is cut
        short instead, so a sink that clips the line at 400 characters keeps it)."""
        if self.kind is not Kind.GROUP:
            item = self.items[0]
            line = f"{item.customer} · {self.severity} · {self.rule_title}"
        else:
            many = len(self.items)
            listed = "all listed" if not self.omitted else f"the {many} most severe listed"
            line = f"{self.total} findings of {self.rule_title} {_STATE[self.action]}; {listed}."
        if not self.link:
            return line
        room = max(SUMMARY_LIMIT - len(self.link) - 3, 40)
        line = line if len(line) <= room else line[: room - 1] + "…"
        return f"{line} · {self.link}"

    def more_text(self) -> str:
        return f"and {self.omitted} more" if self.omitted else ""

    def to_json(self) -> str:
        return self.model_dump_json()

    @classmethod
    def from_json(cls, payload: str) -> Message:
        return cls.model_validate_json(payload)


_VERB = {
    Action.FIRST: "New",
    Action.NEW: "Firing again",
    Action.REPEAT: "Still firing",
    Action.RESOLVED: "Resolved",
    Action.SKIP: "Skipped",
}


_STATE = {
    Action.FIRST: "are new",
    Action.NEW: "fire again",
    Action.REPEAT: "are still firing",
    Action.RESOLVED: "are resolved",
    Action.SKIP: "were skipped",
}


def verb(action: Action) -> str:
    return _VERB[action]
