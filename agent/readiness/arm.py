"""ARM in one customer's tenant as the partner's app: the subscriptions it lists (those it holds
a role on), and each subscription the partner knows of but the listing leaves out, asked for by
id: no Azure role on it, or no longer in the tenant."""

from __future__ import annotations

from agent import readers as names
from agent.causes import CauseKind, cause_of
from agent.readiness.model import Check, State
from agent.readiness.readers import Readers
from connectors.azure_access import SubscriptionAccess, subscription_access
from connectors.base import PARTNER_APP
from connectors.errors import ConnectorError
from connectors.records.azure import AzureSubscription
from connectors.records.scope import Source

APP = "the partner's app"


async def arm_check(
    readers: Readers, tenant: str, where: str, billed: set[str]
) -> tuple[Check | None, tuple[str, ...], tuple[str, ...]]:
    """The ARM line of one customer (``None``: the source is not read), the subscriptions the
    app sees, and those the tenant no longer has; ``billed``: subscriptions Partner Center's
    usage names, known besides those the store knows of."""
    connector = readers.connector(Source.ARM_SUBSCRIPTIONS.value)
    if connector is None:
        return None, (), ()
    try:
        records = [r async for r in connector.fetch(tenant)]
    except ConnectorError as exc:
        return Check.failed(names.ARM, cause_of("failed", str(exc)), who=APP, tenant=where), (), ()
    visible = tuple(
        sorted({r.subscription_id.lower() for r in records if isinstance(r, AzureSubscription)})
    )
    known = set(readers.known_subscriptions.get(tenant, ())) | billed
    unseen = sorted(known - set(visible))
    no_role: list[str] = []
    gone: list[str] = []
    for sid in unseen:
        try:
            access = await subscription_access(
                readers.requester, readers.endpoints, tenant, sid, PARTNER_APP
            )
        except ConnectorError as exc:
            cause = cause_of("failed", str(exc))
            return Check.failed(names.ARM, cause, who=APP, tenant=where), visible, tuple(gone)
        if access is SubscriptionAccess.NO_ROLE:
            no_role.append(sid)
        elif access is SubscriptionAccess.NOT_FOUND:
            gone.append(sid)
    if not no_role:
        return Check.ok(names.ARM, f"{len(visible)} subscription(s)"), visible, tuple(gone)
    counted = len(visible) + len(no_role)
    return (
        Check(
            names.ARM,
            State.PARTIAL if visible else State.BLOCKED,
            CauseKind.NO_AZURE_ROLE,
            f"the app holds no Azure role on {len(no_role)} of {counted} subscription(s)",
            "HTTP 403 AuthorizationFailed",
            _fix(readers.app_id, no_role),
            tuple(no_role),
        ),
        visible,
        tuple(gone),
    )


def _fix(app_id: str, subscriptions: list[str]) -> str:
    scopes = " ".join(f"/subscriptions/{sid}" for sid in subscriptions)
    return (
        f"Give the partner's app the Reader role on {scopes}: `az role assignment create "
        f"--assignee {app_id} --role Reader --scope <scope>` for each (or Access control (IAM) "
        "in the Azure portal), or delegate them to the partner through Azure Lighthouse."
    )
