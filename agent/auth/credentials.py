"""How one app registration signs in: a client secret, or (preferred) a certificate.

The certificate and its key are read and checked when the credential is handed to MSAL, so a
wrong password or a missing key fails at start-up rather than at the first nightly sign-in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from pydantic import SecretStr


def _reveal(secret: SecretStr | str | None) -> str | None:
    if secret is None:
        return None
    return secret.get_secret_value() if isinstance(secret, SecretStr) else secret


@dataclass(frozen=True, slots=True)
class AppCredential:
    """How one app registration signs in: a client secret, or (preferred) a certificate.

    ``certificate_file`` is a PEM holding the private key and the certificate (or only the
    certificate, with the key in ``private_key_file``), or a PFX/P12 file. ``send_certificate
    _chain`` adds the certificate itself (``x5c``) to each assertion, for Subject Name/Issuer
    authentication.
    """

    client_id: str
    client_secret: SecretStr | str | None = field(default=None, repr=False)
    certificate_file: Path | None = None
    certificate_password: SecretStr | str | None = field(default=None, repr=False)
    private_key_file: Path | None = None
    send_certificate_chain: bool = False

    def __post_init__(self) -> None:
        has_secret = self.client_secret is not None
        has_cert = self.certificate_file is not None
        if has_secret == has_cert:
            raise ValueError("an app credential needs either a client secret or a certificate")

    @property
    def uses_secret(self) -> bool:
        return self.client_secret is not None

    @property
    def is_pfx(self) -> bool:
        path = self.certificate_file
        if path is None:
            return False
        if path.suffix.lower() in (".pfx", ".p12"):
            return True
        return not path.read_bytes().lstrip().startswith(b"-----")

    def _password(self) -> bytes | None:
        text = _reveal(self.certificate_password)
        return text.encode("utf-8") if text else None

    def certificate(self) -> x509.Certificate:
        """The public certificate the app signs in with."""
        assert self.certificate_file is not None
        data = self.certificate_file.read_bytes()
        if self.is_pfx:
            _key, cert, _extra = pkcs12.load_key_and_certificates(data, self._password())
            if cert is None:
                raise ValueError(f"{self.certificate_file}: the PFX file holds no certificate")
            return cert
        return x509.load_pem_x509_certificate(data)

    @property
    def thumbprint(self) -> str | None:
        """SHA-1 thumbprint (upper-case hex) of the certificate, as Entra lists it."""
        if self.certificate_file is None:
            return None
        return self.certificate().fingerprint(hashes.SHA1()).hex().upper()  # noqa: S303

    def msal_credential(self) -> str | dict[str, Any]:
        """The ``client_credential`` argument of ``msal.ConfidentialClientApplication``."""
        secret = _reveal(self.client_secret)
        if secret is not None:
            return secret
        assert self.certificate_file is not None
        password = _reveal(self.certificate_password)
        if self.is_pfx:
            pfx: dict[str, Any] = {"private_key_pfx_path": str(self.certificate_file)}
            if password:
                pfx["passphrase"] = password
            if self.send_certificate_chain:
                pfx["public_certificate"] = True
            return pfx
        key_source = self.private_key_file or self.certificate_file
        key_pem = key_source.read_bytes()
        # Load once here so a wrong password or a missing key fails at start-up, not at 3 am.
        serialization.load_pem_private_key(key_pem, self._password())
        credential: dict[str, Any] = {
            "private_key": key_pem.decode("ascii"),
            "thumbprint": self.thumbprint,
        }
        if password:
            credential["passphrase"] = password
        if self.send_certificate_chain:
            credential["public_certificate"] = (
                self.certificate().public_bytes(serialization.Encoding.PEM).decode("ascii")
            )
        return credential

    def known_secrets(self) -> list[str]:
        """Strings that must never appear in a log line or an error message."""
        return [s for s in (_reveal(self.client_secret), _reveal(self.certificate_password)) if s]
