"""The report as one self-contained page: a jinja2 template with autoescape (every value from
outside is escaped where it is written), inline style, inline SVG charts, the tables' rows as
JSON in a data block (``agent.escape.for_html_data``) and one inline script that shows them —
as text only, never as markup — with search, filters, sorting and pages, offline. The script is
allowed by its hash in the page's Content-Security-Policy (and the daemon's header), never by
``'unsafe-inline'``.

At 20,000 customers the rows are tens of thousands: the page holds them once, as data, and
shows a page of each table at a time; customers are the first table, sorted by stake, and
choosing one narrows every other table to it."""

from __future__ import annotations

import base64
import hashlib
from collections import Counter
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

import jinja2
from markupsafe import Markup

from agent.charts import line_chart
from agent.escape import for_html, for_html_data
from agent.page_tables import PageTable, Strings, tables

if TYPE_CHECKING:
    from agent.report_data import ReportData

SERIES = (
    ("customers", "customers with a link of ours", "#2563eb"),
    ("azure_subscriptions", "Azure subscriptions linked", "#16a34a"),
    ("mau", "monthly active users covered", "#d97706"),
    ("acr", "Azure consumed revenue covered", "#9333ea"),
)
SEVERITIES = ("critical", "high", "medium", "low", "info")
_TEMPLATES = "templates"


def _asset(name: str) -> str:
    return (resources.files("agent") / _TEMPLATES / name).read_text(encoding="utf-8")


@cache
def script() -> str:
    """The page's one script, exactly as the page carries it."""
    return _asset("report.js")


@cache
def script_hash() -> str:
    """``sha256-…`` of the script: what a Content-Security-Policy allows it by."""
    digest = hashlib.sha256(script().encode("utf-8")).digest()
    return "sha256-" + base64.b64encode(digest).decode("ascii")


def content_security_policy(*, header: bool = True) -> str:
    """The page's policy: nothing from outside; inline style; data images; the one script by
    its hash; in the daemon's header also no frames (a page's own ``<meta>`` policy cannot say
    that: browsers ignore ``frame-ancestors`` there, with a console warning)."""
    policy = (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        f"script-src '{script_hash()}'"
    )
    return policy + "; frame-ancestors 'none'" if header else policy


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("agent", _TEMPLATES),
        autoescape=True,
        finalize=_finalize,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _finalize(value: object) -> object:
    """Every string the template writes goes through ``for_html`` (control characters spelled
    out, then escaped); markup the agent built itself is ``Markup`` and passes as it is."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return Markup(for_html(value))  # noqa: S704 - for_html escaped it
    return value


def render(data: ReportData) -> str:
    open_counts = Counter(
        f["severity"] for f in data.findings if f["status"] in ("open", "pending")
    )
    page_tables = tables(data)
    charts = [line_chart(data.history, key, label, colour) for key, label, colour in SERIES]
    return (
        _environment()
        .get_template("report.html.j2")
        .render(
            partner=data.partner,
            generated=data.generated,
            runs=len(data.history),
            readable=data.readable.line().removeprefix("coverage: ") if data.readable else None,
            charts=[
                {**vars_of(c), "svg": Markup(c.svg)}  # noqa: S704 - numbers and dates only
                for c in charts
            ],
            counts=[(s, open_counts[s]) for s in SEVERITIES if open_counts.get(s)],
            tables=page_tables,
            policy=content_security_policy(header=False),
            style=Markup(_asset("report.css")),  # noqa: S704 - the agent's own stylesheet
            data=Markup(for_html_data(page_data(page_tables))),  # noqa: S704
            script=Markup(script()),  # noqa: S704 - the agent's own script, allowed by its hash
        )
    )


def page_data(page_tables: dict[str, PageTable]) -> dict[str, Any]:
    """The tables' rows and the one string table their cells point into."""
    strings = Strings()
    out: dict[str, Any] = {name: t.data(strings) for name, t in page_tables.items()}
    out["strings"] = strings.all()
    return out


def vars_of(chart: Any) -> dict[str, Any]:
    return {name: getattr(chart, name) for name in chart.__slots__}
