"""What every rule of one audit shares: the partner's identity and IDs, the thresholds, the
expectations per customer, and the anomalies and blind spots of this run
(:mod:`agent.audit.anomaly`, :mod:`agent.audit.blind`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from agent.audit.anomaly import Anomaly
from agent.audit.blind import BlindSpot
from agent.audit.credential import CredentialState
from agent.audit.link import SELF, Expectation
from agent.recognition.load import shipped_rulebook
from agent.recognition.model import Rulebook


@dataclass(frozen=True, slots=True)
class AuditContext:
    """Partner-wide facts and thresholds; identical for every customer of one audit."""

    partner_tenant_id: str
    global_partner_id: str | None
    location_ids: frozenset[str]
    ids_for_kind: Mapping[str, frozenset[str]]
    now: datetime
    run_id: int
    disappeared_after_runs: int = 2
    resolve_after_runs: int = 2
    open_after_runs: int = 1
    """Consecutive evaluated runs a condition must be seen before its finding opens (guarantee
    confirm-k-runs); 1 opens at once. ``link_disappeared`` counts its own runs
    (``disappeared_after_runs``)."""
    gdap_expiry_lead_days: int = 30
    credential_expiry_lead_days: int = 30
    expectations: Mapping[str, tuple[Expectation, ...]] = field(default_factory=dict)
    expect_pal_on_azure: bool = True
    identities: tuple[str, ...] = ("partner-app",)
    """Identities the agent reads PAL as."""
    mass_disappearance_percent: float = 20.0
    """guarantee mass-loss-guard: more than this share of the known links of one kind vanishing
    in one run is an anomaly (see agent.audit.anomaly for the minimum count)."""
    anomalies: tuple[Anomaly, ...] = ()
    """Filled in by the engine from its first pass over the estate; empty in a calm run."""
    blind_spots: tuple[BlindSpot, ...] = ()
    """The reads of this run that did not complete, grouped by source and cause across the
    estate (agent.audit.blind); filled in by the engine."""
    rulebook: Rulebook = field(default_factory=shipped_rulebook)
    """The recognition rules in force: the shipped rulebook, or merged with the partner's
    ``[recognition] rulebook_file``."""
    credentials: tuple[CredentialState, ...] = ()
    """The agent's own credentials and when they end (:mod:`agent.health`)."""

    def anomaly_for(self, kind: str, source: str) -> Anomaly | None:
        """The anomaly of this run that makes a link of this kind and source doubtful."""
        return next((a for a in self.anomalies if a.touches(kind, source)), None)

    @property
    def partner_key(self) -> str:
        return self.global_partner_id or self.partner_tenant_id

    @property
    def our_ids(self) -> frozenset[str]:
        ids = set(self.location_ids)
        if self.global_partner_id:
            ids.add(self.global_partner_id)
        return frozenset(ids)

    def ours(self, holder: str | None) -> bool:
        return holder == SELF or (holder is not None and holder in self.our_ids)

    def right_ids(self, kind: str) -> frozenset[str]:
        return self.ids_for_kind.get(kind) or self.location_ids
