"""Where things are on the daemon's page, for the page itself and for whatever links to it
(the alerts): the findings list and one finding's page."""

from __future__ import annotations

from urllib.parse import quote, urlencode

FINDINGS = "/findings"


def finding_path(fingerprint: str) -> str:
    """One finding's page, with its history and (for operators) what can be done about it."""
    return f"{FINDINGS}/{quote(fingerprint, safe='')}"


def findings_path(rule: str | None = None) -> str:
    """The findings list, narrowed to one rule's findings if given."""
    return f"{FINDINGS}?{urlencode({'rule': rule})}" if rule else FINDINGS


def absolute(public_url: str, path: str) -> str:
    """``path`` on the page as seen from outside (``[http] public_url``)."""
    return public_url.rstrip("/") + path
