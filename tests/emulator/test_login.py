"""The emulator's identity platform: discovery, secrets, certificates, refresh and device codes."""

from __future__ import annotations

import base64
import time
import uuid
from pathlib import Path

import httpx
import jwt
import msal
from cryptography.hazmat.primitives import serialization

from standin.emulator import Emulator
from tests.emulator.conftest import MakeEmulator
from tests.emulator.support import (
    APP_ID,
    ARM,
    C1,
    C2,
    CARRIER_ID,
    CARRIER_SECRET,
    GRAPH,
    PARTNER,
    PC,
    SECRET,
    Certificate,
    bearer,
    claims,
    keys_of,
    sample,
    ssl_context,
    world,
)

CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def _form(scope: str, **extra: str) -> dict[str, str]:
    return {"grant_type": "client_credentials", "client_id": APP_ID, "scope": scope, **extra}


def test_openid_configuration_points_back_at_the_emulator(
    emulator: Emulator, http: httpx.Client
) -> None:
    answer = http.get(f"/{PARTNER}/v2.0/.well-known/openid-configuration")
    assert answer.status_code == 200
    body = answer.json()
    assert keys_of(body) == keys_of(sample("entra_openid_configuration.json"))
    assert body["token_endpoint"] == f"{emulator.base_url}/{PARTNER}/oauth2/v2.0/token"
    assert body["device_authorization_endpoint"].startswith(emulator.base_url)
    assert body["issuer"] == f"{emulator.base_url}/{PARTNER}/v2.0"


def test_unknown_tenant_is_refused_at_discovery(http: httpx.Client) -> None:
    answer = http.get(f"/{uuid.uuid4()}/v2.0/.well-known/openid-configuration")
    assert answer.status_code == 400
    assert answer.json()["error_description"].startswith("AADSTS90002")


def test_client_secret_gets_a_token_in_the_sample_shape(http: httpx.Client) -> None:
    answer = http.post(
        f"/{PARTNER}/oauth2/v2.0/token", data=_form(f"{GRAPH}/.default", client_secret=SECRET)
    )
    assert answer.status_code == 200
    body = answer.json()
    assert keys_of(body) == keys_of(sample("entra_token_response_client_credentials.json"))
    assert body["token_type"] == "Bearer"
    token = claims(body["access_token"])
    assert token["tid"] == PARTNER
    assert token["appid"] == token["azp"] == APP_ID
    assert token["aud"] == GRAPH
    assert "Directory.Read.All" in token["roles"]
    assert token["exp"] > token["iat"]


def test_the_scope_decides_the_audience_and_v1_resource_works_too(http: httpx.Client) -> None:
    arm = http.post(f"/{C1}/oauth2/v2.0/token", data=_form(f"{ARM}/.default", client_secret=SECRET))
    assert claims(arm.json()["access_token"])["aud"] == ARM
    assert "roles" not in claims(arm.json()["access_token"])
    v1 = http.post(
        f"/{PARTNER}/oauth2/token",
        data={
            "grant_type": "client_credentials",
            "client_id": APP_ID,
            "client_secret": SECRET,
            "resource": PC,
        },
    )
    assert claims(v1.json()["access_token"])["aud"] == PC


def test_wrong_secret_is_refused_like_entra(http: httpx.Client) -> None:
    answer = http.post(
        f"/{PARTNER}/oauth2/v2.0/token",
        data=_form(f"{PC}/.default", client_secret="not-the-secret"),
    )
    assert answer.status_code == 401
    body = answer.json()
    assert keys_of(body) == keys_of(sample("entra_token_error_invalid_client.json"))
    assert body["error"] == "invalid_client"
    assert body["error_codes"] == [7000215]
    assert body["error_description"].startswith("AADSTS7000215: ")
    assert f"Correlation ID: {body['correlation_id']}" in body["error_description"]
    assert "not-the-secret" not in answer.text


