"""The emulator: one HTTPS origin for login, Partner Center, Graph, ARM and Insights.

:class:`Emulator` ties a scenario (reloaded when its file changes) to the request pipeline
(``service``), the endpoints (``apis``) and the listener, with a ``trustme`` CA for its TLS.
"""

from __future__ import annotations

import contextlib
import os
import signal
import ssl
import tempfile
import threading
import time
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

import structlog
import trustme

from connectors.base import PARTNER_APP
from standin.emulator.apis import ROUTES
from standin.emulator.authority import TokenAuthority
from standin.emulator.limits import LIMITS, Limiters
from standin.emulator.listener import Listener
from standin.emulator.scenario_file import ScenarioFile
from standin.emulator.service import Service, Settings
from standin.emulator.tokens import admin_upn, user_object_id
from standin.emulator.wire import Reply, Request, json_reply
from standin.emulator.world import World
from standin.scenario import Scenario, ScenarioError, load_scenario

log = structlog.get_logger("standin.emulator")

RELOAD_CHECK_INTERVAL = 0.2
"""Seconds between two looks at the scenario file's modification time."""


class Emulator:
    """A local HTTPS stand-in for Microsoft serving one scenario.

    Usable as a context manager, or with :meth:`start` and :meth:`stop`. ``base_url`` is the
    origin every API lives on; ``ca_path`` the PEM of the CA that signed its certificate.
    A scenario given as a path is reloaded when the file (or its ``base``) changes.
    """

    def __init__(
        self,
        scenario_or_path: Scenario | str | os.PathLike[str],
        host: str = "127.0.0.1",
        port: int = 0,
        ca_out: str | os.PathLike[str] | None = None,
        *,
        timeout_hold: float = 0.0,
        device_pending_polls: int = 1,
    ) -> None:
        self._file: ScenarioFile | None = None
        if isinstance(scenario_or_path, Scenario):
            self.scenario_path: Path | None = None
            scenario = scenario_or_path
        else:
            self.scenario_path = Path(scenario_or_path).expanduser().resolve()
            scenario = load_scenario(self.scenario_path)
            self._file = ScenarioFile(self.scenario_path)
        self.host = host
        self._requested_port = port
        self.port = port
        self._ca_out = Path(ca_out) if ca_out is not None else None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self.ca_path = ""
        self._world = World(scenario)
        self._timeout_hold = timeout_hold
        self._settings = self._settings_of(scenario)
        self._limiters = Limiters(self._settings.time_scale)
        self._last_check = time.monotonic()
        self._reload_lock = threading.Lock()
        self.reloads = 0
        self.stopping = threading.Event()
        tokens = TokenAuthority(device_pending_polls=device_pending_polls)
        self.service = Service(
            self._current_world,
            lambda: self._settings,
            tokens,
            lambda: self._limiters,
            self.stopping,
            routes=ROUTES,
        )
        self.service.control = self._control
        self._server: Listener | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> Emulator:
        if self._server is not None:
            return self
        ca = trustme.CA(organization_name="partnerlink emulator")
        cert = ca.issue_cert("127.0.0.1", "localhost", "::1")
        if self._ca_out is not None:
            self._ca_out.parent.mkdir(parents=True, exist_ok=True)
            ca.cert_pem.write_to_path(str(self._ca_out))
            self.ca_path = str(self._ca_out)
        else:
            self._tmp = tempfile.TemporaryDirectory(prefix="partnerlink-emulator-")
            path = Path(self._tmp.name) / "ca.pem"
            ca.cert_pem.write_to_path(str(path))
            self.ca_path = str(path)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(context)
        self.stopping.clear()
        self._server = Listener((self.host, self._requested_port), self.service.handle, context)
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"emulator-{self.port}",
            daemon=True,
        )
        self._thread.start()
        log.info("emulator_started", base_url=self.base_url, scenario=self.scenario.name)
        return self

    def stop(self) -> None:
        """Stop serving: close the listener, every open connection, and the temporary CA."""
        server, self._server = self._server, None
        if server is None:
            return
        self.stopping.set()
        server.shutdown()
        server.server_close()
        server.close_connections()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        server.wait_closed(2)
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
        log.info("emulator_stopped", port=self.port)

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- what callers use ---------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"https://{self.host}:{self.port}"

    @property
    def scenario(self) -> Scenario:
        return self._current_world().scenario

    @property
    def partner_tenant_id(self) -> str:
        return self.scenario.partner.tenant_id.lower()

    def authority(self, tenant_id: str | None = None) -> str:
        """The MSAL authority URL of a tenant (default: the partner's)."""
        return f"{self.base_url}/{(tenant_id or self.partner_tenant_id).lower()}"

    def register_certificate(self, pem: bytes | str) -> str:
        """Upload a public certificate to the app registrations (what the Entra portal's
        "Certificates" blade does). Its SHA-1 thumbprint must still be listed in the app's
        ``certificate_thumbprints``. Returns that thumbprint."""
        return self._token_authority.register_certificate(pem)

    def issue_refresh_token(self, client_id: str | None = None) -> str:
        """A refresh token of the partner's administrator for an app (default: the partner's
        app), as a completed device-code sign-in would leave behind, as long unused as the
        scenario's ``partner.refresh_token.rotated`` says (one idle 90 days is refused)."""
        tenant = self.partner_tenant_id
        app = (client_id or self.scenario.partner.app.client_id).lower()
        oid = user_object_id(tenant)
        spec = self.scenario.partner.refresh_token
        idle = (self.scenario.clock - spec.rotated).total_seconds() if spec else 0.0
        return self._token_authority.refresh_token(
            tenant_id=tenant,
            client_id=app,
            user_oid=oid,
            upn=admin_upn(tenant),
            idle=max(idle, 0.0),
        )

    def reset(self) -> None:
        """Forget fault counters, throttling state and request counts."""
        self._current_world().faults.reset()
        self._limiters = Limiters(self._settings.time_scale)
        svc = self.service
        with svc._count_lock:
            svc.requests.clear()
            svc.throttled.clear()
            svc.faults_fired = 0

    def info(self, *, detail: bool = False) -> dict[str, Any]:
        """What a client needs to connect, and what the emulator has seen."""
        scenario = self.scenario
        svc = self.service
        with svc._count_lock:
            requests = dict(svc.requests)
            throttled = dict(svc.throttled)
            fired = svc.faults_fired
        return {
            "base_url": self.base_url,
            "ca_path": self.ca_path,
            "scenario": scenario.name,
            "scenario_path": str(self.scenario_path) if self.scenario_path else None,
            "reloads": self.reloads,
            "partner_tenant_id": scenario.partner.tenant_id.lower(),
            "client_id": scenario.partner.app.client_id.lower(),
            "client_secret": scenario.partner.app.client_secret,
            "apps": [
                {
                    "name": name,
                    "client_id": app.client_id.lower(),
                    "client_secret": app.client_secret,
                }
                for name, app in [(PARTNER_APP, scenario.partner.app)]
                + [(c.name, c) for c in scenario.partner.carriers]
            ],
            "time_scale": self._settings.time_scale,
            "enforce_limits": self._settings.enforce_limits,
            "latency_ms": self._settings.latency_ms,
            "requests": requests,
            "throttled": throttled,
            "faults_fired": fired,
            "scopes": self._limiters.stats(detail=detail),
            "limits": {
                limit.name: {
                    "capacity": limit.capacity,
                    "period_s": limit.period,
                    "algorithm": limit.algorithm,
                    "scope": limit.scope,
                    "source": limit.source,
                }
                for limit in LIMITS
            },
        }

    # -- internals ----------------------------------------------------------------------------

    @property
    def _token_authority(self) -> TokenAuthority:
        return self.service.authority

    def _settings_of(self, scenario: Scenario) -> Settings:
        emu = scenario.emulator
        return Settings(
            time_scale=emu.time_scale,
            enforce_limits=emu.enforce_limits,
            latency_ms=emu.latency_ms,
            timeout_hold=self._timeout_hold,
        )

    def _current_world(self) -> World:
        if self.scenario_path is not None:
            now = time.monotonic()
            if now - self._last_check >= RELOAD_CHECK_INTERVAL:
                self._last_check = now
                self.reload_if_changed()
        return self._world

    def reload_if_changed(self) -> bool:
        """Reload the scenario when its file changed; a broken file keeps the old world."""
        if self._file is None:
            return False
        with self._reload_lock:
            stamps = self._file.changed()
            if stamps is None:
                return False
            try:
                scenario = load_scenario(self._file.path)
            except ScenarioError as exc:
                log.warning("emulator_reload_failed", error=str(exc))
                return False
            self._file.accept(stamps)
            settings = self._settings_of(scenario)
            if settings.time_scale != self._settings.time_scale:
                self._limiters = Limiters(settings.time_scale)
            self._settings = settings
            self._world = World(scenario)
            self.reloads += 1
            log.info("emulator_reloaded", scenario=scenario.name, reloads=self.reloads)
            return True

    def _control(self, req: Request) -> Reply:
        path = req.path.rstrip("/").lower()
        if path == "/_emulator/info" and req.method == "GET":
            detail = (req.arg("detail") or "").lower() in ("1", "true", "yes")
            return json_reply(200, self.info(detail=detail))
        if path == "/_emulator/certificates" and req.method == "POST":
            try:
                thumbprint = self.register_certificate(req.body)
            except ValueError:
                return json_reply(400, {"error": "not a PEM certificate"})
            return json_reply(200, {"thumbprint": thumbprint})
        if path == "/_emulator/refresh-token" and req.method == "POST":
            return json_reply(
                200, {"refresh_token": self.issue_refresh_token(req.arg("client_id"))}
            )
        if path == "/_emulator/reset" and req.method == "POST":
            self.reset()
            return json_reply(200, {"reset": True})
        return json_reply(404, {"error": f"no control endpoint {req.method} {req.path}"})


def serve(
    scenario_path: str | os.PathLike[str],
    host: str = "127.0.0.1",
    port: int = 8443,
    ca_out: str | os.PathLike[str] | None = None,
    *,
    ready: threading.Event | None = None,
    stop: threading.Event | None = None,
) -> None:
    """Run an emulator until interrupted (Ctrl-C, SIGTERM, or ``stop`` set); the CLI's
    ``emulator`` command. ``ready`` is set once it listens."""
    emulator = Emulator(scenario_path, host, port, ca_out)
    stopper = stop or threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        stopper.set()

    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _on_signal)
    try:
        with emulator:
            log.info(
                "emulator_listening",
                base_url=emulator.base_url,
                ca_path=emulator.ca_path,
                partner_tenant_id=emulator.partner_tenant_id,
            )
            if ready is not None:
                ready.set()
            with contextlib.suppress(KeyboardInterrupt):
                while not stopper.wait(0.5):
                    pass
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
