"""Reports: one self-contained HTML page (inline styles and SVG charts, no external anything),
the same data as JSON or CSV, and a per-customer evidence pack for a support case or a claim.
Each form escapes names once for its format (``agent.escape``): HTML, CSV cells, Markdown."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from agent.escape import for_csv_row, for_html, for_markdown, for_markdown_code
from agent.matrix import MatrixRow, build_matrix
from agent.present import finding_dict
from agent.present_matrix import MATRIX_FIELDS
from agent.recognition import present as credit_present
from agent.recognition.view import CreditRow
from agent.store import Store

SERIES = (
    ("customers", "customers with a link of ours", "#2563eb"),
    ("azure_subscriptions", "Azure subscriptions linked", "#16a34a"),
    ("mau", "monthly active users covered", "#d97706"),
    ("acr", "Azure consumed revenue covered", "#9333ea"),
)
SEVERITY_ORDER = ("critical", "high", "medium", "low", "info")


@dataclass(slots=True)
class ReportData:
    generated: str
    partner: str
    history: list[dict[str, Any]]
    matrix: list[MatrixRow]
    findings: list[dict[str, Any]]
    recognition: list[CreditRow] = field(default_factory=list)
    """The credit view's lines (agent.recognition.view); the page shows those lost to us."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "generated": self.generated,
            "partner": self.partner,
            "history": self.history,
            "matrix": [r.as_dict() for r in self.matrix],
            "findings": self.findings,
            "recognition": [r.as_dict() for r in self.recognition],
        }


def collect(
    store: Store,
    *,
    partner: str,
    our_ids: frozenset[str],
    global_id: str | None,
    disappeared_after: int,
    now: datetime,
    recognition: list[CreditRow] | None = None,
) -> ReportData:
    history = []
    for run in reversed(store.runs(400)):
        stats = json.loads(run.stats or "{}")
        coverage = stats.get("coverage")
        if run.audited_at is None or not coverage:
            continue
        history.append(
            {
                "run_id": run.id,
                "at": run.started_at.isoformat(),
                "status": run.status,
                **coverage["shares"],
            }
        )
    findings = [
        finding_dict(f)
        for f in store.findings(statuses=["open", "pending", "acknowledged", "snoozed", "suspect"])
    ]
    findings.sort(
        key=lambda f: (
            SEVERITY_ORDER.index(f["severity"]) if f["severity"] in SEVERITY_ORDER else 9,
            -float(f["value_at_stake"] or 0),
        )
    )
    matrix = build_matrix(store, our_ids, global_id=global_id, disappeared_after=disappeared_after)
    return ReportData(
        generated=now.isoformat(timespec="seconds"),
        partner=partner,
        history=history,
        matrix=matrix,
        findings=findings,
        recognition=recognition or [],
    )


def to_json(data: ReportData) -> str:
    return json.dumps(data.as_dict(), indent=2) + "\n"


def to_csv(data: ReportData) -> str:
    """The matrix, one row per link or gap (the findings have their own CSV command)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=MATRIX_FIELDS, extrasaction="ignore")
    writer.writeheader()
    for row in data.matrix:
        writer.writerow(for_csv_row({**row.as_dict(), **row.stake}))
    return buffer.getvalue()


# ------------------------------------------------------------------------------------------ html


def _line_chart(history: list[dict[str, Any]], key: str, label: str, colour: str) -> str:
    """An inline SVG line chart of one coverage share (0-100 %) over the runs."""
    width, height, pad = 320, 140, 28
    points = [(i, h[key]) for i, h in enumerate(history) if h.get(key) is not None]
    latest = f"{points[-1][1] * 100:.0f} %" if points else "no data"
    span = max(1, len(history) - 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        return (pad + (width - 2 * pad) * i / span, height - pad - (height - 2 * pad) * v)

    grid = "".join(
        f'<line x1="{pad}" x2="{width - pad}" y1="{xy(0, g)[1]:.1f}" y2="{xy(0, g)[1]:.1f}" '
        f'class="grid"/><text x="2" y="{xy(0, g)[1] + 4:.1f}" class="axis">{int(g * 100)}%</text>'
        for g in (0.0, 0.5, 1.0)
    )
    path = " ".join(
        f"{'M' if n == 0 else 'L'}{xy(i, v)[0]:.1f},{xy(i, v)[1]:.1f}"
        for n, (i, v) in enumerate(points)
    )
    dots = "".join(
        f'<circle cx="{xy(i, v)[0]:.1f}" cy="{xy(i, v)[1]:.1f}" r="3" '
        f'fill="{colour}"><title>{v * 100:.1f} %</title></circle>'
        for i, v in points
    )
    return (
        f'<figure class="chart" data-series="{key}"><figcaption>{for_html(label)} '
        f"<b>{latest}</b></figcaption>"
        f'<svg role="img" aria-label="{for_html(label)}" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">{grid}'
        f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="2"/>{dots}</svg></figure>'
    )


_STYLE = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#111}
h1{margin:0 0 4px}h2{margin-top:28px}.muted{color:#666}
.charts{display:flex;flex-wrap:wrap;gap:16px}.chart{margin:0;border:1px solid #ddd;
border-radius:8px;padding:8px}.chart figcaption{font-size:13px;margin-bottom:4px}
.grid{stroke:#eee}.axis{font-size:9px;fill:#888}
table{border-collapse:collapse;width:100%;margin-top:8px}th,td{border-bottom:1px solid #eee;
padding:4px 6px;text-align:left;vertical-align:top}th{background:#f6f6f6}
tr.gap td{background:#fff6f6}.state-present{color:#15803d}.state-gone,.state-disappearing
{color:#b91c1c;font-weight:600}.state-missing{color:#a21caf;font-weight:600}
.state-held_by_other,.state-wrong_id{color:#b45309;font-weight:600}
.sev{display:inline-block;border-radius:4px;padding:0 6px;color:#fff}
.sev-critical{background:#991b1b}.sev-high{background:#dc2626}.sev-medium{background:#d97706}
.sev-low{background:#0891b2}.sev-info{background:#6b7280}.num{text-align:right}
.counts span{margin-right:14px}
"""