def test_unconsented_tenant_and_unknown_app_are_refused(http: httpx.Client) -> None:
    refused = http.post(
        f"/{C2}/oauth2/v2.0/token", data=_form(f"{GRAPH}/.default", client_secret=SECRET)
    )
    assert refused.status_code == 400
    assert refused.json()["error_codes"] == [7000229]
    unknown = http.post(
        f"/{PARTNER}/oauth2/v2.0/token",
        data={**_form(f"{GRAPH}/.default", client_secret=SECRET), "client_id": str(uuid.uuid4())},
    )
    assert unknown.json()["error_codes"] == [700016]
    carrier_not_in_c2 = http.post(
        f"/{C2}/oauth2/v2.0/token",
        data={**_form(f"{ARM}/.default", client_secret=CARRIER_SECRET), "client_id": CARRIER_ID},
    )
    assert carrier_not_in_c2.json()["error_codes"] == [700016]


def test_unknown_resource_and_missing_credential_are_refused(http: httpx.Client) -> None:
    resource = http.post(
        f"/{PARTNER}/oauth2/v2.0/token",
        data=_form("https://vault.azure.net/.default", client_secret=SECRET),
    )
    assert resource.json()["error_codes"] == [500011]
    missing = http.post(f"/{PARTNER}/oauth2/v2.0/token", data=_form(f"{PC}/.default"))
    assert missing.status_code == 401
    assert missing.json()["error_codes"] == [7000218]


def _assertion(cert: Certificate, audience: str, *, x5c: bool, key: object = None) -> str:
    now = int(time.time())
    headers: dict[str, object] = {
        "x5t": base64.urlsafe_b64encode(bytes.fromhex(cert.thumbprint)).rstrip(b"=").decode()
    }
    if x5c:
        der = cert.cert.public_bytes(serialization.Encoding.DER)
        headers["x5c"] = [base64.b64encode(der).decode()]
    payload = {
        "aud": audience,
        "iss": APP_ID,
        "sub": APP_ID,
        "jti": str(uuid.uuid4()),
        "nbf": now,
        "exp": now + 600,
    }
    return jwt.encode(payload, key or cert.key, algorithm="RS256", headers=headers)


def test_certificate_assertion_with_x5c_is_accepted(
    make_emulator: MakeEmulator, tmp_path: Path
) -> None:
    cert = Certificate(tmp_path)
    data = world()
    data["partner"]["app"]["certificate_thumbprints"] = [cert.thumbprint]
    emulator = make_emulator(data)
    endpoint = f"{emulator.base_url}/{PARTNER}/oauth2/v2.0/token"
    with httpx.Client(verify=ssl_context(emulator.ca_path)) as http:
        answer = http.post(
            endpoint,
            data=_form(
                f"{PC}/.default",
                client_assertion_type=CLIENT_ASSERTION_TYPE,
                client_assertion=_assertion(cert, endpoint, x5c=True),
            ),
        )
        assert answer.status_code == 200, answer.text
        assert claims(answer.json()["access_token"])["appidacr"] == "2"
        # Without x5c the emulator must already know the certificate.
        bare = http.post(
            endpoint,
            data=_form(
                f"{PC}/.default",
                client_assertion_type=CLIENT_ASSERTION_TYPE,
                client_assertion=_assertion(cert, endpoint, x5c=False),
            ),
        )
        assert bare.status_code == 401
        assert bare.json()["error_codes"] == [700027]
        emulator.register_certificate(cert.cert_pem)
        again = http.post(
            endpoint,
            data=_form(
                f"{PC}/.default",
                client_assertion_type=CLIENT_ASSERTION_TYPE,
                client_assertion=_assertion(cert, endpoint, x5c=False),
            ),
        )
        assert again.status_code == 200, again.text


