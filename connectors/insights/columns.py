"""The columns of an insight report and how their values are normalised.

Accepted CSV columns (names compared without case, spaces, ``_`` or ``-``):

==================  ===================================================================
field               accepted column names
==================  ===================================================================
customer tenant     CustomerTenantId, TenantId                                (required)
attribution type    PartnerAttributionType, PartnerAssociationType, AttributionType,
                    AssociationType, PartnerAttachType (a cell may list several:
                    ``CSP T1, DPOR, PAL``)                                    (required)
workload            WorkloadName, Workload, Product, ServiceLevel1 (or a SubscriptionId; the
                    API reader knows each dataset's workload)
subscription        SubscriptionId
partner id          MPNId, PartnerId, PGAPartnerId, PGAMpnId, PartnerMPNId
month               Month (``2026-10``, ``2026-10-01``, ``10/1/2026`` -> ``2026-10``)
active users        MonthlyActiveUsers, MAU, CPORActiveUsers, PAMAU
Azure revenue       ACR_USD, ACR, AzureConsumedRevenueUSD
seats               PaidAvailableUnits, AvailableSeats, CPORPaidSeats, Seats
==================  ===================================================================

Workloads are normalised: a row with a SubscriptionId is ``azure:<subscription id>``;
Office/Microsoft 365 workloads are ``m365``; Dynamics and Power Platform ``business_apps``;
EMS/Intune/Defender/Entra ``security``; anything else its lower-cased name. A ``CSP T1``/``T2``
type is ``CSP``; other types are kept as spelled, upper-cased.
"""

from __future__ import annotations

import re


def normalise_column(name: str) -> str:
    """A column name as compared: no case, spaces, ``_`` or ``-`` (nor a leading BOM)."""
    return re.sub(r"[\s_\-]", "", name.strip().lstrip("\ufeff")).lower()


COLUMNS: dict[str, tuple[str, ...]] = {
    "tenant": ("customertenantid", "tenantid"),
    "type": (
        "partnerattributiontype",
        "partnerassociationtype",
        "attributiontype",
        "associationtype",
        "partnerattachtype",
    ),
    "workload": ("workloadname", "workload", "product", "servicelevel1"),
    "subscription": ("subscriptionid",),
    "partner": ("mpnid", "partnerid", "pgapartnerid", "pgampnid", "partnermpnid"),
    "month": ("month",),
    "mau": ("monthlyactiveusers", "mau", "cporactiveusers", "pamau"),
    "acr": ("acrusd", "acr", "azureconsumedrevenueusd"),
    "seats": ("paidavailableunits", "availableseats", "cporpaidseats", "seats"),
}
"""Field -> accepted (normalised) column names, first match wins."""

_M365 = (
    "office",
    "m365",
    "microsoft 365",
    "o365",
    "exchange",
    "sharepoint",
    "onedrive",
    "teams",
    "skype",
    "yammer",
    "outlook",
    "word",
    "excel",
    "powerpoint",
    "onenote",
)
_BUSINESS = (
    "dynamics",
    "d365",
    "power platform",
    "powerplatform",
    "power apps",
    "powerapps",
    "power automate",
    "power bi",
    "powerbi",
    "business_apps",
    "business apps",
)
_SECURITY = ("security", "ems", "intune", "defender", "entra", "azure ad premium", "purview")


def normalise_workload(workload: str | None, subscription_id: str | None) -> str | None:
    """The workload key of a report row (see the module docstring)."""
    if subscription_id:
        return f"azure:{subscription_id.lower()}"
    if not workload:
        return None
    name = workload.strip().lower()
    if name.startswith("azure:"):
        return name
    if any(word in name for word in _BUSINESS):
        return "business_apps"
    if any(word in name for word in _SECURITY):
        return "security"
    if any(word in name for word in _M365):
        return "m365"
    return name


def normalise_types(cell: str) -> list[str]:
    """``"CSP T1, DPOR, PAL"`` -> ``["CSP", "DPOR", "PAL"]``."""
    found: list[str] = []
    for part in re.split(r"[,;|]", cell):
        name = part.strip().upper()
        if not name:
            continue
        if re.fullmatch(r"CSP(\s*(T|TIER)?\s*[12]\s*T?)?", name):
            name = "CSP"
        if name not in found:
            found.append(name)
    return found


def normalise_month(value: str | None) -> str | None:
    if not value:
        return None
    value = value.strip()
    match = re.match(r"^(\d{4})-(\d{1,2})(?:-\d{1,2})?(?:[T ].*)?$", value)
    if match:
        return f"{match.group(1)}-{int(match.group(2)):02d}"
    match = re.match(r"^(\d{1,2})/\d{1,2}/(\d{4})", value)
    if match:
        return f"{match.group(2)}-{int(match.group(1)):02d}"
    return value


def normalise_partner_id(value: str | None) -> str | None:
    """A partner id as spelled, less the ``.0`` a spreadsheet adds to a number."""
    if value is None:
        return None
    return value[:-2] if re.fullmatch(r"\d+\.0", value) else value
