"""Names for people instead of GUIDs: customer tenants by their name, Azure subscriptions by
their display name, as far as the store knows them. The ID stays in JSON, CSV and ``--wide``;
tables and the report's page show the name, and an ID no name is known for shortened to its
first eight characters (enough to tell two apart, and to search for)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

GUID = re.compile(r"\b[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}\b")
_AZURE = re.compile(r"\bazure:(" + GUID.pattern[2:-2] + r")\b")


def short_id(guid: str) -> str:
    """The first eight characters of an ID and an ellipsis: ``50000008…``."""
    return guid[:8] + "…"


@dataclass(slots=True)
class Names:
    customers: dict[str, str] = field(default_factory=dict)
    """Tenant ID (lower case) -> customer name."""
    subscriptions: dict[str, str] = field(default_factory=dict)
    """Azure subscription ID (lower case) -> display name."""
    store: Any = None
    """Where :meth:`read` finds the names of some customers (:meth:`lazy`); None where every
    name is already here."""
    known: set[str] = field(default_factory=set)
    """Tenants whose names were read from ``store``."""

    @classmethod
    def from_store(cls, store: Any) -> Names:
        """Every customer and Azure subscription name the store holds now."""
        names = cls()
        names._add(store.customer_names(), store.subscription_names())
        return names

    @classmethod
    def lazy(cls, store: Any) -> Names:
        """Names read from ``store`` only for the customers a table shows (:meth:`read`): a
        table of the first rows of a large estate needs a few hundred of its 20,000 names. The
        store must stay open until the table is made."""
        return cls(store=store)

    def read(self, tenants: Iterable[str | None]) -> None:
        """Read the names of ``tenants`` (customers, their Azure subscriptions) not read yet;
        nothing where this holds every name already."""
        if self.store is None:
            return
        wanted = sorted({t for t in tenants if t} - self.known)
        if wanted:
            self.known.update(wanted)
            self._add(self.store.customer_names(wanted), self.store.subscription_names(wanted))

    def _add(self, customers: Iterable[tuple[str, str]], subs: Iterable[tuple[str, str]]) -> None:
        for tenant, name in customers:
            self.customers[tenant.lower()] = name
        for sub, name in subs:
            self.subscriptions.setdefault(sub.lower(), name)

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
