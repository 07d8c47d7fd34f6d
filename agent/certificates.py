"""What an app's certificate file holds, checked the way the sign-in will use it.

Read once when the config loads, so a missing, unreadable, expired or mismatched certificate is
named with its key before any command runs, not reported at 3 am as a sign-in failure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes
from cryptography.hazmat.primitives.serialization import pkcs12

PEM_OR_PFX = "expected a PEM file with the private key and the certificate, or a PFX/P12 file"


class CertificateProblem(ValueError):
    """The certificate file cannot be used to sign in; the message says why, in one line."""


@dataclass(frozen=True, slots=True)
class CertificateInfo:
    thumbprint: str
    """SHA-1 of the certificate, upper-case hex, as Entra lists it."""
    not_before: datetime
    not_after: datetime


def is_pfx(path: Path, data: bytes) -> bool:
    """A PFX/P12 by its name, or by not being PEM text."""
    return path.suffix.lower() in (".pfx", ".p12") or not data.lstrip().startswith(b"-----")


def inspect_certificate(path: Path, password: str | None, *, now: datetime) -> CertificateInfo:
    """The certificate in ``path`` (with its private key), or :class:`CertificateProblem`."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CertificateProblem(f"cannot read {path} ({exc.strerror})") from None
    secret = password.encode("utf-8") if password else None
    if is_pfx(path, data):
        cert, key = _from_pfx(path, data, secret)
    else:
        cert, key = _from_pem(path, data, secret)
    if _public(cert.public_key()) != _public(key.public_key()):
        raise CertificateProblem(f"{path}: the private key does not belong to the certificate")
    info = CertificateInfo(
        thumbprint=cert.fingerprint(hashes.SHA1()).hex().upper(),  # noqa: S303 - Entra's id
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
    )
    if info.not_after <= now:
        raise CertificateProblem(
            f"{path}: the certificate expired on {info.not_after:%Y-%m-%d %H:%M} UTC"
        )
    if info.not_before > now:
        raise CertificateProblem(
            f"{path}: the certificate is not valid before {info.not_before:%Y-%m-%d %H:%M} UTC"
        )
    return info


def _public(key: PublicKeyTypes) -> bytes:
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _from_pfx(
    path: Path, data: bytes, password: bytes | None
) -> tuple[x509.Certificate, PrivateKeyTypes]:
    try:
        key, cert, _chain = pkcs12.load_key_and_certificates(data, password)
    except ValueError:
        hint = " or wrong certificate_password" if path.suffix.lower() in (".pfx", ".p12") else ""
        raise CertificateProblem(f"{path}: {PEM_OR_PFX} (not a readable PFX{hint})") from None
    if cert is None:
        raise CertificateProblem(f"{path}: the PFX file holds no certificate")
    if key is None:
        raise CertificateProblem(f"{path}: the PFX file holds no private key")
    return cert, key


def _from_pem(
    path: Path, data: bytes, password: bytes | None
) -> tuple[x509.Certificate, PrivateKeyTypes]:
    try:
        data.decode("ascii")
    except UnicodeDecodeError:
        raise CertificateProblem(f"{path}: {PEM_OR_PFX} (not ASCII PEM text)") from None
    try:
        cert = x509.load_pem_x509_certificate(data)
    except ValueError:
        raise CertificateProblem(f"{path}: {PEM_OR_PFX} (no certificate in it)") from None
    try:
        key = serialization.load_pem_private_key(data, password)
    except TypeError:  # cryptography's word for a password given or missing
        wanted = password is None
        reason = (
            "the private key is encrypted: set certificate_password"
            if wanted
            else "certificate_password is set but the private key is not encrypted"
        )
        raise CertificateProblem(f"{path}: {reason}") from None
    except ValueError as exc:
        if "password" in str(exc).lower():
            raise CertificateProblem(f"{path}: wrong certificate_password") from None
        raise CertificateProblem(f"{path}: {PEM_OR_PFX} (no private key in it)") from None
    return cert, key
