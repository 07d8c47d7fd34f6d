"""The emulator as a process: info, reload on change, latency, CA file, serve(), clean stop."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import httpx
import pytest

from standin.emulator import Emulator, serve
from standin.scenario import bundled_path
from tests.emulator.conftest import MakeEmulator
from tests.emulator.support import (
    APP_ID,
    C1,
    GRAPH,
    PARTNER,
    PC,
    SECRET,
    Certificate,
    app_token,
    bearer,
    client,
    ssl_context,
    world,
    write,
)


def test_info_tells_a_client_how_to_connect(emulator: Emulator, http: httpx.Client) -> None:
    app_token(http, C1, GRAPH)
    info = http.get("/_emulator/info").json()
    assert info["partner_tenant_id"] == PARTNER
    assert info["client_id"] == APP_ID
    assert info["client_secret"] == SECRET
    assert info["base_url"] == emulator.base_url
    assert info["requests"]["login"] == 1
    assert {"scopes", "throttled", "limits", "faults_fired", "apps"} <= set(info)
    assert emulator.info()["scenario"] == info["scenario"] == "emulator-test"
    detail = http.get("/_emulator/info?detail=1").json()
    assert all("per_key" in s for s in detail["scopes"].values())


def test_control_endpoints_register_certificates_and_mint_refresh_tokens(
    http: httpx.Client, tmp_path: Path
) -> None:
    cert = Certificate(tmp_path)
    registered = http.post("/_emulator/certificates", content=cert.cert_pem).json()
    assert registered["thumbprint"] == cert.thumbprint
    assert http.post("/_emulator/certificates", content=b"nope").status_code == 400
    refresh = http.post("/_emulator/refresh-token").json()["refresh_token"]
    answer = http.post(
        f"/{PARTNER}/oauth2/v2.0/token",
        data={
            "grant_type": "refresh_token",
            "client_id": APP_ID,
            "client_secret": SECRET,
            "refresh_token": refresh,
            "scope": f"{PC}/.default",
        },
    )
    assert answer.status_code == 200
    assert http.post("/_emulator/reset").json() == {"reset": True}
    assert http.get("/_emulator/nope").status_code == 404


def test_the_scenario_reloads_when_its_file_changes(
    make_emulator: MakeEmulator, tmp_path: Path
) -> None:
    emulator = make_emulator()
    path = emulator.scenario_path
    assert path is not None
    with client(emulator.base_url, emulator.ca_path) as http:
        headers = bearer(app_token(http, PARTNER, PC))
        data = world()
        data["customers"][0]["name"] = "Alpine Dairy (renamed)"
        write(path, data)
        stamp = path.stat().st_mtime + 5
        os.utime(path, (stamp, stamp))
        deadline = time.monotonic() + 3
        name = ""
        while time.monotonic() < deadline:
            name = http.get(f"/v1/customers/{C1}", headers=headers).json()["companyProfile"][
                "companyName"
            ]
            if name.endswith("(renamed)"):
                break
            time.sleep(0.05)
        assert name == "Alpine Dairy (renamed)"
        assert emulator.reloads == 1
        # A broken file keeps the world that was there; tokens stay valid across reloads.
        path.write_text("{ not json", encoding="utf-8")
        os.utime(path, (stamp + 5, stamp + 5))
        time.sleep(0.3)
        assert http.get(f"/v1/customers/{C1}", headers=headers).status_code == 200
        assert emulator.reloads == 1


def test_latency_is_added_to_every_request(make_emulator: MakeEmulator) -> None:
    emulator = make_emulator(world(emulator={"latency_ms": 60}))
    with client(emulator.base_url, emulator.ca_path) as http:
        token = app_token(http, PARTNER, PC)
        started = time.monotonic()
        http.get("/v1/customers", headers=bearer(token))
        assert time.monotonic() - started >= 0.06


def test_the_ca_is_written_where_asked_and_the_demo_world_serves(tmp_path: Path) -> None:
    ca = tmp_path / "ca" / "emulator-ca.pem"
    with Emulator(bundled_path("demo"), ca_out=ca) as emulator:
        assert emulator.ca_path == str(ca)
        assert ca.read_text().startswith("-----BEGIN CERTIFICATE-----")
        with client(emulator.base_url, str(ca)) as http:
            info = http.get("/_emulator/info").json()
            token = app_token(
                http,
                info["partner_tenant_id"],
                PC,
                client_id=info["client_id"],
                secret=info["client_secret"],
            )
            assert http.get("/v1/customers", headers=bearer(token)).json()["totalCount"] >= 10
        localhost = emulator.base_url.replace("127.0.0.1", "localhost")
        with httpx.Client(verify=ssl_context(str(ca))) as h:
            assert h.get(f"{localhost}/_emulator/info").status_code == 200


def test_stop_closes_kept_alive_connections(make_emulator: MakeEmulator) -> None:
    emulator = make_emulator()
    with client(emulator.base_url, emulator.ca_path) as http:
        assert http.get("/_emulator/info").status_code == 200
        emulator.stop()
        with pytest.raises(httpx.TransportError):
            http.get("/_emulator/info")
    emulator.stop()  # a second stop is harmless


def test_serve_blocks_until_told_to_stop(tmp_path: Path) -> None:
    path = write(tmp_path / "world.json", world())
    ca = tmp_path / "ca.pem"
    ready, stop = threading.Event(), threading.Event()
    thread = threading.Thread(
        target=serve,
        args=(path, "127.0.0.1", 0, ca),
        kwargs={"ready": ready, "stop": stop},
        daemon=True,
    )
    thread.start()
    assert ready.wait(10)
    assert ca.read_text().startswith("-----BEGIN CERTIFICATE-----")
    stop.set()
    thread.join(5)
    assert not thread.is_alive()
