"""The frame of the daemon's own pages (the findings and the sign-in messages), and the bar that
tells a signed-in person who they are, on those pages and above the report.

Everything shown that the agent did not write goes through ``for_html``: names from Microsoft,
the signed-in person's name from the ID token, what people wrote as reasons. No script; the
only links and form targets are this page's own paths.
"""

from __future__ import annotations

import re

from agent.escape import for_html
from agent.web.paths import FINDINGS
from agent.web.session import Session

POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
"""The pages' Content-Security-Policy: inline styles, no script, forms post to this origin."""

STYLE = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:0;color:#1b1b1f}
main{padding:16px 24px;max-width:1200px}
nav.who{background:#1b1b1f;color:#eee;padding:6px 24px;font:13px system-ui,sans-serif;
display:flex;gap:16px;align-items:center;flex-wrap:wrap}
nav.who a{color:#9cf}nav.who form{margin:0 0 0 auto}
nav.who button{font-size:12px}
table{border-collapse:collapse;width:100%;margin:8px 0 16px}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #ddd;vertical-align:top}
th{background:#f4f4f6}.muted{color:#666}.num{text-align:right}
.sev{padding:1px 6px;border-radius:3px;color:#fff;font-size:12px}
.sev-critical{background:#8b0000}.sev-high{background:#c0392b}.sev-medium{background:#d68910}
.sev-low{background:#2e86c1}.sev-info{background:#7f8c8d}
.note{padding:8px 12px;border-radius:4px;margin:8px 0}
.done{background:#e8f6ec}.error{background:#fdecea}
.acts{display:grid;grid-template-columns:repeat(auto-fit,minmax(260px,1fr));gap:12px}
.acts form{border:1px solid #ddd;border-radius:4px;padding:8px 12px}
.acts label{display:block;margin:4px 0}.acts input[type=text]{width:95%}
pre{background:#f7f7f9;padding:8px;overflow:auto;white-space:pre-wrap}
"""
_BODY = re.compile(rb"<body[^>]*>", re.IGNORECASE)


def page(title: str, content: str, *, who: Session | None = None, csrf: str = "") -> str:
    """A whole page: the bar, then ``content`` (already escaped HTML)."""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{for_html(title)} · partnerlink</title><style>{STYLE}</style></head><body>"
        f"{bar(who, csrf)}<main>{content}</main></body></html>"
    )


def bar(who: Session | None, csrf: str) -> str:
    """Who is signed in, with what role, the pages, and a sign-out button."""
    if who is None:
        return ""
    return (
        f'<nav class="who"><span>{for_html(who.who.name)} ({for_html(who.who.upn)}) · '
        f"{for_html(who.role.value)}</span>"
        f'<a href="/">report</a><a href="{FINDINGS}">findings</a>'
        f'<form method="post" action="/signout">{hidden("csrf", csrf)}'
        '<button type="submit">sign out</button></form></nav>'
    )


def with_bar(report: bytes, who: Session, csrf: str) -> bytes:
    """The rendered report with the bar at the top of its body (the report stays as the
    cycle rendered it; only the bar is added, per request)."""
    added = bar(who, csrf).encode("utf-8")
    found = _BODY.search(report)
    if found is None:
        return added + report
    return report[: found.end()] + added + report[found.end() :]


def hidden(name: str, value: str) -> str:
    return f'<input type="hidden" name="{for_html(name)}" value="{for_html(value)}">'


def message(title: str, text: str, *, who: Session | None = None, link: str = "") -> str:
    """A page that says one thing (a refusal, a sign-in problem, signed out)."""
    more = f'<p><a href="{for_html(link)}">continue</a></p>' if link else ""
    return page(title, f"<h1>{for_html(title)}</h1><p>{for_html(text)}</p>{more}", who=who)
