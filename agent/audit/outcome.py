"""What an audit run reports: the findings it moved, by how, and how much of the estate carries
the partner's links (the report's coverage history)."""

from __future__ import annotations

from dataclasses import dataclass, field

from agent.audit.anomaly import Anomaly
from agent.audit.context import AuditContext
from agent.audit.lifecycle import Tally
from agent.audit.snapshot import CustomerSnapshot
from agent.readiness.coverage import ReadCoverage, seats
from connectors.records.attribution import Attribution
from connectors.records.azure import AzureSubscription, AzureUsage
from connectors.records.customers import CspSubscription
from connectors.records.scope import Source


@dataclass(slots=True)
class Coverage:
    """How much of the estate carries the partner's links, for the report's history charts.
    A share whose whole is unknown is ``None`` ("no data"), never 0 %: without the insight
    reports no CPOR or DPOR can be seen, so the active users they cover are not counted."""

    customers: int = 0
    customers_linked: int = 0
    azure_subscriptions: int = 0
    azure_linked: int = 0
    mau: float = 0.0
    mau_linked: float = 0.0
    acr_usd: float = 0.0
    acr_linked: float = 0.0

    def add(self, snapshot: CustomerSnapshot, ctx: AuditContext) -> None:
        present = [s for s in snapshot.link_states if s.missing_runs == 0 and ctx.ours(s.holder)]
        self.customers += 1
        self.customers_linked += bool(present)
        pal = {s.workload for s in present if s.kind == "pal"}
        por = {s.workload for s in present if s.kind in ("cpor", "dpor")}
        for sub in snapshot.reachable_subscriptions(ctx.identities):
            workload = f"azure:{sub}"
            acr = float(snapshot.stake(workload).get("acr_usd") or 0.0)
            self.azure_subscriptions += 1
            self.acr_usd += acr
            if workload in pal or workload in por:
                self.azure_linked += 1
                self.acr_linked += acr
        if not snapshot.complete(Source.INSIGHTS):
            return  # CPOR and DPOR show only in the insight reports: the share is no data
        mau = float(snapshot.stake("m365").get("mau") or 0.0)
        self.mau += mau
        if "m365" in por:
            self.mau_linked += mau

    def shares(self) -> dict[str, float | None]:
        def share(part: float, whole: float) -> float | None:
            return round(part / whole, 4) if whole else None

        return {
            "customers": share(self.customers_linked, self.customers),
            "azure_subscriptions": share(self.azure_linked, self.azure_subscriptions),
            "mau": share(self.mau_linked, self.mau),
            "acr": share(self.acr_linked, self.acr_usd),
        }


def add_readable(readable: ReadCoverage, snapshot: CustomerSnapshot) -> None:
    """One customer as this run read it: fully when every scope of its own settled and ARM
    listed every Azure subscription known of it (from ARM, Partner Center usage, insight
    reports); its subscriptions, readable where ARM listed them to the partner's app and every
    PAL read settled; its seats. The readiness check's figures, from what the run read instead
    of what a probe tries."""
    failed = [f for f in snapshot.failures() if f[1] != "partner"]
    listed = {s.subscription_id.lower() for s in snapshot.of(AzureSubscription)}
    known = set(listed) | {u.resource_id.lower() for u in snapshot.of(AzureUsage)}
    known |= {
        a.workload.split(":", 1)[1].lower()
        for a in snapshot.of(Attribution)
        if a.workload.startswith("azure:")
    }
    arm_read = snapshot.complete(Source.ARM_SUBSCRIPTIONS) and not any(
        f[0] == Source.ARM_PAL.value for f in failed
    )
    readable.add(
        readable=not failed and known <= listed,
        subscriptions=len(known),
        readable_subscriptions=len(listed & known) if arm_read else 0,
        seats=seats(snapshot.of(CspSubscription)),
    )


@dataclass(slots=True)
class AuditOutcome:
    run_id: int
    customers: int = 0
    new: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    suspect: list[str] = field(default_factory=list)
    """Findings held (or newly held) as suspect by a source anomaly."""
    resolved: list[str] = field(default_factory=list)
    withdrawn: list[str] = field(default_factory=list)
    """Pending or suspect findings whose condition cleared before anyone was told."""
    anomalies: list[Anomaly] = field(default_factory=list)
    ongoing: int = 0
    not_evaluated: int = 0
    """(rule, customer) pairs skipped because a required source was incomplete."""
    coverage: Coverage = field(default_factory=Coverage)
    readable: ReadCoverage = field(default_factory=ReadCoverage)
    """How much of the estate this run read in full (/metrics, the report)."""

    def summary(self) -> dict[str, int]:
        return {
            "customers": self.customers,
            "new": len(self.new),
            "pending": len(self.pending),
            "suspect": len(self.suspect),
            "resolved": len(self.resolved),
            "withdrawn": len(self.withdrawn),
            "ongoing": self.ongoing,
            "not_evaluated": self.not_evaluated,
            "anomalies": len(self.anomalies),
        }

    def tell(self, fingerprint: str, tally: Tally) -> None:
        """Count one finding's transition in this run's summary."""
        if tally is Tally.ONGOING:
            self.ongoing += 1
            return
        named = {
            Tally.NEW: self.new,
            Tally.PENDING: self.pending,
            Tally.SUSPECT: self.suspect,
            Tally.RESOLVED: self.resolved,
            Tally.WITHDRAWN: self.withdrawn,
        }.get(tally)
        if named is not None:
            named.append(fingerprint)
