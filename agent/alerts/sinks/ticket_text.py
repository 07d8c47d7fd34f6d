"""What a PSA ticket says, and how it is found again.

A message becomes *units*, one ticket each: one per finding, or one per customer holding all
of that customer's findings in the message (``group_by``). Each unit has a *marker* in its
ticket's title, derived from the finding's fingerprint or the customer's tenant id alone, so
the ticket can be found again without any id of ours (after a lost answer, a lost reference,
a restart). Each write carries an *occasion tag* (the message's idempotency key and the unit,
hashed) as its last line, so a retried note is recognised on the ticket and not added twice.

Text the agent did not write is escaped for the field's format: ``for_psa_text`` for a title
and for the plain-text bodies of ConnectWise PSA and Autotask, ``for_html`` for HaloPSA's HTML
bodies. Lines are the agent's own; a name never starts one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

from agent.alerts.message import AlertItem, Message, verb
from agent.escape import PSA_TITLE_LIMIT, for_html, for_psa_text

GroupBy = Literal["finding", "customer"]


@dataclass(frozen=True, slots=True)
class Member:
    """One finding of a message; ``item`` is ``None`` only in a message planned before the
    sink listed every finding."""

    fingerprint: str
    item: AlertItem | None


@dataclass(frozen=True, slots=True)
class Unit:
    """What one ticket is about in one message."""

    key: str
    members: tuple[Member, ...]

    @property
    def fingerprints(self) -> tuple[str, ...]:
        return tuple(m.fingerprint for m in self.members)

    @property
    def marker(self) -> str:
        """``PL-`` and 16 hex digits of the unit's key: what the title carries and a search
        looks for (letters and digits only, so no query syntax can trip on it)."""
        return "PL-" + hashlib.sha256(self.key.encode("utf-8")).hexdigest()[:16].upper()

    @property
    def per_customer(self) -> bool:
        return self.key.startswith("customer:")

    def known(self, references: dict[str, str]) -> str | None:
        """The ticket the store keeps for this unit's findings, if any (the first found)."""
        for fingerprint in self.fingerprints:
            if references.get(fingerprint):
                return references[fingerprint]
        return None


def units(message: Message, group_by: GroupBy) -> list[Unit]:
    """The message's tickets-to-be, in the message's order (most severe first)."""
    listed = {item.fingerprint: item for item in message.items}
    members = [Member(fp, listed.get(fp)) for fp in message.fingerprints or tuple(listed)]
    if group_by == "finding":
        return [Unit(f"finding:{m.fingerprint}", (m,)) for m in members]
    grouped: dict[str, list[Member]] = {}
    for member in members:
        tenant = member.item.customer_tenant_id if member.item else None
        grouped.setdefault(f"customer:{(tenant or 'partner').lower()}", []).append(member)
    return [Unit(key, tuple(found)) for key, found in grouped.items()]


def occasion(message: Message, unit: Unit) -> str:
    """The tag one message's write to one unit's ticket carries: the same on every retry."""
    seed = f"{message.idempotency_key}|{unit.key}".encode()
    return "partnerlink ref " + hashlib.sha256(seed).hexdigest()[:12]


def _who(item: AlertItem | None) -> str:
    if item is None:
        return "a finding not listed in this message"
    if item.customer_tenant_id is None:
        return "the partner tenant"
    return item.customer_name or item.customer_tenant_id


def title(message: Message, unit: Unit) -> str:
    """The ticket's title, escaped, within every PSA's limit, the marker at its end."""
    suffix = f" [{unit.marker}]"
    first = unit.members[0].item
    if unit.per_customer:
        text = f"partnerlink: partner links to follow up for {_who(first)}"
    elif first is not None and first.customer_tenant_id is None:
        text = first.title  # the partner's own tenant: the title says it
    elif first is not None:  # the customer first: a PSA's queue is read by customer
        text = f"{_who(first)}: {first.title}"
    else:
        text = f"{message.rule_title}: a finding to follow up"
    return for_psa_text(text, PSA_TITLE_LIMIT - len(suffix)) + suffix


Line = tuple[str, str]
"""(label, value): the label is the agent's own, the value may be a stranger's."""


@dataclass(frozen=True, slots=True)
class Block:
    heading: str
    lines: tuple[Line, ...]


@dataclass(frozen=True, slots=True)
class Document:
    """A ticket's description or a note: blocks, then the occasion tag on a line of its own."""

    blocks: tuple[Block, ...]
    tag: str

    def plain(self, limit: int | None = None) -> str:
        """Plain text (ConnectWise PSA, Autotask), within ``limit`` characters, the tag kept."""
        parts = [
            "\n".join([for_psa_text(b.heading), *(f"{k}: {for_psa_text(v)}" for k, v in b.lines)])
            for b in self.blocks
        ]
        return _fit("\n\n".join(parts), "\n\n" + self.tag, limit)

    def html(self, limit: int | None = None) -> str:
        """HTML (HaloPSA), within ``limit`` characters, the tag kept."""
        parts = [
            "<p><b>"
            + for_html(b.heading)
            + "</b>"
            + "".join(f"<br>{k}: {for_html(v)}" for k, v in b.lines)
            + "</p>"
            for b in self.blocks
        ]
        text = "".join(parts)
        if limit is not None and len(text) + len(self.tag) + 7 > limit:
            text = "<p>" + for_html(_plain_of(self.blocks))[: max(0, limit - len(self.tag) - 20)]
            text += "…</p>"
        return text + f"<p>{self.tag}</p>"


def _plain_of(blocks: tuple[Block, ...]) -> str:
    return " / ".join(f"{b.heading}: " + "; ".join(f"{k} {v}" for k, v in b.lines) for b in blocks)


def _fit(body: str, tail: str, limit: int | None) -> str:
    if limit is not None and len(body) + len(tail) > limit:
        body = body[: max(0, limit - len(tail) - 1)] + "…"
    return body + tail


def _facts(message: Message, member: Member, full: bool) -> tuple[Line, ...]:
    item = member.item
    found: list[tuple[str, str | None]] = [
        ("Customer", item.customer if item else None),
        ("Rule", f"{message.rule_title} ({message.rule})"),
        ("Severity", item.severity if item else message.severity),
    ]
    if full and item is not None:
        found += [
            ("Subject", item.subject or None),
            ("Link kind", item.link_kind),
            ("First seen", item.first_seen.isoformat() if item.first_seen else None),
            ("What to do", item.remediation or None),
        ]
    found += [
        ("Finding", member.fingerprint),
        ("Evidence", f"partnerlink explain {member.fingerprint}"),
    ]
    return tuple((label, value) for label, value in found if value)


def document(message: Message, unit: Unit, *, opening: bool) -> Document:
    """What this message says of this unit: every fact when it opens a ticket or a finding
    is new on it, a short block per finding for a repeat or a resolve."""
    full = opening or message.action.value in ("first", "new")
    blocks = tuple(
        Block(
            f"{verb(message.action)}: {m.item.title if m.item else message.rule_title}",
            _facts(message, m, full),
        )
        for m in unit.members
    )
    run = f"run {message.run_id}" if message.run_id is not None else "no run"
    trailer = Block("partnerlink", (("Notification", f"{verb(message.action)}, {run}"),))
    return Document((*blocks, trailer), occasion(message, unit))
