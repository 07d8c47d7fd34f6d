"""Signing in to Microsoft on real MSAL (see :mod:`agent.auth.provider`)."""

from agent.auth.provider import (
    APP_USER,
    AcquiredToken,
    AppCredential,
    MsalHttpClient,
    MsalTokenProvider,
    RefreshTokenStore,
    decoded_claims,
    decoded_roles,
)

__all__ = [
    "APP_USER",
    "AcquiredToken",
    "AppCredential",
    "MsalHttpClient",
    "MsalTokenProvider",
    "RefreshTokenStore",
    "decoded_claims",
    "decoded_roles",
]
