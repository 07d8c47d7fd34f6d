"""The findings list on the daemon's page (``/findings``): open findings first, filtered by
status and rule, a page of them at a time, each linking to its own page."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlencode

from agent.escape import for_html
from agent.store.models import ACTIVE_STATUSES, Finding, FindingStatus
from agent.web.layout import page
from agent.web.paths import FINDINGS, finding_path
from agent.web.session import Session

PER_PAGE = 100
ACTIVE = "active"
ALL = "all"
STATUS_CHOICES = (ACTIVE, *(s.value for s in FindingStatus), ALL)


def statuses_of(choice: str) -> list[str] | None:
    """The statuses a status filter stands for (None: every one)."""
    if choice == ALL:
        return None
    if choice == ACTIVE:
        return sorted(str(s) for s in ACTIVE_STATUSES)
    return [choice]


def findings_html(
    rows: Sequence[Finding],
    *,
    total: int,
    number: int,
    status: str,
    rule: str | None,
    rules: Sequence[str],
    who: Session | None,
    csrf: str,
) -> str:
    e = for_html
    body = "".join(
        f'<tr><td><span class="sev sev-{e(f.severity)}">{e(f.severity)}</span></td>'
        f"<td>{e(f.status)}</td><td>{e(f.customer_name or '(partner)')}</td>"
        f'<td><a href="{e(finding_path(f.fingerprint))}">{e(f.title)}</a></td>'
        f"<td>{e(f.owner or '')}</td>"
        f'<td class="num">{f.value_at_stake:,.0f}</td>'
        f"<td>{e(f.last_seen.date().isoformat())}</td></tr>"
        for f in rows
    )
    shown = f"{len(rows)} of {total}" if total > len(rows) else str(total)
    content = (
        f"<h1>Findings</h1>{_filters(status, rule, rules)}"
        f'<p class="muted">{shown} finding(s)</p>'
        "<table><thead><tr><th>severity</th><th>status</th><th>customer</th><th>finding</th>"
        '<th>owner</th><th class="num">at stake</th><th>last seen</th></tr></thead>'
        f"<tbody>{body}</tbody></table>{_pages(total, number, status, rule)}"
    )
    return page("Findings", content, who=who, csrf=csrf)


def _filters(status: str, rule: str | None, rules: Sequence[str]) -> str:
    def options(values: Sequence[str], chosen: str | None) -> str:
        return "".join(
            f'<option value="{for_html(v)}"{" selected" if v == chosen else ""}>'
            f"{for_html(v)}</option>"
            for v in values
        )

    return (
        f'<form method="get" action="{FINDINGS}"><label>status '
        f'<select name="status">{options(STATUS_CHOICES, status)}</select></label> '
        f'<label>rule <select name="rule"><option value="">every rule</option>'
        f"{options(rules, rule)}</select></label> "
        '<button type="submit">show</button></form>'
    )


def _pages(total: int, number: int, status: str, rule: str | None) -> str:
    last = max(0, (total - 1) // PER_PAGE)
    if last == 0:
        return ""

    def link(to: int, text: str) -> str:
        query = urlencode({"status": status, **({"rule": rule} if rule else {}), "page": to})
        return f'<a href="{for_html(f"{FINDINGS}?{query}")}">{text}</a>'

    parts = [
        link(number - 1, "previous") if number > 0 else "",
        f"page {number + 1} of {last + 1}",
        link(number + 1, "next") if number < last else "",
    ]
    return "<p>" + " · ".join(p for p in parts if p) + "</p>"
