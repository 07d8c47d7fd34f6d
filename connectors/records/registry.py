"""Every kind of record, by its ``KIND``: the store decodes its rows through this registry."""

from __future__ import annotations

from connectors.records.attribution import Attribution
from connectors.records.azure import AzureSubscription, AzureUsage
from connectors.records.customers import AuditEvent, Contract, CspSubscription, Customer
from connectors.records.gdap import GdapAccessAssignment, GdapRelationship
from connectors.records.licences import (
    ActiveUsers,
    DirectorySubscription,
    LicenseUsage,
    SubscribedSku,
)
from connectors.records.pal import Identity, PalLink
from connectors.records.record import Record

RECORD_TYPES: tuple[type[Record], ...] = (
    Customer,
    CspSubscription,
    Contract,
    GdapRelationship,
    GdapAccessAssignment,
    SubscribedSku,
    DirectorySubscription,
    ActiveUsers,
    AzureSubscription,
    PalLink,
    Identity,
    Attribution,
    AzureUsage,
    LicenseUsage,
    AuditEvent,
)
"""The registry of record kinds; the store decodes rows through it."""

RECORD_BY_KIND: dict[str, type[Record]] = {cls.KIND: cls for cls in RECORD_TYPES}
