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
from typing import Any

from agent.audit.link import Expectation
from connectors.records.links import LinkKind
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
    """Every row of the file, or :class:`ExpectationsError` naming the file, line and column.

    Read with the csv module from the file itself (``newline=""``), so a quoted cell may hold
    a line break, and a U+2028 inside a name is a character, not the end of a row."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return _rows(path, csv.DictReader(handle, strict=True))
    except UnicodeDecodeError:
        raise ExpectationsError(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise ExpectationsError(f"{path}: cannot be read ({exc.strerror})") from None


def owners(path: Path | None) -> dict[str, str]:
    """Tenant ID -> owner, from the managed-customers file (the first row naming one)."""
    found: dict[str, str] = {}
    for customer in load_managed_customers(path) if path else []:
        if customer.owner:
            found.setdefault(customer.tenant_id, customer.owner)
    return found


def _rows(path: Path, reader: csv.DictReader[str]) -> list[ManagedCustomer]:
    customers: list[ManagedCustomer] = []
    ended = 0  # the last line of the last good row: a broken row starts after it
    try:
        reader.fieldnames = [name.strip() for name in reader.fieldnames or []]
        missing = [c for c in REQUIRED if c not in reader.fieldnames]
        if missing:
            raise ExpectationsError(
                f"{path}:{reader.line_num or 1}: {', '.join(missing)}: "
                "missing column(s) in the header"
            )
        ended = reader.line_num
        for row in reader:
            customers.append(_customer(path, reader.line_num, row))
            ended = reader.line_num
    except csv.Error as exc:
        line = max(reader.line_num, ended + 1)
        raise ExpectationsError(f"{path}:{line}: not valid CSV ({exc})") from None
    return customers


def _customer(path: Path, line: int, row: dict[str | Any, str | Any]) -> ManagedCustomer:
    """One row; ``line`` is the reader's (the row's last physical line; blank lines count)."""
    where = f"{path}:{line}"
    extra = row.get(None)
    if extra:
        raise ExpectationsError(
            f"{where}: {len(extra)} cell(s) past the last column: expected one cell a column"
        )
    tenant = (row.get("customer_tenant_id") or "").strip()
    if not _GUID.match(tenant):
        raise ExpectationsError(f"{where}: customer_tenant_id: expected a GUID")
    workloads = [w.lower() for w in _split(row.get("workloads"))]
    for workload in workloads:
        if not _WORKLOAD.match(workload):
            raise ExpectationsError(
                f"{where}: workloads: {workload!r} is not one of m365, "
                "business_apps, security, tenant, azure, azure:<subscription id>"
            )
    kinds: list[LinkKind] = []
    for name in _split(row.get("expected_links")):
        try:
            kinds.append(LinkKind(name.lower()))
        except ValueError:
            allowed = ", ".join(k.value for k in LinkKind)
            raise ExpectationsError(
                f"{where}: expected_links: {name!r} is not one of {allowed}"
            ) from None
    return ManagedCustomer(
        tenant_id=tenant.lower(),
        name=clean(row.get("name") or ""),
        workloads=tuple(workloads),
        expected=tuple(kinds),
        tags=tuple(_split(row.get("tags"))),
        owner=clean(row.get("owner") or ""),
    )
