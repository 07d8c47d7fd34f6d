"""Certificate files as people hand them to the agent: good, expired, encrypted, half, a PFX."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class Cert:
    """A self-signed RSA certificate and its key, valid from ``start`` to ``end`` (days from
    now, negative in the past)."""

    def __init__(self, start: float = -1, end: float = 365) -> None:
        self.key = _key()
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "partnerlink-test")])
        now = datetime.now(UTC)
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now + timedelta(days=start))
            .not_valid_after(now + timedelta(days=end))
            .sign(self.key, hashes.SHA256())
        )
        self.cert_pem = self.cert.public_bytes(serialization.Encoding.PEM)
        self.thumbprint = self.cert.fingerprint(hashes.SHA1()).hex().upper()

    def key_pem(self, password: bytes | None = None) -> bytes:
        encryption = (
            serialization.BestAvailableEncryption(password)
            if password
            else serialization.NoEncryption()
        )
        return self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        )

    def pem(self, path: Path, password: bytes | None = None) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self.key_pem(password) + self.cert_pem)
        return path

    def pfx(self, path: Path, password: bytes) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(
            pkcs12.serialize_key_and_certificates(
                b"app", self.key, self.cert, None, serialization.BestAvailableEncryption(password)
            )
        )
        return path

    def with_foreign_key(self, path: Path) -> Path:
        """The certificate with a private key that is not its own."""
        other = _key().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        path.write_bytes(other + self.cert_pem)
        return path
