"""A small scenario, certificates and HTTP helpers shared by the emulator and auth tests."""

from __future__ import annotations

import base64
import copy
import json
import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from tests.fixtures import MICROSOFT as SAMPLES

PARTNER = "7a11ce00-0000-4000-8000-000000000001"
APP_ID = "a9900000-0000-4000-8000-0000000000a1"
SECRET = "emulator-test-secret-0001"
CARRIER = "pal-carrier"
CARRIER_ID = "a9900000-0000-4000-8000-0000000000c1"
CARRIER_SECRET = "carrier-test-secret-0001"
C1 = "c0000000-0000-4000-8000-000000000001"  # consented, everything
C2 = "c0000000-0000-4000-8000-000000000002"  # no consent for the partner's app
C3 = "c0000000-0000-4000-8000-000000000003"  # not a Partner Center customer
SUB1 = "50000001-0000-4000-8000-000000000001"
SUB2 = "50000001-0000-4000-8000-000000000002"

PC = "https://api.partnercenter.microsoft.com"
GRAPH = "https://graph.microsoft.com"
ARM = "https://management.azure.com"


def world(**top: Any) -> dict[str, Any]:
    """The test world; keyword arguments replace top-level keys."""
    data: dict[str, Any] = {
        "version": 1,
        "name": "emulator-test",
        "partner": {
            "tenant_id": PARTNER,
            "name": "Test Partner",
            "global_partner_id": "4100001",
            "locations": [{"partner_id": "4100002", "name": "HQ"}],
            "app": {
                "client_id": APP_ID,
                "client_secret": SECRET,
                "credential_expires": "2030-01-01T00:00:00Z",
            },
            "carriers": [
                {"name": CARRIER, "client_id": CARRIER_ID, "client_secret": CARRIER_SECRET}
            ],
        },
        "customers": [
            {
                "tenant_id": C1,
                "name": "Alpine Dairy",
                "domain": "alpine.example",
                "allow_delegated_access": True,
                "csp_subscriptions": [
                    {
                        "id": "e0000001-0000-4000-8000-000000000001",
                        "offer_id": "CFQ7TTC0LCHC:0002",
                        "offer_name": "Microsoft 365 Business Premium",
                        "quantity": 25,
                        "created": "2025-01-01T00:00:00Z",
                        "partner_id": "5200001",
                    }
                ],
                "gdap": [
                    {
                        "id": "rel-1",
                        "display_name": "Managed services",
                        "status": "active",
                        "roles": ["729827e3-9c14-49f7-bb1b-9608f156bbb8"],
                        "activated": "2025-01-01T00:00:00Z",
                        "ends": "2027-01-01T00:00:00Z",
                        "access_assignments": [
                            {
                                "id": "aa1",
                                "group_id": "6a000000-0000-4000-8000-000000000001",
                                "roles": ["729827e3-9c14-49f7-bb1b-9608f156bbb8"],
                            }
                        ],
                    }
                ],
                "azure_subscriptions": [
                    {
                        "subscription_id": SUB1,
                        "display_name": "alpine-prod",
                        "acr_usd": 4200.0,
                        "partner_on_record": "4100002",
                        "managed_by_tenants": [PARTNER],
                    },
                    {"subscription_id": SUB2, "display_name": "alpine-dev", "acr_usd": 10.0},
                ],
                "identities": [
                    {"identity": "partner-app", "roles": [{"scope": SUB1}], "pal": "4100002"},
                    {"identity": CARRIER, "roles": [{"scope": SUB1}, {"scope": SUB2}]},
                ],
                "licences": [
                    {
                        "sku_id": "f245ecc8-75af-4f8e-b61f-27d8114de5f3",
                        "sku_part_number": "O365_BUSINESS_PREMIUM",
                        "subscription_id": "d0000001-0000-4000-8000-000000000001",
                        "enabled_units": 25,
                        "consumed_units": 21,
                    }
                ],
                "usage": {
                    "active_users": {"exchange": 20, "teams": 18},
                    "licence_usage": [
                        {
                            "product": "OFFICE 365 E3",
                            "workload": "Exchange",
                            "active": 20,
                            "qualified": 25,
                        }
                    ],
                },
                "attribution": [
                    {
                        "workload": "m365",
                        "type": "CPOR",
                        "partner_id": "4100002",
                        "monthly_active_users": 18,
                        "seats": 25,
                    },
                    {
                        "workload": f"azure:{SUB1}",
                        "type": "PAL",
                        "partner_id": "4100002",
                        "acr_usd": 4200.0,
                    },
                ],
            },
            {"tenant_id": C2, "name": "Birch Logistics", "consented": False},
            {"tenant_id": C3, "name": "Cedar Advisory", "relationship": None},
        ],
        "audit_events": [
            {
                "id": "ev-1",
                "operation_type": "create_mpn_association",
                "resource_type": "mpn_association",
                "customer_tenant_id": C1,
                "date": "2026-10-01T12:00:00Z",
            },
            {
                "id": "ev-2",
                "operation_type": "add_customer",
                "customer_tenant_id": C3,
                "date": "2026-10-05T12:00:00Z",
            },
        ],
        "emulator": {"time_scale": 1.0},
    }
    data.update(copy.deepcopy(top))
    return data