def test_certificate_assertion_is_refused_when_unregistered_or_forged(
    make_emulator: MakeEmulator, tmp_path: Path
) -> None:
    cert = Certificate(tmp_path, "registered")
    other = Certificate(tmp_path, "other")
    data = world()
    data["partner"]["app"]["certificate_thumbprints"] = [cert.thumbprint]
    emulator = make_emulator(data)
    emulator.register_certificate(cert.cert_pem)
    endpoint = f"{emulator.base_url}/{PARTNER}/oauth2/v2.0/token"
    with httpx.Client(verify=ssl_context(emulator.ca_path)) as http:
        unregistered = http.post(
            endpoint,
            data=_form(
                f"{PC}/.default",
                client_assertion_type=CLIENT_ASSERTION_TYPE,
                client_assertion=_assertion(other, endpoint, x5c=True),
            ),
        )
        assert unregistered.json()["error_codes"] == [700027]
        forged = http.post(
            endpoint,
            data=_form(
                f"{PC}/.default",
                client_assertion_type=CLIENT_ASSERTION_TYPE,
                client_assertion=_assertion(cert, endpoint, x5c=False, key=other.key),
            ),
        )
        assert forged.status_code == 401
        assert forged.json()["error_codes"] == [700027]
        wrong_audience = http.post(
            endpoint,
            data=_form(
                f"{PC}/.default",
                client_assertion_type=CLIENT_ASSERTION_TYPE,
                client_assertion=_assertion(cert, "https://elsewhere/token", x5c=False),
            ),
        )
        assert wrong_audience.json()["error_codes"] == [700021]


def test_refresh_token_grant_rotates_and_yields_a_user_token(
    emulator: Emulator, http: httpx.Client
) -> None:
    first = emulator.issue_refresh_token()
    answer = http.post(
        f"/{PARTNER}/oauth2/v2.0/token",
        data={
            "grant_type": "refresh_token",
            "client_id": APP_ID,
            "client_secret": SECRET,
            "refresh_token": first,
            "scope": f"{PC}/.default offline_access openid profile",
            "client_info": "1",
        },
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["refresh_token"] != first
    assert {"id_token", "client_info", "scope"} <= set(body)
    token = claims(body["access_token"])
    assert token["idtyp"] == "user"
    assert token["scp"] == "user_impersonation"
    garbage = http.post(
        f"/{PARTNER}/oauth2/v2.0/token",
        data={
            "grant_type": "refresh_token",
            "client_id": APP_ID,
            "client_secret": SECRET,
            "refresh_token": "0.ARnot-a-token",
            "scope": f"{PC}/.default",
        },
    )
    assert garbage.status_code == 400
    assert garbage.json()["error"] == "invalid_grant"


def test_device_code_flow_is_pending_once_then_approved(http: httpx.Client) -> None:
    started = http.post(
        f"/{PARTNER}/oauth2/v2.0/devicecode",
        data={"client_id": APP_ID, "scope": f"{PC}/.default offline_access"},
    )
    flow = started.json()
    assert {"user_code", "device_code", "verification_uri", "interval", "message"} <= set(flow)
    poll = {
        "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
        "client_id": APP_ID,
        "device_code": flow["device_code"],
        "scope": f"{PC}/.default offline_access",
    }
    pending = http.post(f"/{PARTNER}/oauth2/v2.0/token", data=poll)
    assert pending.status_code == 400
    assert pending.json()["error"] == "authorization_pending"
    done = http.post(f"/{PARTNER}/oauth2/v2.0/token", data=poll)
    assert done.status_code == 200
    assert done.json()["refresh_token"]


def test_msal_knowing_only_microsofts_documentation_reads_customers(emulator: Emulator) -> None:
    info = httpx.get(
        f"{emulator.base_url}/_emulator/info", verify=ssl_context(emulator.ca_path)
    ).json()
    with httpx.Client(verify=ssl_context(emulator.ca_path)) as http:
        app = msal.ConfidentialClientApplication(
            info["client_id"],
            client_credential=info["client_secret"],
            authority=f"{emulator.base_url}/{info['partner_tenant_id']}",
            instance_discovery=False,
            http_client=http,
        )
        result = app.acquire_token_for_client(["https://api.partnercenter.microsoft.com/.default"])
        assert "access_token" in result, result
        assert app.acquire_token_for_client([f"{PC}/.default"])["token_source"] == "cache"
        customers = http.get(
            f"{emulator.base_url}/v1/customers?size=100", headers=bearer(result["access_token"])
        )
        assert customers.status_code == 200
        assert customers.json()["totalCount"] == 2
