"""Why a read failed, in plain words: the codes the identity platform, Partner Center, Graph
and ARM answer with, mapped to a cause a person can act on, and the step that fixes it.

Sources of the table: Microsoft Learn, "Microsoft Entra authentication and authorization error
codes" (learn.microsoft.com/entra/identity-platform/reference-error-codes) for the AADSTS codes,
except AADSTS7000229, which that page does not list and Entra describes in its own answer ("The
client application ... is missing service principal in the tenant"); "Partner Center REST error
codes" (learn.microsoft.com/partner-center/developer/error-codes) for Partner Center's numbers,
with 1002 and 20002 as real answers quote them (microsoft-apis.md §1.2); the Graph and ARM error
codes as their APIs answer a refused read. Microsoft warns that the codes change and that
clients must not depend on them: here they only choose the words and the step shown to a
person, and the raw code always stays beside the words. A code not in the table is shown as it
came, under a cause named by its HTTP status.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class CauseKind(StrEnum):
    """What stands between the agent and a read; one grouped finding per kind and source."""

    CONSENT_MISSING = "consent_missing"
    PERMISSION_MISSING = "permission_missing"
    NO_AZURE_ROLE = "no_azure_role"
    GDAP_MISSING = "gdap_missing"
    GDAP_ENDED = "gdap_ended"
    IDENTITY_DELETED = "identity_deleted"
    IDENTITY_DISABLED = "identity_disabled"
    IDENTITY_MISSING = "identity_missing"
    CREDENTIAL_EXPIRED = "credential_expired"
    CREDENTIAL_INVALID = "credential_invalid"
    SIGN_IN_BLOCKED = "sign_in_blocked"
    SIGN_IN_REQUIRED = "sign_in_required"
    SIGN_IN_REFUSED = "sign_in_refused"
    TENANT_NOT_FOUND = "tenant_not_found"
    RELATIONSHIP_ENDED = "relationship_ended"
    ACCESS_DENIED = "access_denied"
    NOT_FOUND = "not_found"
    THROTTLED = "throttled"
    SERVICE_ERROR = "service_error"
    TIME_BUDGET = "time_budget"
    FAILED = "failed"

    @property
    def label(self) -> str:
        """The cause in two or three words: ``consent missing``."""
        return self.value.replace("_", " ")


@dataclass(frozen=True, slots=True)
class Cause:
    """One failure's cause: its kind, what the code means in plain words, and the raw code."""

    kind: CauseKind
    words: str
    code: str
    """As Microsoft answered it: ``AADSTS7000229``, ``Partner Center 20002``,
    ``HTTP 403 Authorization_RequestDenied``; ``not_attempted`` for the time budget."""

    def describe(self) -> str:
        """Cause first, then the code: never cut before the cause."""
        return f"{self.kind.label}: {self.words} ({self.code})"


_AADSTS: dict[str, tuple[CauseKind, str]] = {
    "AADSTS700016": (
        CauseKind.CONSENT_MISSING,
        "the app is not in this tenant's directory: never consented there, removed, or the "
        "sign-in went to the wrong tenant",
    ),
    "AADSTS7000229": (
        CauseKind.CONSENT_MISSING,
        "the app has no service principal in this tenant: no admin consent was given there",
    ),
    "AADSTS650052": (
        CauseKind.CONSENT_MISSING,
        "the tenant has not enabled a service the app needs",
    ),
    "AADSTS65001": (CauseKind.CONSENT_MISSING, "no administrator has consented to the app"),
    "AADSTS90094": (CauseKind.CONSENT_MISSING, "administrator consent is required"),
    "AADSTS90099": (
        CauseKind.CONSENT_MISSING,
        "the app was not authorized in the customer's tenant for the partner's delegated access",
    ),
    "AADSTS500011": (
        CauseKind.CONSENT_MISSING,
        "the API the token is for has no service principal in this tenant",
    ),
    "AADSTS7000112": (CauseKind.IDENTITY_DISABLED, "the application is disabled"),
    "AADSTS70001": (CauseKind.IDENTITY_DISABLED, "the application is disabled"),
    "AADSTS7000222": (CauseKind.CREDENTIAL_EXPIRED, "the app's client secret has expired"),
    "AADSTS7000215": (CauseKind.CREDENTIAL_INVALID, "the client secret the agent sent is wrong"),
    "AADSTS7000218": (CauseKind.CREDENTIAL_INVALID, "no client secret or certificate was sent"),
    "AADSTS700027": (
        CauseKind.CREDENTIAL_INVALID,
        "the certificate's signature was not accepted: the certificate is not (or no longer) "
        "on the app registration",
    ),
    "AADSTS50012": (CauseKind.CREDENTIAL_INVALID, "the client's credential was not accepted"),
    "AADSTS90002": (
        CauseKind.TENANT_NOT_FOUND,
        "the tenant does not exist in this cloud (deleted, mistyped, or in another cloud)",
    ),
    "AADSTS53003": (CauseKind.SIGN_IN_BLOCKED, "a Conditional Access policy blocked the sign-in"),
    "AADSTS530032": (CauseKind.SIGN_IN_BLOCKED, "a tenant security policy blocked the sign-in"),
    "AADSTS700082": (
        CauseKind.SIGN_IN_REQUIRED,
        "the refresh token expired after being unused too long",
    ),
    "AADSTS50173": (CauseKind.SIGN_IN_REQUIRED, "the refresh token was revoked"),
    "AADSTS70043": (
        CauseKind.SIGN_IN_REQUIRED,
        "the refresh token outlived the tenant's sign-in frequency",
    ),
    "AADSTS50076": (CauseKind.SIGN_IN_REQUIRED, "multifactor authentication is required"),
    "AADSTS50079": (CauseKind.SIGN_IN_REQUIRED, "the user must register for multifactor sign-in"),
}
"""Codes of the identity platform's token answers (Microsoft Learn, reference-error-codes)."""

