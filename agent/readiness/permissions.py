"""The Graph application permissions the sources need, against those the directory shows the
app holds: which are missing (and which sources that leaves unread), which are more than a
read-only agent needs.

A need is met by the role itself or by a higher privileged one that includes the read (the
"higher privileged permissions" column of each Graph API's permissions table); the write forms
meet it too, and are reported as more than needed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from connectors.records.scope import ScopeKind
from connectors.sources import graph_roles

PARTNER_NEEDS: dict[str, tuple[str, ...]] = graph_roles(ScopeKind.PARTNER)
"""Source -> Graph roles it needs in the partner tenant (admin consent there)."""
CUSTOMER_NEEDS: dict[str, tuple[str, ...]] = graph_roles(ScopeKind.CUSTOMER)
"""Source -> Graph roles it needs in each customer tenant (the app's consent there)."""

BROADER: dict[str, tuple[str, ...]] = {
    "Organization.Read.All": (
        "Directory.Read.All",
        "Organization.ReadWrite.All",
        "Directory.ReadWrite.All",
    ),
    "Application.Read.All": (
        "Directory.Read.All",
        "Application.ReadWrite.All",
        "Directory.ReadWrite.All",
    ),
    "Directory.Read.All": ("Directory.ReadWrite.All",),
    "DelegatedAdminRelationship.Read.All": ("DelegatedAdminRelationship.ReadWrite.All",),
    "LicenseAssignment.Read.All": ("Organization.Read.All", "Directory.Read.All"),
}

WRITE = re.compile(r"\.(ReadWrite|Write|Manage|FullControl)", re.IGNORECASE)
"""Roles that can change something: a read-only agent needs none."""


def covered(role: str, granted: frozenset[str]) -> bool:
    return role in granted or any(b in granted for b in BROADER.get(role, ()))


def missing(granted: frozenset[str], needs: Mapping[str, tuple[str, ...]]) -> dict[str, list[str]]:
    """Source -> the roles it needs that nothing granted covers (sources short of none left out)."""
    short = {
        source: [role for role in roles if not covered(role, granted)]
        for source, roles in needs.items()
    }
    return {source: roles for source, roles in short.items() if roles}


def roles_of(short: Mapping[str, Iterable[str]]) -> list[str]:
    """The missing roles once each, sorted."""
    return sorted({role for roles in short.values() for role in roles})


def excess(granted: Iterable[str]) -> list[str]:
    """The granted roles that can write."""
    return sorted(role for role in granted if WRITE.search(role))
