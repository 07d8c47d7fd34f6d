"""Which GDAP roles let the partner's administrator make which write in a customer tenant.

GDAP gives a partner user, through the security group of an access assignment, Entra roles in
the customer tenant ("GDAP introduction", https://learn.microsoft.com/partner-center/
gdap-introduction). The writes of ``partnerlink access`` need:

* the application consent (service principal with delegated scopes): Global Administrator,
  Privileged Role Administrator or Cloud Application Administrator, the roles Microsoft's GDAP
  consent sample asks of the relationship ("Use the Exchange Online PowerShell v3 Module with GDAP
  and App Consent", https://learn.microsoft.com/powershell/partnercenter/exchange-online-gdap-app),
  and Application Administrator, which may grant the same consents;
* Microsoft Graph app roles (application permissions): Privileged Role Administrator or Global
  Administrator only; Cloud Application and Application Administrators may consent to any
  permission of any API *except* Microsoft Graph app roles ("Grant tenant-wide admin consent to an
  application", prerequisites,
  https://learn.microsoft.com/entra/identity/enterprise-apps/grant-admin-consent).

The ids are the roles' template ids, the same in every tenant, as GDAP relationships list them.
"""

from __future__ import annotations

from collections.abc import Iterable

GLOBAL_ADMINISTRATOR = "62e90394-69f5-4237-9190-012177145e10"
PRIVILEGED_ROLE_ADMINISTRATOR = "e8611ab8-c189-46e8-94e1-60213ab1f814"
CLOUD_APPLICATION_ADMINISTRATOR = "158c047a-c907-4556-b7ef-446551a6b5f7"
APPLICATION_ADMINISTRATOR = "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3"

CONSENT = frozenset(
    {
        GLOBAL_ADMINISTRATOR,
        PRIVILEGED_ROLE_ADMINISTRATOR,
        CLOUD_APPLICATION_ADMINISTRATOR,
        APPLICATION_ADMINISTRATOR,
    }
)
"""May consent the app into the tenant (Partner Center application consent)."""

GRAPH_APP_ROLES = frozenset({GLOBAL_ADMINISTRATOR, PRIVILEGED_ROLE_ADMINISTRATOR})
"""May grant Microsoft Graph app roles (application permissions)."""

NAMES = {
    GLOBAL_ADMINISTRATOR: "Global Administrator",
    PRIVILEGED_ROLE_ADMINISTRATOR: "Privileged Role Administrator",
    CLOUD_APPLICATION_ADMINISTRATOR: "Cloud Application Administrator",
    APPLICATION_ADMINISTRATOR: "Application Administrator",
}


def missing(held: Iterable[str], needed: frozenset[str]) -> str | None:
    """Why the roles ``held`` cannot make a write that needs one of ``needed`` (``None``: they
    can): the least privileged role to ask the customer for, in words."""
    if needed & {r.lower() for r in held}:
        return None
    least = (
        PRIVILEGED_ROLE_ADMINISTRATOR
        if needed == GRAPH_APP_ROLES
        else CLOUD_APPLICATION_ADMINISTRATOR
    )
    return f"no active GDAP access assignment with {NAMES[least]} (or a role above it)"
