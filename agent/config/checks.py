"""Checks of a loaded config that reach past one field: blank secrets, the starter file's
placeholder IDs, certificate files, the managed-customers CSV.

Run by the loader after validation, so every command refuses a config that would only fail
later (at sign-in, at audit time), with one line naming the key.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, SecretStr

from agent.config.sections import AppCredentials
from agent.config.settings import Settings

Problem = tuple[str, str]
"""(dotted key, what is expected): the loader adds the file or environment variable."""

PLACEHOLDERS: dict[str, str] = {
    "00000000-0000-0000-0000-000000000000": "the partner's Entra tenant ID",
    "11111111-1111-1111-1111-111111111111": "the client ID of the partner's app registration",
    "22222222-2222-2222-2222-222222222222": "the client ID of the carrier's app registration",
    "1234567": "the partner global account (PGA) ID",
    "2345678": "a location partner ID (MPN ID)",
}
"""The IDs of ``partnerlink init``'s starter config: nobody's real IDs (a test keeps this list
and agent/config.example.toml in step)."""


def problems(settings: Settings, *, now: datetime) -> Iterator[Problem]:
    """Every problem, most basic first; the loader reports the first."""
    yield from blank_secrets(settings)
    if settings.sources.mode == "microsoft":  # emulator and fake worlds bring their own IDs
        yield from placeholders(settings)
    yield from certificates(settings, now=now)
    yield from managed_customers(settings)


def blank_secrets(model: BaseModel, prefix: str = "") -> Iterator[Problem]:
    """Secrets set to "" or whitespace: a sign-in or a delivery would fail with them."""
    for name in type(model).model_fields:
        value = getattr(model, name)
        key = f"{prefix}{name}"
        if isinstance(value, SecretStr):
            if not value.get_secret_value().strip():
                yield key, "expected a secret, got an empty value (give it, or remove the key)"
        elif isinstance(value, BaseModel):
            yield from blank_secrets(value, f"{key}.")
        elif isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, BaseModel):
                    yield from blank_secrets(item, f"{key}[{index}].")


def placeholders(settings: Settings) -> Iterator[Problem]:
    partner = settings.partner
    # Only what was written: an unset tenant_id defaults to the all-zero GUID too.
    tenant = partner.tenant_id if "tenant_id" in partner.model_fields_set else None
    given: list[tuple[str, str | None]] = [
        ("partner.tenant_id", tenant),
        ("partner.global_partner_id", partner.global_partner_id),
        ("credentials.client_id", settings.credentials.client_id),
        ("repair.pal_partner_id", settings.repair.pal_partner_id),
    ]
    given += [
        (f"partner.locations[{i}].partner_id", loc.partner_id)
        for i, loc in enumerate(partner.locations)
    ]
    given += [
        (f"credentials.carriers[{i}].client_id", carrier.client_id)
        for i, carrier in enumerate(settings.credentials.carriers)
    ]
    for key, value in given:
        if value is not None and value in PLACEHOLDERS:
            yield key, f"replace the placeholder {value!r} with {PLACEHOLDERS[value]}"


def certificates(settings: Settings, *, now: datetime) -> Iterator[Problem]:
    apps: list[tuple[str, AppCredentials]] = [("credentials", settings.credentials)]
    apps += [(f"credentials.carriers[{i}]", c) for i, c in enumerate(settings.credentials.carriers)]
    for key, app in apps:
        if app.certificate_file is None:
            continue
        # cryptography's X.509 loads only where a certificate is configured: a tenth of a
        # second of every command otherwise
        from agent.certificates import CertificateProblem, inspect_certificate

        password = app.certificate_password
        try:
            inspect_certificate(
                Path(app.certificate_file).expanduser(),
                password.get_secret_value() if password else None,
                now=now,
            )
        except CertificateProblem as exc:
            yield f"{key}.certificate_file", str(exc)


def managed_customers(settings: Settings) -> Iterator[Problem]:
    path = settings.expectations.managed_customers_file
    if path is None:
        return
    from agent.expectations import ExpectationsError, load_managed_customers

    try:
        load_managed_customers(Path(path).expanduser())
    except ExpectationsError as exc:
        yield "expectations.managed_customers_file", str(exc)
