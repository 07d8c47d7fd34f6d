"""What each source is: how it is scoped, the record kinds it yields, what it depends on.

The real connectors and the stand-in's fake connectors take these facts from here, so that a
real and a fake connector of a source are interchangeable.
"""

from __future__ import annotations

from connectors.records import (
    ActiveUsers,
    Attribution,
    AuditEvent,
    AzureSubscription,
    AzureUsage,
    Contract,
    CspSubscription,
    Customer,
    DirectorySubscription,
    GdapAccessAssignment,
    GdapRelationship,
    Identity,
    LicenseUsage,
    PalLink,
    ScopeKind,
    Source,
    SubscribedSku,
)

SCOPE_KINDS: dict[Source, ScopeKind] = {
    Source.PC_CUSTOMERS: ScopeKind.PARTNER,
    Source.PC_AUDIT: ScopeKind.PARTNER,
    Source.GRAPH_CONTRACTS: ScopeKind.PARTNER,
    Source.GRAPH_GDAP: ScopeKind.PARTNER,
    Source.INSIGHTS: ScopeKind.PARTNER,
    Source.PC_SUBSCRIPTIONS: ScopeKind.CUSTOMER,
    Source.PC_USAGE: ScopeKind.CUSTOMER,
    Source.GRAPH_SKUS: ScopeKind.CUSTOMER,
    Source.GRAPH_DIRECTORY_SUBSCRIPTIONS: ScopeKind.CUSTOMER,
    Source.GRAPH_USAGE: ScopeKind.CUSTOMER,
    Source.GRAPH_IDENTITIES: ScopeKind.CUSTOMER,
    Source.ARM_SUBSCRIPTIONS: ScopeKind.CUSTOMER,
    Source.ARM_PAL: ScopeKind.CUSTOMER,
}

KINDS: dict[Source, tuple[str, ...]] = {
    Source.PC_CUSTOMERS: (Customer.KIND,),
    Source.PC_AUDIT: (AuditEvent.KIND,),
    Source.GRAPH_CONTRACTS: (Contract.KIND,),
    Source.GRAPH_GDAP: (GdapRelationship.KIND, GdapAccessAssignment.KIND),
    Source.INSIGHTS: (Attribution.KIND,),
    Source.PC_SUBSCRIPTIONS: (CspSubscription.KIND,),
    Source.PC_USAGE: (AzureUsage.KIND, LicenseUsage.KIND),
    Source.GRAPH_SKUS: (SubscribedSku.KIND,),
    Source.GRAPH_DIRECTORY_SUBSCRIPTIONS: (DirectorySubscription.KIND,),
    Source.GRAPH_USAGE: (ActiveUsers.KIND,),
    Source.GRAPH_IDENTITIES: (Identity.KIND,),
    Source.ARM_SUBSCRIPTIONS: (AzureSubscription.KIND,),
    Source.ARM_PAL: (PalLink.KIND,),
}
"""What each source yields: the kinds a complete read of it may mark removed."""

REQUIRES: dict[Source, Source] = {
    Source.PC_SUBSCRIPTIONS: Source.PC_CUSTOMERS,
    Source.PC_USAGE: Source.PC_CUSTOMERS,
}
"""Customer sources that exist only for customers another (partner) source lists."""
