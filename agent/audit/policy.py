"""The audit's thresholds, read from ``[audit]`` once (by the composition root) and handed on:
to the engine's context and its rules, to the matrix and the report, to the demo."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class AuditSettings(Protocol):
    """What ``agent.config.AuditSection`` holds."""

    @property
    def open_after_runs(self) -> int: ...
    @property
    def disappeared_after_runs(self) -> int: ...
    @property
    def resolve_after_runs(self) -> int: ...
    @property
    def gdap_expiry_lead_days(self) -> int: ...
    @property
    def credential_expiry_lead_days(self) -> int: ...
    @property
    def mass_disappearance_percent(self) -> float: ...


@dataclass(frozen=True, slots=True)
class AuditPolicy:
    open_after_runs: int = 1
    """Consecutive evaluated runs a condition must be seen before its finding opens."""
    disappeared_after_runs: int = 2
    """Complete runs a link must be missing before it counts as gone (K)."""
    resolve_after_runs: int = 2
    """Consecutive evaluated runs without a condition before its finding resolves."""
    gdap_expiry_lead_days: int = 30
    credential_expiry_lead_days: int = 30
    mass_disappearance_percent: float = 20.0
    """More than this share of the known links of one kind vanishing in one run is an
    anomaly: their findings are held as suspect."""

    @classmethod
    def of(cls, section: AuditSettings) -> AuditPolicy:
        return cls(
            open_after_runs=section.open_after_runs,
            disappeared_after_runs=section.disappeared_after_runs,
            resolve_after_runs=section.resolve_after_runs,
            gdap_expiry_lead_days=section.gdap_expiry_lead_days,
            credential_expiry_lead_days=section.credential_expiry_lead_days,
            mass_disappearance_percent=section.mass_disappearance_percent,
        )