def to_html(data: ReportData) -> str:
    e = for_html
    charts = "".join(_line_chart(data.history, key, label, colour) for key, label, colour in SERIES)
    counts: dict[str, int] = {}
    for f in data.findings:
        counts[f["severity"]] = counts.get(f["severity"], 0) + 1
    count_html = (
        "".join(
            f'<span><span class="sev sev-{s}">{s}</span> {counts[s]}</span>'
            for s in SEVERITY_ORDER
            if s in counts
        )
        or "<span>none</span>"
    )
    finding_rows = "".join(
        f'<tr><td><span class="sev sev-{e(f["severity"])}">{e(f["severity"])}</span></td>'
        f"<td>{e(f['status'])}</td><td>{e(f['rule'])}</td>"
        f"<td>{e(f.get('customer_name') or '(partner)')}</td><td>{e(f['title'])}"
        f'<div class="muted">{e(f["remediation"])}</div></td>'
        f'<td class="num">{float(f["value_at_stake"] or 0):,.0f}</td>'
        f"<td><code>{e(f['fingerprint'][:12])}</code></td></tr>"
        for f in data.findings
    )
    matrix_rows = "".join(
        f'<tr class="{"gap" if r.gap else ""}"><td>{e(r.customer_name)}</td>'
        f"<td>{e(r.workload)}</td><td>{e(r.kind)}</td>"
        f"<td>{e(r.holder or ('us' if r.ours else '-'))}</td><td>{e(r.carried_by or '')}</td>"
        f'<td class="state-{e(r.state)}">{e(r.state)}</td><td>{e((r.since or "")[:10])}</td>'
        f"<td>{e(', '.join(f'{k} {v:,.0f}' for k, v in r.stake.items()))}</td></tr>"
        for r in data.matrix
    )
    gaps = sum(r.gap for r in data.matrix)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>partnerlink report · {e(data.partner)}</title><style>{_STYLE}</style></head>
<body>
<h1>partnerlink</h1>
<div class="muted">{e(data.partner)} · generated {e(data.generated)} ·
{len(data.history)} audited run(s)</div>
<h2>Coverage over time</h2>
<div class="charts">{charts}</div>
<h2>Open findings</h2>
<div class="counts">{count_html}</div>
<table id="findings"><thead><tr><th>severity</th><th>status</th><th>rule</th><th>customer</th>
<th>finding</th><th class="num">at stake</th><th>id</th></tr></thead>
<tbody>{finding_rows}</tbody></table>
<h2>Recognition <span class="muted">(credit lines that do not count for us)</span></h2>
{credit_present.to_html(data.recognition)}
<h2>Association matrix <span class="muted">({gaps} gap(s) highlighted)</span></h2>
<table id="matrix"><thead><tr><th>customer</th><th>workload</th><th>link</th><th>holder</th>
<th>via</th><th>state</th><th>since</th><th>stake</th></tr></thead>
<tbody>{matrix_rows}</tbody></table>
</body></html>
"""


# ----------------------------------------------------------------------------------- evidence


def evidence_pack(store: Store, tenant: str, *, now: datetime) -> str:
    """Markdown: every link of one customer and its observed history, with timestamps."""
    tenant = tenant.lower()
    links = store.links([tenant])
    history = store.observation_history(tenant)
    names = [
        getattr(o.record, "name", None)
        for o in store.current(customers=[tenant], kinds=["customer"])
    ]
    name = next((n for n in names if n), tenant)
    md = for_markdown
    lines = [
        f"# Partner association evidence: {md(name)}",
        "",
        f"Customer tenant: {for_markdown_code(tenant)}  ",
        f"Generated: {now.isoformat(timespec='seconds')} by partnerlink",
        "",
        "## Links",
        "",
        "| link | workload | holder | carried by | first seen | last seen | state |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for link in links:
        state = "present" if not link.missing_runs else f"absent {link.missing_runs} run(s)"
        lines.append(
            f"| {md(link.kind)} | {md(link.workload)} | {md(link.holder or '')} | "
            f"{md(link.identity or '')} | {link.first_seen_at.isoformat(timespec='seconds')} | "
            f"{link.last_seen_at.isoformat(timespec='seconds')} | {state} |"
        )
    lines += [
        "",
        "## Observation history",
        "",
        "| at | run | change | source | fact | value |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for event, obs in history:
        lines.append(
            f"| {event.at.isoformat(timespec='seconds')} | {event.run_id} | "
            f"{md(event.change)} | {md(obs.source)} | {md(f'{obs.kind} {obs.key}')} | "
            f"{for_markdown_code((event.payload or '')[:200])} |"
        )
    findings = store.findings(customers=[tenant])
    lines += ["", "## Findings", ""]
    for f in findings:
        if f.customer_tenant_id != tenant:
            continue
        finding_id = for_markdown_code(f.fingerprint[:12])
        lines.append(
            f"- **{md(f.severity)} / {md(f.status)}** {md(f.title)} (first seen "
            f"{f.first_seen.isoformat(timespec='seconds')}, id {finding_id})"
        )
    return "\n".join(lines) + "\n"
