"""One escaping function per output format, so that text written by strangers (names from
Microsoft, and anything built from them, such as a finding's title) is shown and never obeyed.

Names are already cleaned where they enter (``connectors.text.clean``); these functions are the
second fence, for whatever a store kept from before or a message composed around a name. Each
output calls the one function of its format on every value it did not write itself.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping

from rich.text import Text

from connectors.text import visible

CSV_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""What a spreadsheet may read as the start of a formula (OWASP, "CSV injection")."""

MAIL_HEADER_LIMIT = 250
"""Characters of a mail header value; the mail library folds longer lines itself."""

_MD_PUNCTUATION = re.compile(r"([\\`*_\[\]<>!|&~$])")
"""Markdown's inline syntax: escapes, code, emphasis, links and images, HTML and autolinks,
table cells, strike-through and maths. CommonMark lets any ASCII punctuation be escaped."""
_MD_AUTOLINK = re.compile(r"(?<=[A-Za-z0-9+.\-]):(?=//)|@|(?i:(?<=www)\.)")
"""What makes a bare address a link (``http://``, ``www.``, ``a@b.c``) in GitHub's dialect."""
_MD_BLOCK_START = re.compile(r"^(\s*)(?:([#+\-=])|(\d+)([.)]))")
"""A heading, list or rule marker at the start of the text."""


def for_terminal(text: str, style: str = "", *, multiline: bool = False) -> Text:
    """A rich ``Text``: never parsed as markup (``[bold]``, ``[link=...]``) or emoji codes
    (``:warning:``), with control and direction characters spelled out."""
    return Text(visible(text, keep="\n" if multiline else ""), style=style)


def for_csv_cell(value: object) -> object:
    """A cell no spreadsheet runs: text starting like a formula gets a leading ``'``; numbers
    and other values the agent computed pass unchanged."""
    if not isinstance(value, str):
        return value
    text = visible(value, keep="\n\r\t")
    return "'" + text if text.startswith(CSV_FORMULA_STARTS) else text


def for_csv_row(row: Mapping[str, object]) -> dict[str, object]:
    """:func:`for_csv_cell` over every cell of a ``csv.DictWriter`` row."""
    return {key: for_csv_cell(value) for key, value in row.items()}


def _markdown(text: str) -> str:
    text = _MD_PUNCTUATION.sub(r"\\\1", text)
    text = _MD_AUTOLINK.sub(lambda m: "\\" + m.group(0), text)
    return _MD_BLOCK_START.sub(_block_marker, text, count=1)


def _block_marker(match: re.Match[str]) -> str:
    indent, marker, number, delimiter = match.groups()
    if marker is not None:
        return f"{indent}\\{marker}"
    return f"{indent}{number}\\{delimiter}"


def for_markdown(text: str) -> str:
    """Literal text inside Markdown (the evidence pack): no link, image, HTML tag, emphasis or
    table cell break can form from it, and control characters are spelled out."""
    return _markdown(visible(text))


def for_markdown_code(text: str) -> str:
    """``text`` as a Markdown code span (inside which nothing is live), fenced with more
    backticks than it contains; ``|`` escaped so that a table cell holds it."""
    body = visible(text).replace("|", "\\|")
    if not body:
        return ""
    fence = "`" * (max((len(run) for run in re.findall(r"`+", body)), default=0) + 1)
    pad = " " if body.startswith("`") or body.endswith("`") else ""
    return f"{fence}{pad}{body}{pad}{fence}"


def for_teams(text: str) -> str:
    """Literal text in an Adaptive Card ``TextBlock`` or ``FactSet`` (Teams reads both as
    Markdown: emphasis, lists and links; its renderers honour CommonMark's backslash escapes)."""
    return _markdown(visible(text))


def for_slack(text: str) -> str:
    """Literal text in Slack ``mrkdwn`` and a message's ``text``: ``&``, ``<`` and ``>`` as
    Slack asks, so ``<!channel>``, ``<@U123>`` and ``<http://x|y>`` cannot form."""
    return visible(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def for_html(text: str) -> str:
    """Literal text in HTML, attribute values included."""
    return html.escape(visible(text, keep="\n"), quote=True)


def _visible_data(value: object) -> object:
    if isinstance(value, str):
        return visible(value, keep="\n")
    if isinstance(value, list | tuple):
        return [_visible_data(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _visible_data(v) for k, v in value.items()}
    return value


_SCRIPT_DATA = (
    ("<", "\\u003c"),
    (">", "\\u003e"),
    ("&", "\\u0026"),
    ("\u2028", "\\u2028"),
    ("\u2029", "\\u2029"),
)
"""Each replaced on its own: ``str.replace`` runs at C speed, where ``str.translate`` with a
mapping took seconds over the 20 MB of a large estate's page data."""


_JSON_CONTROL = re.compile(r"\\(?:[bfnrt]|u00[01])")
"""How ``json.dumps`` writes a C0 control character (and, harmlessly, a text's backslash)."""


def for_html_data(data: object) -> str:
    """Data for a page's ``<script type="application/json">`` block: JSON whose text holds no
    ``<``, ``>`` or ``&`` (as ``\\u003c`` and so on), so no ``</script>`` or comment can end the
    block early, with control and direction characters spelled out. The page's script reads
    it with ``JSON.parse`` and shows it as text only (``textContent``), never as markup."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    if not text.isprintable() or _JSON_CONTROL.search(text):
        # Something to spell out somewhere (a control, format or separator character, raw or
        # as JSON wrote it): clean every string first. Otherwise the text is already clean.
        text = json.dumps(_visible_data(data), ensure_ascii=False, separators=(",", ":"))
    for char, escaped in _SCRIPT_DATA:
        text = text.replace(char, escaped)
    return text


def for_mail_header(text: str, limit: int = MAIL_HEADER_LIMIT) -> str:
    """One header line: line breaks and tabs become spaces (a CR or LF can neither add a
    header nor make the message unsendable), other controls are spelled out, length capped."""
    line = visible(" ".join(text.split()))
    return line if len(line) <= limit else line[: limit - 1] + "…"


def for_plain_text(text: str) -> str:
    """Literal text in a plain-text body (mail, PagerDuty, Opsgenie): no invisible character
    and no line break that could fake a line of the message."""
    return visible(text)


PSA_TITLE_LIMIT = 100
"""Characters of a ticket title: ConnectWise PSA's ``summary`` takes 100, Autotask's ``title``
255, HaloPSA's ``summary`` more; the shortest bounds them all."""


def for_psa_text(text: str, limit: int | None = None) -> str:
    """Literal text in a PSA ticket's plain-text field (a title; a line of a ConnectWise PSA or
    Autotask description or note): one line (a line break cannot fake a line of the ticket),
    controls spelled out, and ``<`` and ``>`` shown as the single angle quotation marks U+2039
    and U+203A, so that no tag forms where a PSA view renders the field as HTML; capped at
    ``limit`` characters."""
    line = visible(" ".join(text.split())).replace("<", "\u2039").replace(">", "\u203a")
    if limit is not None and len(line) > limit:
        line = line[: limit - 1] + "\u2026"
    return line


def for_log(text: str) -> str:
    """A log value: CR, LF and escape characters spelled out, so one event stays one line and
    a console renderer prints nothing a terminal would obey."""
    return visible(text)
