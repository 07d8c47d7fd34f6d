"""The agent's own credentials as findings, through the real connectors and the emulator, with a
fixed clock: the partner's secret read from its app registration fires at its lead time, turns
critical in its last week and resolves once renewed; the app+user refresh token fires when it has
idled past the warning, dies after 90 idle days, and stays healthy while syncs redeem it; both
are on /metrics."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from agent.app import Agent
from agent.config import load_settings
from agent.metrics import Metrics
from agent.store import FindingStatus
from tests.conftest import T0, Clock
from tests.worlds import C1, C2, SUB1, SUB2, customer, world_dict

ACTIVE = {FindingStatus.OPEN, FindingStatus.PENDING, FindingStatus.ACKNOWLEDGED}


def _world(folder: Path, *, secret: str = "+20d", token: dict[str, Any] | None = None) -> None:
    world = world_dict(customer(C1, SUB1), customer(C2, SUB2))
    world["now"] = T0.isoformat()
    app = world["partner"]["app"]
    app["credential_expires"] = secret
    # A certificate the agent does not sign in with: its later end must not hide the secret's.
    app["other_credentials"] = [{"kind": "certificate", "expires": "+700d", "name": "next"}]
    if token is not None:
        world["partner"]["refresh_token"] = token
    (folder / "world.json").write_text(json.dumps(world))


def _config(folder: Path, *, app_user: bool = False, disabled: tuple[str, ...] = ()) -> Path:
    config = folder / "partnerlink.toml"
    config.write_text(
        '[partner]\ntenant_id = "7a11ce00-0000-4000-8000-000000000001"\n'
        'global_partner_id = "4100001"\n'
        '[[partner.locations]]\npartner_id = "4100002"\nlink_kinds = ["pal", "cpor"]\n'
        f'[sources]\nmode = "emulator"\nscenario = "world.json"\napp_user = {str(app_user).lower()}\n'
        f"disabled = {json.dumps(list(disabled))}\n"
        '[store]\ndata_dir = "."\n[audit]\nresolve_after_runs = 1\n'
    )
    return config


def _cycle(config: Path, clock: Clock) -> tuple[dict[str, Any], Metrics]:
    with Agent(load_settings(config), clock=clock) as agent:
        metrics = Metrics(agent.store)
        agent.metrics = metrics
        _, audited = agent.cycle()
        assert audited is not None
        found = {
            f.rule: f
            for f in agent.store.findings()
            if f.rule in ("credential_expiring", "refresh_token_expiring") and f.status in ACTIVE
        }
        return found, metrics


def _gauge(metrics: Metrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


def test_the_partners_secret_fires_at_its_lead_time_then_critical_then_resolves(
    tmp_path: Path,
) -> None:
    _world(tmp_path)
    config = _config(tmp_path)
    expires = T0 + timedelta(days=20)

    early, _ = _cycle(config, Clock(expires - timedelta(days=31)))
    assert "credential_expiring" not in early, "31 days ahead: outside the 30-day lead time"

    due, metrics = _cycle(config, Clock(T0))
    finding = due["credential_expiring"]
    assert finding.customer_tenant_id is None
    assert finding.title == (
        f"The client secret of the partner's app expires on {expires.date()} (in 20 days)"
    )
    assert finding.severity == "high"
    evidence = json.loads(finding.evidence)
    assert evidence["kind"] == "secret"
    assert evidence["credentials"] == 2 and evidence["matched"] is False
    expiry = _gauge(
        metrics,
        "partnerlink_credential_expiry_timestamp_seconds",
        identity="partner-app",
        kind="secret",
    )
    assert expiry == expires.timestamp()

    last_week, _ = _cycle(config, Clock(expires - timedelta(days=6)))
    assert last_week["credential_expiring"].severity == "critical"

    _world(tmp_path, secret="+400d")  # a new secret, read at the next sync
    renewed, _ = _cycle(config, Clock(expires - timedelta(days=5)))
    assert "credential_expiring" not in renewed


def test_an_idle_refresh_token_fires_and_a_redeemed_one_is_healthy(tmp_path: Path) -> None:
    _world(tmp_path, secret="+400d", token={"rotated": "-70d", "signed_in": "-200d"})
    idle = _config(
        tmp_path, app_user=True, disabled=("partner_center.usage", "insights.attribution")
    )

    found, metrics = _cycle(idle, Clock(T0))
    finding = found["refresh_token_expiring"]
    dies = (T0 - timedelta(days=70) + timedelta(days=90)).date()
    assert finding.title == (
        f"The app+user refresh token dies on {dies} (in 20 days) unless it is used"
    )
    evidence = json.loads(finding.evidence)
    assert evidence["idle_days"] == 70
    assert evidence["signed_in_at"] == (T0 - timedelta(days=200)).isoformat()
    rotated = _gauge(metrics, "partnerlink_refresh_token_rotated_timestamp_seconds")
    assert rotated == (T0 - timedelta(days=70)).timestamp()

    used = _config(tmp_path, app_user=True)  # usage read: the token is redeemed and rotated
    found, _ = _cycle(used, Clock(T0))
    assert "refresh_token_expiring" not in found


def test_a_refresh_token_idle_90_days_is_refused_and_reported_dead(tmp_path: Path) -> None:
    _world(tmp_path, secret="+400d", token={"rotated": "-95d"})
    config = _config(tmp_path, app_user=True)

    with Agent(load_settings(config), clock=Clock(T0)) as agent:
        synced, _ = agent.cycle()
        failed = {r.source: r.error or "" for r in synced.failed}
        findings = {f.rule: f for f in agent.store.findings(statuses=["open"])}

    assert "AADSTS700082" in failed["partner_center.usage"]
    assert findings["refresh_token_expiring"].title.startswith(
        "The app+user refresh token died of idleness on "
    )
