"""The composition root: the only place that decides real or fake, and wires settings into
the store, the connectors, the sync and the audit."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import ExitStack, asynccontextmanager, contextmanager, suppress
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import structlog

from agent.audit.context import AuditContext
from agent.audit.credential import CredentialState
from agent.audit.link import Expectation
from agent.audit.outcome import AuditOutcome
from agent.audit.policy import AuditPolicy
from agent.config import ConfigError, Settings
from agent.expectations import load_managed_customers, owners
from agent.lock import SoleRunner
from agent.recognition.holdings import Us
from agent.recognition.load import load_rulebook
from agent.recognition.model import Rulebook
from agent.store import Store, Transaction
from agent.sync import ChangeFeed, Progress, Syncer, SyncOutcome
from connectors.base import PARTNER_APP, Connector
from connectors.records.scope import Source

if TYPE_CHECKING:
    from agent.live import LiveWiring, LocalMicrosoft
    from agent.matrix import MatrixRow
    from agent.metrics import Metrics
    from agent.recognition.view import CreditRow, CreditView
    from agent.report_data import ReportData

log = structlog.get_logger("partnerlink.app")


def utc_now() -> datetime:
    return datetime.now(UTC)


class Agent:
    """One configured agent: opens what it needs lazily, closes it all on ``close()``."""

    def __init__(self, settings: Settings, *, clock: Callable[[], datetime] = utc_now) -> None:
        self.settings = settings
        self.clock = clock
        self.policy = AuditPolicy.of(settings.audit)
        """The ``[audit]`` thresholds, read here once and handed to whatever needs them."""
        self._store: Store | None = None
        self._stack = ExitStack()
        self._wiring: LiveWiring | None = None
        self.runner = SoleRunner(lambda: self.store, self.clock)
        """The single-runner lock each sync holds (agent.lock)."""
        self.metrics: Metrics | None = None
        """Where the live connectors count their requests; the daemon sets it."""

    def __enter__(self) -> Agent:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._stack.close()
        if self._store is not None:
            self._store.close()
            self._store = None

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = Store.open(self.settings.store.resolved_url())
        return self._store

    # ------------------------------------------------------------------------ connectors

    def identities(self) -> tuple[str, ...]:
        """The identities the agent reads PAL as: the partner's app and every carrier."""
        return (PARTNER_APP, *(c.name for c in self.settings.credentials.carriers))

    def applies(self, connector: Connector, tenant: str) -> bool:
        if connector.source.value in self.settings.sources.disabled:
            return False
        if connector.source is Source.ARM_PAL and connector.identity not in (None, PARTNER_APP):
            carrier = next(
                (c for c in self.settings.credentials.carriers if c.name == connector.identity),
                None,
            )
            return carrier is not None and carrier.covers(tenant)
        return True

    @asynccontextmanager
    async def connectors(self) -> AsyncIterator[list[Connector]]:
        """The connectors of one sync, alive for that sync's event loop."""
        sources = self.settings.sources
        if sources.mode == "fake":
            from standin.fake import FakeWorld
            from standin.scenario import load_scenario

            assert sources.scenario is not None
            world = FakeWorld(
                load_scenario(sources.scenario),
                clock=self.clock,
                audit_lookback_days=self.settings.sync.audit_lookback_days,
            )
            yield self.wanted(world.connectors(self.identities()))
            return
        async with self.wiring().connectors(self.metrics) as made:
            yield self.wanted(made)

    def wiring(self) -> LiveWiring:
        """The real connectors' shared parts (token provider, endpoints, the emulator in
        emulator mode), built once per agent."""
        if self._wiring is None:
            from agent.live import build_wiring

            local = self._emulator() if self.settings.sources.mode == "emulator" else None
            self._wiring = build_wiring(self.settings, self._stack, local)
        return self._wiring

    def _emulator(self) -> LocalMicrosoft:
        """Start the stand-in's emulator on the configured scenario, for the agent's life."""
        from agent.auth import AppCredential
        from agent.live import LocalMicrosoft
        from standin.emulator import Emulator
        from standin.emulator.hints import source_hints
        from standin.scenario import load_scenario

        path = self.settings.sources.scenario
        assert path is not None
        emulator = self._stack.enter_context(Emulator(path))
        scenario = load_scenario(path)
        log.info("emulator_started", base_url=emulator.base_url)
        apps = {
            name: AppCredential(client_id=app.client_id, client_secret=app.client_secret)
            for name in self.identities()
            if (app := scenario.app(name)) is not None
        }
        token = scenario.partner.refresh_token
        return LocalMicrosoft(
            base_url=emulator.base_url,
            ca_path=emulator.ca_path,
            time_scale=scenario.emulator.time_scale,
            apps=apps,
            issue_refresh_token=emulator.issue_refresh_token,
            wrap=source_hints(emulator.base_url),
            refresh_token_rotated=token.rotated if token else scenario.clock,
            refresh_token_signed_in=token.signed_in if token else None,
        )

    def wanted(self, made: Sequence[Connector]) -> list[Connector]:
        """The connectors a sync (and the readiness check) reads: none of a disabled source,
        and the app+user usage source only where app+user sources are on."""
        sources = self.settings.sources
        disabled = set(sources.disabled)
        wanted = [c for c in made if c.source.value not in disabled]
        if not sources.app_user:
            wanted = [c for c in wanted if c.source is not Source.PC_USAGE]
        return wanted

    # ------------------------------------------------------------------------ audit context

    def expectations(self) -> dict[str, tuple[Expectation, ...]]:
        path = self.settings.expectations.managed_customers_file
        if path is None:
            return {}
        grouped: dict[str, list[Expectation]] = {}
        for customer in load_managed_customers(path):
            grouped.setdefault(customer.tenant_id, []).extend(customer.expectations())
        return {k: tuple(v) for k, v in grouped.items()}

    def audit_context(
        self, now: datetime, run_id: int, *, credentials: bool = True
    ) -> AuditContext:
        s, policy = self.settings, self.policy
        kinds = ("pal", "cpor", "dpor", "csp", "indirect_reseller", "gdap")
        return AuditContext(
            partner_tenant_id=s.partner.tenant_id,
            global_partner_id=s.partner.global_partner_id,
            location_ids=frozenset(loc.partner_id for loc in s.partner.locations),
            ids_for_kind={k: s.partner.ids_for(k) for k in kinds},
            now=now,
            run_id=run_id,
            open_after_runs=policy.open_after_runs,
            disappeared_after_runs=policy.disappeared_after_runs,
            mass_disappearance_percent=policy.mass_disappearance_percent,
            resolve_after_runs=policy.resolve_after_runs,
            gdap_expiry_lead_days=policy.gdap_expiry_lead_days,
            credential_expiry_lead_days=policy.credential_expiry_lead_days,
            expectations=self._expectations_cache(),
            expect_pal_on_azure=s.expectations.expect_pal_on_azure,
            identities=self.identities(),
            rulebook=self.rulebook(),
            credentials=self.credential_states(now) if credentials else (),
        )

    def credential_states(self, now: datetime) -> tuple[CredentialState, ...]:
        """The agent's own credentials and when they end (:mod:`agent.health`); handed to
        ``/metrics`` too, where the daemon serves it."""
        from agent.health import configured_signing, own_credentials

        lead = timedelta(days=self.policy.credential_expiry_lead_days)
        signing = configured_signing(self.settings)
        if self.settings.sources.mode != "fake":
            # Without a credential to sign in with, it is judged by what the config says.
            with suppress(ConfigError):
                signing = dict(self.wiring().tokens.apps)
        states = own_credentials(self.settings, self.store, now, lead=lead, signing=signing)
        if self.metrics is not None:
            self.metrics.credentials(states)
        return states

    def rulebook(self) -> Rulebook:
        """The recognition rulebook in force, merged with ``[recognition] rulebook_file``."""
        if not hasattr(self, "_rulebook"):
            self._rulebook = load_rulebook(self.settings.recognition.rulebook_file)
        return self._rulebook

    # ------------------------------------------------------------------------ views

    def matrix(
        self, customers: list[str] | None = None, *, gaps_only: bool = False, detailed: int = 0
    ) -> list[MatrixRow]:
        """The association matrix, a link counted gone after the policy's K runs (only the
        rows that are not as they should be, ``gaps_only``; the stakes and dates of the first
        ``detailed`` rows only, where set: ``agent.matrix.build_matrix``)."""
        from agent.matrix import build_matrix

        partner = self.settings.partner
        return build_matrix(
            self.store,
            partner.ids(),
            global_id=partner.global_partner_id,
            disappeared_after=self.policy.disappeared_after_runs,
            customers=customers,
            gaps_only=gaps_only,
            detailed=detailed,
        )

    def credit(self, customers: list[str] | None = None, **narrow: Any) -> list[CreditRow]:
        """The credit view of the last finished run (agent.recognition.view), ranked."""
        with self.credit_view(customers, **narrow) as view:
            return view.rows()

    @contextmanager
    def credit_view(
        self, customers: list[str] | None = None, **narrow: Any
    ) -> Iterator[CreditView]:
        """The credit view of the last finished run, narrowed by ``areas`` and ``not_counting``
        (agent.recognition.view.opened), to count, list or sum: the one the audit kept under
        today's partner IDs and rulebook, else judged live."""
        from agent.recognition.view import opened

        ctx = self.audit_context(self.clock(), 0, credentials=False)
        us = Us.from_context(ctx)
        with opened(self.store, us, ctx.rulebook, customers=customers, **narrow) as view:
            yield view

    def report_data(self, now: datetime, *, every_line: bool = True) -> ReportData:
        """What the report shows (page, JSON, CSV), as of ``now``; of the credit view, the page
        shows only the lines lost to us (``every_line=False``), JSON every line."""
        from agent import report
        from agent.memory import collector_paused
        from agent.recognition.view import NothingToShow

        partner = self.settings.partner
        with collector_paused():  # hundreds of thousands of objects (agent.memory)
            try:
                recognition = self.credit(not_counting=not every_line)
            except NothingToShow:
                recognition = []
            return report.collect(
                self.store,
                partner=partner.name or partner.tenant_id,
                our_ids=partner.ids(),
                global_id=partner.global_partner_id,
                disappeared_after=self.policy.disappeared_after_runs,
                now=now,
                recognition=recognition,
                owners=owners(self.settings.expectations.managed_customers_file),
            )

    def _expectations_cache(self) -> dict[str, tuple[Expectation, ...]]:
        if not hasattr(self, "_expect"):
            self._expect = self.expectations()
        return self._expect

    # ------------------------------------------------------------------------ jobs

    def change_feed(self) -> ChangeFeed | None:
        """The change feed of a sync starting now (None: every scope is read)."""
        sync = self.settings.sync
        if sync.full_every <= timedelta(0):
            return None
        return ChangeFeed(
            full_every=sync.full_every,
            covers_from=self.clock() - timedelta(days=sync.audit_lookback_days),
        )

    def sync(
        self,
        *,
        trigger: str = "manual",
        progress: Progress | None = None,
        stop: threading.Event | None = None,
        full: bool = False,
    ) -> SyncOutcome:
        """One sync; ``full`` reads every scope even where the change feed shows no change."""

        async def _run() -> SyncOutcome:
            async with self.connectors() as connectors:
                syncer = Syncer(
                    self.store,
                    connectors,
                    clock=self.clock,
                    concurrency=self.settings.sync.concurrency,
                    time_budget=self.settings.sync.time_budget,
                    applies=self.applies,
                    extra_customers=self._expectations_cache().keys(),
                    progress=progress,
                    stop=stop,
                    feed=None if full else self.change_feed(),
                )
                return await syncer.run(trigger)

        with self.runner.hold():  # raises LockHeld while another agent syncs this store
            return asyncio.run(_run())

    def audit(self, run_id: int | None = None) -> AuditOutcome:
        from agent.audit.engine import Auditor  # every rule: loaded only where one audits

        auditor = Auditor(self.store, self.audit_context, clock=self.clock, after=self._plan_alerts)
        return auditor.run(run_id)

    def _plan_alerts(self, tx: Transaction, run_id: int, now: datetime) -> None:
        """In the audit's own transaction: what each sink must be told, each rule named by
        its title in the rule registry."""
        from agent.alerts import plan_and_enqueue
        from agent.audit.rules import RULES_BY_ID

        alerts = self.settings.alerts
        if not alerts.sinks:
            return
        summary = plan_and_enqueue(
            tx.outbox,
            run_id=run_id,
            now=now,
            config=alerts,
            customer_tags=self._customer_tags(),
            rule_titles={rule_id: rule.meta.title for rule_id, rule in RULES_BY_ID.items()},
            page_url=self.settings.http.public_url,
        )
        log.info("alerts_planned", run_id=run_id, summary=str(summary))

    def _customer_tags(self) -> dict[str, tuple[str, ...]]:
        from agent.alerts import tags_by_tenant

        path = self.settings.expectations.managed_customers_file
        return tags_by_tenant(load_managed_customers(path)) if path else {}

    def deliver_alerts(self) -> None:
        """Send what the outbox holds; failures are retried later, never raised."""
        from agent.alerts import deliver_pending

        if not self.settings.alerts.sinks:
            return
        summary = asyncio.run(deliver_pending(self.store, self.settings.alerts))
        log.info("alerts_delivered", summary=str(summary))

    def cycle(
        self,
        *,
        trigger: str = "manual",
        progress: Progress | None = None,
        stop: threading.Event | None = None,
        full: bool = False,
    ) -> tuple[SyncOutcome, AuditOutcome | None]:
        from agent.alerts import Heartbeat

        heartbeat = Heartbeat.from_config(self.settings.alerts)
        asyncio.run(heartbeat.start())
        try:
            outcome = self.sync(trigger=trigger, progress=progress, stop=stop, full=full)
            audited = None
            if outcome.status.value in ("complete", "partial"):
                audited = self.audit(outcome.run_id)
                self.deliver_alerts()
        except BaseException:
            asyncio.run(heartbeat.fail("the cycle crashed"))
            raise
        asyncio.run(
            heartbeat.finish(
                outcome.status.value == "complete", f"run {outcome.run_id}: {outcome.status.value}"
            )
        )
        return outcome, audited
