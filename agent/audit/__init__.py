"""The audit: rules as pure functions over a snapshot, and the engine that keeps findings."""

from agent.audit.engine import Auditor, NothingToAudit
from agent.audit.model import Candidate, Rule, RuleMeta, Severity, Verdict, fingerprint
from agent.audit.outcome import AuditOutcome
from agent.audit.rules import RULES, RULES_BY_ID

__all__ = [
    "RULES",
    "RULES_BY_ID",
    "AuditOutcome",
    "Auditor",
    "Candidate",
    "NothingToAudit",
    "Rule",
    "RuleMeta",
    "Severity",
    "Verdict",
    "fingerprint",
]