_PARTNER_CENTER: dict[str, tuple[CauseKind, str]] = {
    "20002": (
        CauseKind.RELATIONSHIP_ENDED,
        "the partner has no relationship with this customer any more",
    ),
    "3000": (CauseKind.RELATIONSHIP_ENDED, "no relationship between the partner and customer"),
    "60003": (CauseKind.TENANT_NOT_FOUND, "Partner Center does not know this tenant"),
    "1002": (
        CauseKind.ACCESS_DENIED,
        "authorization failed: the call needs a signed-in user (app+user) or a Partner Center "
        "role the caller lacks",
    ),
    "2032": (CauseKind.ACCESS_DENIED, "access denied"),
    "400": (CauseKind.ACCESS_DENIED, "access denied"),
    "800001": (CauseKind.ACCESS_DENIED, "the request carried no partner token"),
    "1000": (CauseKind.NOT_FOUND, "not found"),
}
"""Partner Center's numeric error codes (Partner Center REST error codes)."""

_SERVICE: dict[str, tuple[CauseKind, str]] = {
    "Authorization_RequestDenied": (
        CauseKind.PERMISSION_MISSING,
        "insufficient privileges: the app lacks an application permission in this tenant",
    ),
    "AuthorizationFailed": (
        CauseKind.NO_AZURE_ROLE,
        "the app holds no Azure role that allows this read",
    ),
    "InvalidAuthenticationTokenTenant": (
        CauseKind.ACCESS_DENIED,
        "the token is from a tenant that does not hold the resource",
    ),
    "ExpiredAuthenticationToken": (CauseKind.ACCESS_DENIED, "the token had expired"),
    "InvalidAuthenticationToken": (CauseKind.ACCESS_DENIED, "the token was not accepted"),
    "SubscriptionNotFound": (
        CauseKind.NOT_FOUND,
        "the subscription does not exist in this tenant (cancelled or moved)",
    ),
}
"""Error codes of Graph (``error.code``) and ARM (``code``) answers."""

_BY_STATUS: dict[int, tuple[CauseKind, str]] = {
    401: (CauseKind.ACCESS_DENIED, "the token was refused"),
    403: (CauseKind.ACCESS_DENIED, "access denied"),
    404: (CauseKind.NOT_FOUND, "not found"),
    429: (CauseKind.THROTTLED, "Microsoft throttled the reads"),
}

_AADSTS_CODE = re.compile(r"AADSTS\d+")
_HTTP = re.compile(r"\(HTTP (\d{3})(?:, ([^)\s]+))?\)|\bHTTP (\d{3})\b")


def cause_of(status: str, error: str) -> Cause:
    """The cause of a read that did not complete, from its status and its error text as the
    sync records them (``str()`` of a connector error)."""
    if status == "not_attempted":
        return Cause(CauseKind.TIME_BUDGET, "the run's time budget ran out before the read", status)
    aadsts = _AADSTS_CODE.search(error)
    if aadsts:
        code = aadsts.group(0)
        kind, words = _AADSTS.get(code, (CauseKind.SIGN_IN_REFUSED, "the sign-in was refused"))
        return Cause(kind, words, code)
    http = _HTTP.search(error)
    if http:
        number = int(http.group(1) or http.group(3))
        detail = http.group(2) or ""
        return _http_cause(number, detail)
    if "no usable answer" in error or "unreachable" in error or "timed out" in error.lower():
        return Cause(CauseKind.SERVICE_ERROR, "Microsoft could not be reached", "no answer")
    return Cause(CauseKind.FAILED, "the read did not complete", "error")


