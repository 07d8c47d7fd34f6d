"""Azure Lighthouse delegation templates, one per customer whose subscriptions the partner's app
cannot read: an ARM template deployed at subscription scope (by the customer, or anyone with
Owner there) that delegates the built-in Reader role to the partner's app in the partner tenant.

The template follows Microsoft's sample for delegating a subscription
(Azure/Azure-Lighthouse-samples, ``templates/delegated-resource-management/subscription/
subscription.json``; "Onboard a customer to Azure Lighthouse",
https://learn.microsoft.com/azure/lighthouse/how-to/onboard-customer): a
``Microsoft.ManagedServices/registrationDefinitions`` naming the managing tenant and its
authorizations, and the ``registrationAssignments`` that applies it. Lighthouse suits
subscriptions outside CSP, where the partner's Admin Agents hold no Owner to assign a role with.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

from agent.access.plan import AccessPlan
from agent.access.writes import AZURE_ROLE
from agent.app import Agent
from agent.config import ConfigError
from connectors.consent import ConsentWriter
from connectors.errors import ConnectorError
from connectors.http.fields import guid
from connectors.role_assignments import READER

SCHEMA = (
    "https://schema.management.azure.com/schemas/2019-08-01/subscriptionDeploymentTemplate.json#"
)
API_VERSION = "2022-10-01"
_NAMESPACE = uuid.UUID("7b3e61f0-5a2d-4c8b-9e14-2d6a0f3c8b57")


def template(
    *, partner_tenant: str, principal_id: str, offer: str, subscriptions: list[str]
) -> dict[str, Any]:
    """The delegation template: Reader for the partner's app (``principal_id``, its service
    principal in the partner tenant) on the subscription it is deployed to."""
    name = str(uuid.uuid5(_NAMESPACE, f"{partner_tenant}/{principal_id}"))
    definition = f"[resourceId('Microsoft.ManagedServices/registrationDefinitions/', '{name}')]"
    return {
        "$schema": SCHEMA,
        "contentVersion": "1.0.0.0",
        "metadata": {
            "description": "Delegates Reader on this subscription to the partner's partnerlink "
            "app (Azure Lighthouse). Deploy once per subscription listed under subscriptions.",
            "subscriptions": subscriptions,
        },
        "resources": [
            {
                "type": "Microsoft.ManagedServices/registrationDefinitions",
                "apiVersion": API_VERSION,
                "name": name,
                "properties": {
                    "registrationDefinitionName": offer,
                    "description": "Read access for the partner's partnerlink audit agent.",
                    "managedByTenantId": partner_tenant,
                    "authorizations": [
                        {
                            "principalId": principal_id,
                            "principalIdDisplayName": "partnerlink",
                            "roleDefinitionId": READER,
                        }
                    ],
                },
            },
            {
                "type": "Microsoft.ManagedServices/registrationAssignments",
                "apiVersion": API_VERSION,
                "name": str(uuid.uuid5(_NAMESPACE, f"{name}/assignment")),
                "dependsOn": [definition],
                "properties": {"registrationDefinitionId": definition},
            },
        ],
    }


async def _principal(agent: Agent, app_id: str) -> str:
    """The partner's app's service principal in the partner tenant, read as the app."""
    wiring = agent.wiring()
    partner = agent.settings.partner.tenant_id
    async with wiring.client(30.0) as client:
        writer = ConsentWriter(
            wiring.requester(client), wiring.endpoints, partner_tenant_id=partner
        )
        found = await writer.service_principal(partner, app_id, identity=None)
    principal = guid(found.get("id")) if found else None
    if principal is None:
        raise ConfigError(
            f"the partner's app {app_id} has no service principal in the partner tenant"
        )
    return principal


def write_templates(agent: Agent, plan: AccessPlan, folder: Path) -> dict[Path, list[str]]:
    """A template per customer with subscriptions to reach, in ``folder``: path -> the
    subscriptions to deploy it to."""
    subscriptions: dict[str, list[str]] = defaultdict(list)
    for write in plan.writes:
        if write.kind == AZURE_ROLE and write.subscription:
            subscriptions[write.tenant].append(write.subscription)
    if not subscriptions:
        return {}
    try:
        principal = asyncio.run(_principal(agent, plan.app_id))
    except ConnectorError as exc:
        raise ConfigError(f"the partner's app service principal could not be read: {exc}") from None
    folder.mkdir(parents=True, exist_ok=True)
    partner = agent.settings.partner
    offer = f"partnerlink read access for {partner.name or partner.tenant_id}"
    written: dict[Path, list[str]] = {}
    for tenant, subs in sorted(subscriptions.items()):
        path = folder / f"lighthouse-{tenant}.json"
        body = template(
            partner_tenant=partner.tenant_id,
            principal_id=principal,
            offer=offer,
            subscriptions=subs,
        )
        path.write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")
        written[path] = subs
    return written
