"""How Entra's token endpoint authenticates the client: a secret (in the form or HTTP Basic), a
certificate's signed assertion, or nothing for the public-client flows (refresh, device code).
"""

from __future__ import annotations

import base64
import hmac

from standin.emulator.authority import TokenAuthority
from standin.emulator.routing import Call
from standin.emulator.tokens import TokenRefused
from standin.scenario.model import AppSpec

CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def basic_auth(header: str | None) -> tuple[str, str] | None:
    """(client id, secret) of an HTTP Basic ``Authorization`` header, if it is one."""
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        raw = base64.b64decode(header[6:].strip()).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None
    user, _, password = raw.partition(":")
    return user, password


def authenticate_client(
    authority: TokenAuthority,
    call: Call,
    form: dict[str, str],
    basic: tuple[str, str] | None,
    app: AppSpec,
    client_id: str,
    grant: str,
) -> bool:
    """Check the client's credential against its app registration; True when it signed in
    with a certificate."""
    given = form.get("client_secret") or (basic[1] if basic else None)
    assertion = form.get("client_assertion")
    if given is not None:
        if not hmac.compare_digest(given.encode(), app.client_secret.encode()):
            raise TokenRefused(
                "AADSTS7000215",
                "invalid_client",
                "Invalid client secret provided. Ensure the secret being sent in the request is "
                f"the client secret value, not the client secret ID, for a secret added to app "
                f"'{client_id}'.",
                401,
            )
        return False
    if assertion is not None:
        if form.get("client_assertion_type") != CLIENT_ASSERTION_TYPE:
            raise TokenRefused(
                "AADSTS50027", "invalid_request", "client_assertion_type is not supported."
            )
        tenant = call.params["tenant"]
        origin = call.req.origin
        audiences = [
            f"{origin}/{tenant}/oauth2/v2.0/token",
            f"{origin}/{tenant}/oauth2/token",
            f"{origin}/{tenant}/v2.0",
        ]
        authority.verify_assertion(
            assertion,
            client_id=client_id,
            thumbprints=app.certificate_thumbprints,
            audiences=audiences,
        )
        return True
    if grant in ("refresh_token", DEVICE_GRANT):
        return False  # a public client flow: no client credential
    raise TokenRefused(
        "AADSTS7000218",
        "invalid_client",
        "The request body must contain the following parameter: 'client_assertion' or "
        "'client_secret'.",
        401,
    )