def many_customers(n: int) -> list[dict[str, Any]]:
    return [
        {"tenant_id": f"c1000000-0000-4000-8000-{i:012d}", "name": f"Customer {i:04d}"}
        for i in range(n)
    ]


def write(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(json.dumps(data, indent=1), encoding="utf-8")
    return path


def sample(name: str) -> Any:
    """The ``body`` of a Microsoft payload fixture."""
    return json.loads((SAMPLES / name).read_text(encoding="utf-8"))["body"]


def ssl_context(ca_path: str) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=ca_path)


def client(base_url: str, ca_path: str, **kw: Any) -> httpx.Client:
    return httpx.Client(base_url=base_url, verify=ssl_context(ca_path), **kw)


def app_token(
    http: httpx.Client, tenant: str, resource: str, *, client_id: str = APP_ID, secret: str = SECRET
) -> str:
    answer = http.post(
        f"/{tenant}/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": secret,
            "scope": f"{resource}/.default",
        },
    )
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["access_token"]
    return token


def user_token(http: httpx.Client, refresh_token: str, resource: str = PC) -> dict[str, Any]:
    answer = http.post(
        f"/{PARTNER}/oauth2/v2.0/token",
        data={
            "grant_type": "refresh_token",
            "client_id": APP_ID,
            "client_secret": SECRET,
            "refresh_token": refresh_token,
            "scope": f"{resource}/.default offline_access openid",
            "client_info": "1",
        },
    )
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    data: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return data


def keys_of(value: Any) -> set[str]:
    return {k for k in value if not k.startswith("_")} if isinstance(value, dict) else set()


class Certificate:
    """A self-signed RSA certificate as an app registration would hold one."""

    def __init__(self, directory: Path, name: str = "app") -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"partnerlink-{name}")])
        now = datetime.now(UTC)
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=365))
            .sign(self.key, hashes.SHA256())
        )
        self.cert_pem = self.cert.public_bytes(serialization.Encoding.PEM)
        self.key_pem = self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        self.thumbprint = self.cert.fingerprint(hashes.SHA1()).hex().upper()
        self.pem_path = directory / f"{name}.pem"
        self.pem_path.write_bytes(self.key_pem + self.cert_pem)
        self.cert_path = directory / f"{name}.crt"
        self.cert_path.write_bytes(self.cert_pem)
        self.key_path = directory / f"{name}.key"
        self.key_path.write_bytes(self.key_pem)

    def pfx(self, directory: Path, password: bytes) -> Path:
        path = directory / "app.pfx"
        path.write_bytes(
            pkcs12.serialize_key_and_certificates(
                b"app",
                self.key,
                self.cert,
                None,
                serialization.BestAvailableEncryption(password),
            )
        )
        return path
