"""The rule registry: every rule the audit evaluates, in one readable tuple."""

from agent.audit.model import Rule
from agent.audit.rules import (
    cannot_verify,
    credential_expiring,
    gdap_ended,
    gdap_expiring,
    link_disappeared,
    link_held_by_other,
    link_missing,
    pal_carrier_at_risk,
    recognition_held_by_other,
    recognition_near_threshold,
    recognition_not_earning,
    refresh_token_expiring,
    source_anomaly,
    sources_disagree,
    wrong_partner_id,
)

RULES: tuple[Rule, ...] = (
    link_missing.RULE,
    link_held_by_other.RULE,
    recognition_held_by_other.RULE,
    recognition_not_earning.RULE,
    recognition_near_threshold.RULE,
    wrong_partner_id.RULE,
    link_disappeared.RULE,
    sources_disagree.RULE,
    gdap_expiring.RULE,
    gdap_ended.RULE,
    pal_carrier_at_risk.RULE,
    credential_expiring.RULE,
    refresh_token_expiring.RULE,
    cannot_verify.RULE,
    source_anomaly.RULE,
)

RULES_BY_ID = {rule.meta.id: rule for rule in RULES}
