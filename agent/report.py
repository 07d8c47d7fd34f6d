"""Reports: what the report shows (``collect``), the same data as JSON or CSV, one
self-contained HTML page (``agent.report_html``), and a per-customer evidence pack for a
support case or a claim. Each form escapes names once for its format (``agent.escape``): HTML,
the page's embedded data, CSV cells, Markdown."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from datetime import datetime

from agent.escape import for_csv_row, for_markdown, for_markdown_code
from agent.matrix import build_matrix
from agent.memory import collector_paused
from agent.names import Names
from agent.present import STATUS_RANK, finding_dict
from agent.present_matrix import MATRIX_FIELDS
from agent.readiness.recorded import last_readable
from agent.recognition.view import CreditRow
from agent.report_data import ReportData
from agent.rollup import rollup
from agent.stakes import summed
from agent.store import Store

SEVERITY_ORDER = ("critical", "high", "medium", "low", "info")


def collect(
    store: Store,
    *,
    partner: str,
    our_ids: frozenset[str],
    global_id: str | None,
    disappeared_after: int,
    now: datetime,
    recognition: list[CreditRow] | None = None,
    owners: Mapping[str, str] | None = None,
) -> ReportData:
    """What the report shows; ``owners``: tenant ID -> owner, from the managed-customers
    file."""
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
    shown = [
        (finding, summed([finding["evidence"]]))
        for finding in map(
            finding_dict,
            store.findings(statuses=["open", "pending", "acknowledged", "snoozed", "suspect"]),
        )
    ]
    shown.sort(
        key=lambda pair: (
            STATUS_RANK.get(pair[0]["status"], 9),
            SEVERITY_ORDER.index(pair[0]["severity"])
            if pair[0]["severity"] in SEVERITY_ORDER
            else 9,
            pair[1].sort_key(),  # money, then users, then seats: never mixed
        )
    )
    findings = [finding for finding, _stake in shown]
    matrix = build_matrix(store, our_ids, global_id=global_id, disappeared_after=disappeared_after)
    names = Names.from_store(store)
    lowered = {k.lower(): v for k, v in (owners or {}).items() if v}
    credit = recognition or []
    return ReportData(
        generated=now.isoformat(timespec="seconds"),
        partner=partner,
        history=history,
        matrix=matrix,
        findings=findings,
        finding_stakes=[stake for _finding, stake in shown],
        recognition=credit,
        customers=rollup(findings, credit, matrix, owners=lowered, names=names),
        names=names,
        readable=last_readable(store),
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


def to_html(data: ReportData) -> str:
    """The self-contained page (``agent.report_html``)."""
    from agent.report_html import render

    with collector_paused():
        return render(data)


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