def _http_cause(status: int, detail: str) -> Cause:
    """An HTTP answer's cause: the service's own code when the table knows it."""
    code = f"HTTP {status}" + (f" {detail}" if detail else "")
    if detail.isdigit() and detail in _PARTNER_CENTER:
        kind, words = _PARTNER_CENTER[detail]
        return Cause(kind, words, f"Partner Center {detail}")
    if detail in _SERVICE:
        kind, words = _SERVICE[detail]
        return Cause(kind, words, code)
    if status in _BY_STATUS:
        kind, words = _BY_STATUS[status]
        return Cause(kind, words, code)
    if status >= 500:
        return Cause(CauseKind.SERVICE_ERROR, "Microsoft answered with a server error", code)
    return Cause(CauseKind.FAILED, "the request was refused", code)


_FIXES: dict[CauseKind, str] = {
    CauseKind.CONSENT_MISSING: "Get {who} consented in {tenant}: the partner grants it through "
    "GDAP (docs/setup.md), or the customer's administrator grants admin consent; or take the "
    "tenant off the list.",
    CauseKind.PERMISSION_MISSING: "Grant {who} the application permissions it needs "
    "(`partnerlink readiness` names them) and consent again in {tenant}.",
    CauseKind.NO_AZURE_ROLE: "Give {who} the Reader role on the customer's subscriptions "
    "(Access control (IAM) on each subscription, or an Azure Lighthouse delegation).",
    CauseKind.GDAP_MISSING: "Request a GDAP relationship with the customer (Partner Center > "
    "Customers > Admin relationships).",
    CauseKind.GDAP_ENDED: "Request a new GDAP relationship with the customer (Partner Center > "
    "Customers > Admin relationships).",
    CauseKind.IDENTITY_DELETED: "{who} no longer exists: register it again and update "
    "[credentials.carriers], or remove it there; then `partnerlink pal repair`.",
    CauseKind.IDENTITY_DISABLED: "Enable {who} again (Entra admin center > Enterprise "
    "applications > Properties) in {tenant}.",
    CauseKind.IDENTITY_MISSING: "Create {who}'s service principal in {tenant} (admin consent), "
    "or take the tenant off its `tenants` list.",
    CauseKind.CREDENTIAL_EXPIRED: "Create a new credential for {who} (a certificate is "
    "preferred) in its app registration and update the config.",
    CauseKind.CREDENTIAL_INVALID: "The credential the agent holds for {who} is not accepted: "
    "create a new one (a certificate is preferred) and update the config.",
    CauseKind.SIGN_IN_BLOCKED: "Exclude {who} from the Conditional Access policy that blocks "
    "it in {tenant} (a policy for workload identities).",
    CauseKind.SIGN_IN_REQUIRED: "Sign the partner administrator in again: `partnerlink auth "
    "login`.",
    CauseKind.SIGN_IN_REFUSED: "Look the code up on Microsoft's error page "
    "(https://login.microsoftonline.com/error) and fix {who}'s sign-in to {tenant}.",
    CauseKind.TENANT_NOT_FOUND: "Check the tenant id; take a deleted tenant off the list.",
    CauseKind.RELATIONSHIP_ENDED: "The customer left the partner: take it off the managed "
    "list, or re-establish the relationship in Partner Center.",
    CauseKind.ACCESS_DENIED: "Check {who}'s consent, roles and credential in {tenant} "
    "(`partnerlink readiness`).",
    CauseKind.NOT_FOUND: "Check that the customer and its resources still exist.",
    CauseKind.THROTTLED: "This usually clears by itself; if it persists, lower `sync.concurrency`.",
    CauseKind.SERVICE_ERROR: "This usually clears by itself; if it persists over several "
    "runs, check the Microsoft service health.",
    CauseKind.TIME_BUDGET: "Raise `sync.time_budget` or `sync.concurrency`.",
    CauseKind.FAILED: "See the error in the evidence; `partnerlink readiness` checks every source.",
}


def fix_for(kind: CauseKind, *, who: str, tenant: str) -> str:
    """The step that removes a cause, naming the identity and the tenant it is about."""
    return _FIXES[kind].format(who=who, tenant=tenant)


def as_identity(cause: Cause, identity: str | None) -> Cause:
    """A cause as it concerns a PAL carrier: the code that means "no consent" for the partner's
    app means the carrier's service principal is not in the tenant."""
    if identity in (None, "partner-app") or cause.kind is not CauseKind.CONSENT_MISSING:
        return cause
    return Cause(
        CauseKind.IDENTITY_MISSING,
        "the carrier has no service principal in this tenant (never created, or deleted)",
        cause.code,
    )
