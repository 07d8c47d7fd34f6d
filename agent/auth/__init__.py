"""Signing in to Microsoft on real MSAL: app credentials, the token provider (one confidential
client per tenant and identity, and the partner administrator's app+user tokens), the refresh
token file, and reading what a token grants.

Each idea has its module; this package names the ones the rest of the agent uses.
"""

from agent.auth.answers import AcquiredToken
from agent.auth.apps import DEFAULT_MAX_CLIENTS, MICROSOFT_LOGIN_HOSTS
from agent.auth.claims import decoded_claims, decoded_roles
from agent.auth.credentials import AppCredential
from agent.auth.delegated import APP_USER, PARTNER_CENTER_RESOURCE, USER_TOKEN_MARGIN
from agent.auth.msal_http import MsalHttpClient
from agent.auth.provider import MsalTokenProvider
from agent.auth.refresh_store import RefreshTokenStore

__all__ = [
    "APP_USER",
    "DEFAULT_MAX_CLIENTS",
    "MICROSOFT_LOGIN_HOSTS",
    "PARTNER_CENTER_RESOURCE",
    "USER_TOKEN_MARGIN",
    "AcquiredToken",
    "AppCredential",
    "MsalHttpClient",
    "MsalTokenProvider",
    "RefreshTokenStore",
    "decoded_claims",
    "decoded_roles",
]
