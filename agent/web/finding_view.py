"""One finding's page (``/findings/<id>``): what it says, its evidence, its life with who did
what and why, and for operators the forms that act on it (acknowledge, snooze, assign, dismiss
with a reason, reopen), each posting with the session's CSRF token."""

from __future__ import annotations

import json
from collections.abc import Sequence

from agent.audit.decisions import Act
from agent.escape import for_html
from agent.store.models import Finding, FindingEvent
from agent.web.layout import hidden, page
from agent.web.paths import finding_path
from agent.web.session import Session

DONE = {
    Act.ACK: "Acknowledged.",
    Act.SNOOZE: "Snoozed.",
    Act.ASSIGN: "Owner set.",
    Act.DISMISS: "Dismissed as an accepted risk: silent until its condition changes.",
    Act.REOPEN: "Open again.",
}
_PUT_ASIDE = ("acknowledged", "snoozed", "dismissed")


def finding_html(
    finding: Finding,
    events: Sequence[FindingEvent],
    *,
    who: Session | None,
    csrf: str,
    done: str | None = None,
    error: str | None = None,
) -> str:
    e = for_html
    said = DONE.get(Act(done)) if done in set(Act) else None
    notes = (f'<p class="note done">{e(said)}</p>' if said else "") + (
        f'<p class="note error">{e(error)}</p>' if error else ""
    )
    where = finding.customer_tenant_id or "partner"
    content = (
        f"{notes}<h1>{e(finding.title)}</h1>"
        f'<p><span class="sev sev-{e(finding.severity)}">{e(finding.severity)}</span> '
        f"{e(finding.status)} · {e(finding.rule)} · <code>{e(finding.fingerprint)}</code></p>"
        f"<p>customer: {e(finding.customer_name or '-')} ({e(where)})<br>"
        f"owner: {e(finding.owner or '-')} · note: {e(finding.note or '-')}<br>"
        f"first seen {e(finding.first_seen.isoformat(timespec='minutes'))}, last seen "
        f"{e(finding.last_seen.isoformat(timespec='minutes'))}, {finding.hits} run(s)"
        f"{_until(finding)}</p>"
        f"<h2>What to do</h2><p>{e(finding.remediation)}</p>"
        f"{_acts(finding, csrf) if who is not None and who.can_act else ''}"
        f"<h2>Life</h2>{_life(events)}"
        f"<h2>Evidence</h2><pre>{e(_pretty(finding.evidence))}</pre>"
    )
    return page(finding.title[:80], content, who=who, csrf=csrf)


def _until(finding: Finding) -> str:
    if finding.status == "snoozed" and finding.until is not None:
        return f"<br>snoozed until {for_html(finding.until.isoformat(timespec='minutes'))}"
    if finding.status == "dismissed":
        return "<br>dismissed as an accepted risk: silent until its condition changes"
    return ""


def _life(events: Sequence[FindingEvent]) -> str:
    e = for_html
    rows = "".join(
        f"<tr><td>{e(ev.at.isoformat(timespec='seconds'))}</td>"
        f"<td>{e(ev.from_status or 'new')} → {e(ev.to_status)}</td>"
        f"<td>{e(ev.action or 'audit')}</td><td>{e(ev.actor or '')}</td>"
        f"<td>{e(ev.note or '')}</td></tr>"
        for ev in events
    )
    return (
        "<table><thead><tr><th>when</th><th>status</th><th>what</th><th>who</th><th>why</th>"
        f"</tr></thead><tbody>{rows}</tbody></table>"
    )


def _acts(finding: Finding, csrf: str) -> str:
    """The forms an operator acts through; what the status allows."""
    if finding.status == "resolved":
        return ""

    def form(act: Act, button: str, *fields: str) -> str:
        return (
            f'<form method="post" action="{for_html(finding_path(finding.fingerprint))}">'
            f"{hidden('csrf', csrf)}{hidden('act', act.value)}{''.join(fields)}"
            f'<button type="submit">{button}</button></form>'
        )

    reason = _field("reason", "why")
    forms = [
        form(Act.ACK, "acknowledge", reason, _field("owner", "owner (optional)")),
        form(Act.SNOOZE, "snooze", _field("until", "until (2026-12-31 or 7d)", True), reason),
        form(Act.ASSIGN, "assign", _field("owner", "owner", True), reason),
        form(Act.DISMISS, "dismiss", _field("reason", "why the risk is accepted", True)),
    ]
    if finding.status in _PUT_ASIDE:
        forms.append(form(Act.REOPEN, "reopen", reason))
    return '<h2>Act</h2><div class="acts">' + "".join(forms) + "</div>"


def _field(name: str, label: str, required: bool = False) -> str:
    need = " required" if required else ""
    return (
        f'<label>{for_html(label)} <input type="text" name="{name}" maxlength="2000"{need}></label>'
    )


def _pretty(evidence: str) -> str:
    try:
        return json.dumps(json.loads(evidence or "{}"), indent=2, ensure_ascii=False)
    except ValueError:
        return evidence
