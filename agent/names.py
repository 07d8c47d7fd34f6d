"""Names for people instead of GUIDs: customer tenants by their name, Azure subscriptions by
their display name, as far as the store knows them. The ID stays in JSON, CSV and ``--wide``;
tables and the report's page show the name, and an ID no name is known for shortened to its
first eight characters (enough to tell two apart, and to search for)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

GUID = re.compile(r"\b[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}\b")
_AZURE = re.compile(r"\bazure:(" + GUID.pattern[2:-2] + r")\b")
SUBSCRIPTION_KINDS = ("azure_subscription", "azure_usage")


def short_id(guid: str) -> str:
    """The first eight characters of an ID and an ellipsis: ``50000008…``."""
    return guid[:8] + "…"


@dataclass(slots=True)
class Names:
    customers: dict[str, str] = field(default_factory=dict)
    """Tenant ID (lower case) -> customer name."""
    subscriptions: dict[str, str] = field(default_factory=dict)
    """Azure subscription ID (lower case) -> display name."""

    @classmethod
    def from_store(cls, store: Any) -> Names:
        """Every customer and Azure subscription name the store holds now."""
        customers = {tenant.lower(): name for tenant, name in store.customer_names()}
        subscriptions: dict[str, str] = {}
        for obs in store.current(kinds=list(SUBSCRIPTION_KINDS)):
            record = obs.record
            sub = getattr(record, "subscription_id", None) or getattr(record, "resource_id", "")
            name = getattr(record, "display_name", None) or getattr(record, "name", None)
            if sub and name:
                subscriptions.setdefault(str(sub).lower(), str(name))
        return cls(customers, subscriptions)

    def customer(self, tenant: str | None, fallback: str | None = None) -> str:
        """A customer's name, else ``fallback``, else its shortened tenant ID."""
        if not tenant:
            return fallback or "(partner)"
        return self.customers.get(tenant.lower()) or fallback or short_id(tenant)

    def subscription(self, sub: str) -> str:
        return self.subscriptions.get(sub.lower()) or short_id(sub)

    def workload(self, workload: str) -> str:
        """``azure:<id>`` as the subscription's name; other workloads as they are."""
        kind, _, rest = workload.partition(":")
        if kind == "azure" and GUID.fullmatch(rest):
            return self.subscription(rest)
        if kind == "csp" and rest:
            return f"csp {short_id(rest)}" if GUID.fullmatch(rest) else workload
        return workload

    def text(self, text: str, *, drop_customer: str | None = None) -> str:
        """Text with every ID it knows a name for replaced by the name, every other GUID
        shortened, and `` for <drop_customer>`` left out (a column names the customer)."""
        if "-" in text:  # no GUID without one: most texts are left as they are, unsearched
            text = _AZURE.sub(lambda m: f"Azure subscription {self.subscription(m.group(1))}", text)
            text = GUID.sub(self._guid, text)
        if drop_customer:
            text = text.replace(f" for {drop_customer}", "")
        return text

    def _guid(self, match: re.Match[str]) -> str:
        guid = match.group(0).lower()
        return self.customers.get(guid) or self.subscriptions.get(guid) or short_id(guid)
