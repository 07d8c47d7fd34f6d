"""``partnerlink auth status``: when the refresh token was rotated, when it dies unless used,
when the administrator signed in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from agent.auth import RefreshTokenStore
from tests.cli.test_cli import partnerlink


def test_auth_status_tells_when_the_token_dies_and_when_the_sign_in_was(tmp_path: Path) -> None:
    token = tmp_path / "rt.json"
    now = datetime.now(UTC)
    RefreshTokenStore(token).save(
        "rt-value", rotated_at=now - timedelta(days=70), signed_in_at=now - timedelta(days=200)
    )
    config = tmp_path / "p.toml"
    config.write_text(f'[credentials]\nrefresh_token_file = "{token}"\n')

    result = partnerlink("--config", str(config), "auth", "status")

    assert result.returncode == 0, result.stderr
    dies = (now - timedelta(days=70) + timedelta(days=90)).date()
    assert "refresh token rotated 70 day(s) ago" in result.stdout
    assert f"dies on {dies} unless used" in result.stdout
    assert f"signed in on {(now - timedelta(days=200)).date()}" in result.stdout
    assert "renew it soon" in result.stdout
    assert "rt-value" not in result.stdout + result.stderr
