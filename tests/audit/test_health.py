"""agent.health: which credential an identity signs in with (the certificate by its thumbprint,
else the latest of the kind it uses, else the latest of all), and the refresh token's state from
its file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from agent.audit.credential import REFRESH_TOKEN
from agent.auth import AppCredential, RefreshTokenStore
from agent.config import load_settings
from agent.health import own_credentials, refresh_state
from agent.store import StoredObservation
from connectors.records.pal import CredentialEnd, Identity
from tests.config.certs import Cert

NOW = datetime(2026, 11, 15, 2, 0, tzinfo=UTC)
LEAD = timedelta(days=30)
APP_ID = "a9900000-0000-4000-8000-0000000000a1"


class _Store:
    """The one read own_credentials makes of the store."""

    def __init__(self, *records: Identity) -> None:
        self.records = records

    def current(self, **_: Any) -> list[StoredObservation]:
        return [
            StoredObservation(
                record=r, source="graph.identities", scope="x", first_seen_at=NOW, last_seen_at=NOW
            )
            for r in self.records
        ]


def _identity(*credentials: CredentialEnd) -> Identity:
    ends = [c.ends for c in credentials if c.ends]
    return Identity(
        customer_tenant_id="c1",
        identity="partner-app",
        app_id=APP_ID,
        credential_expires=max(ends) if ends else None,
        credentials=credentials,
    )


def _settings(tmp_path: Path, extra: str = "") -> Any:
    path = tmp_path / "p.toml"
    path.write_text(f'[store]\ndata_dir = "{tmp_path}"\n{extra}')
    return load_settings(path)


SOON = CredentialEnd(kind="certificate", ends=NOW + timedelta(days=9), thumbprint="A" * 40)
LATER = CredentialEnd(kind="certificate", ends=NOW + timedelta(days=300), thumbprint="B" * 40)
SECRET = CredentialEnd(kind="secret", ends=NOW + timedelta(days=200))


def _state(tmp_path: Path, signing: dict[str, AppCredential], *creds: CredentialEnd) -> Any:
    [state] = own_credentials(
        _settings(tmp_path), _Store(_identity(*creds)), NOW, lead=LEAD, signing=signing
    )  # type: ignore[arg-type]
    return state


def test_the_certificate_signed_in_with_is_found_by_its_thumbprint(tmp_path: Path) -> None:
    cert = Cert()
    own = CredentialEnd(
        kind="certificate", ends=NOW + timedelta(days=12), thumbprint=cert.thumbprint
    )
    pem = cert.pem(tmp_path / "app.pem")
    signing = {"partner-app": AppCredential(client_id=APP_ID, certificate_file=pem)}

    state = _state(tmp_path, signing, LATER, own, SECRET)

    assert (state.kind, state.expires, state.evidence["matched"]) == (
        "certificate",
        own.ends,
        True,
    )
    assert state.due(NOW)


def test_a_secret_is_judged_by_the_latest_secret_not_by_a_later_certificate(tmp_path: Path) -> None:
    signing = {"partner-app": AppCredential(client_id=APP_ID, client_secret="s3cret-value")}

    state = _state(tmp_path, signing, LATER, SECRET, SOON)

    assert (state.kind, state.expires, state.evidence["matched"]) == ("secret", SECRET.ends, False)


def test_unknown_signing_takes_the_latest_of_all_and_never_read_is_unknown(tmp_path: Path) -> None:
    assert _state(tmp_path, {}, SOON, LATER).expires == LATER.ends
    [never] = own_credentials(_settings(tmp_path), _Store(), NOW, lead=LEAD, signing={})  # type: ignore[arg-type]
    assert never.expires is None


def test_the_refresh_token_dies_90_days_after_its_last_rotation(tmp_path: Path) -> None:
    file = tmp_path / "rt.json"
    settings = _settings(tmp_path, f'[credentials]\nrefresh_token_file = "{file}"\n')
    assert refresh_state(settings, NOW) is None, "none stored and no app+user source: nothing"

    rotated = NOW - timedelta(days=61)
    RefreshTokenStore(file).save("rt-1", rotated_at=rotated, signed_in=True)
    state = refresh_state(settings, NOW)

    assert state is not None and state.kind == REFRESH_TOKEN
    assert state.expires == rotated + timedelta(days=90)
    assert state.lead == timedelta(days=30)  # 90 - refresh_token_warn_days (60)
    assert state.evidence["signed_in_at"] == rotated.isoformat()
    assert state.due(NOW)


def test_no_stored_token_while_app_user_sources_are_on_is_reported(tmp_path: Path) -> None:
    settings = _settings(
        tmp_path,
        f'[credentials]\nrefresh_token_file = "{tmp_path / "none.json"}"\n[sources]\napp_user = true\n',
    )
    state = refresh_state(settings, NOW)
    assert state is not None and state.expires is None and state.evidence["stored"] is False
