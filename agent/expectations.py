"""The managed-customers file: the partner's own list of whom it serves, and which links it
expects there. CSV with the columns ``customer_tenant_id, name, workloads, expected_links,
tags, owner``; lists inside a cell are separated by ``;``. Names, tags and owners are cleaned as
they are read (``connectors.text.clean``), like every name from Microsoft.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from agent.audit.link import Expectation
from connectors.records import LinkKind
from connectors.text import clean

_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_WORKLOAD = re.compile(r"^(m365|business_apps|security|tenant|azure(:[0-9a-fA-F-]{36})?)$")
_KIND_WORKLOAD = {LinkKind.GDAP: "tenant", LinkKind.CSP: "tenant"}
REQUIRED = ("customer_tenant_id", "workloads", "expected_links")


class ExpectationsError(ValueError):
    """The file cannot be used; the message names the file, the line and the column."""


@dataclass(frozen=True, slots=True)
class ManagedCustomer:
    tenant_id: str
    name: str
    workloads: tuple[str, ...]
    expected: tuple[LinkKind, ...]
    tags: tuple[str, ...]
    owner: str

    def expectations(self) -> list[Expectation]:
        out: list[Expectation] = []
        for kind in self.expected:
            if kind in _KIND_WORKLOAD:
                out.append(Expectation(self.tenant_id, _KIND_WORKLOAD[kind], kind, "file"))
                continue
            for workload in self.workloads:
                if kind is LinkKind.PAL and not workload.startswith("azure"):
                    continue  # PAL earns Azure (and Power Platform) credit only
                if kind is not LinkKind.PAL and workload == "tenant":
                    continue
                out.append(Expectation(self.tenant_id, workload, kind, "file"))
        return out


def _split(cell: str | None) -> list[str]:
    return [clean(part) for part in (cell or "").split(";") if clean(part)]


def load_managed_customers(path: Path) -> list[ManagedCustomer]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ExpectationsError(f"{path}: cannot be read ({exc.strerror})") from None
    reader = csv.DictReader(text.splitlines())
    missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
    if missing:
        raise ExpectationsError(f"{path}: missing column(s) {', '.join(missing)}")
    customers: list[ManagedCustomer] = []
    for row in reader:
        line = reader.line_num  # the physical line: blank lines are skipped by the reader
        tenant = (row.get("customer_tenant_id") or "").strip()
        if not _GUID.match(tenant):
            raise ExpectationsError(f"{path}:{line}: customer_tenant_id: expected a GUID")
        workloads = [w.lower() for w in _split(row.get("workloads"))]
        for workload in workloads:
            if not _WORKLOAD.match(workload):
                raise ExpectationsError(
                    f"{path}:{line}: workloads: {workload!r} is not one of m365, "
                    "business_apps, security, tenant, azure, azure:<subscription id>"
                )
        kinds: list[LinkKind] = []
        for name in _split(row.get("expected_links")):
            try:
                kinds.append(LinkKind(name.lower()))
            except ValueError:
                allowed = ", ".join(k.value for k in LinkKind)
                raise ExpectationsError(
                    f"{path}:{line}: expected_links: {name!r} is not one of {allowed}"
                ) from None
        customers.append(
            ManagedCustomer(
                tenant_id=tenant.lower(),
                name=clean(row.get("name") or ""),
                workloads=tuple(workloads),
                expected=tuple(kinds),
                tags=tuple(_split(row.get("tags"))),
                owner=clean(row.get("owner") or ""),
            )
        )
    return customers
