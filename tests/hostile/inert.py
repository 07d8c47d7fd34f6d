"""What "inert" means, one check per output format: each takes what an output produced and
fails with the offending piece when a hostile part could still act."""

from __future__ import annotations

import csv
import email
import email.policy
import io
import json
import re
from email.message import EmailMessage
from html.parser import HTMLParser
from typing import Any

from markdown_it import MarkdownIt

from connectors.text import INVISIBLE

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_SGR = re.compile(r"\x1b\[[0-9;]*m")
_C1 = re.compile("[\x80-\x9f]")
_MARKDOWN = MarkdownIt("commonmark").enable(["table", "strikethrough"])


def no_invisible(text: str, where: str, *, allow: str = "") -> None:
    """No control (other than ``allow``), C1 or direction character in ``text``."""
    for char in text:
        if char in allow:
            continue
        bad = char in INVISIBLE or ord(char) < 0x20 or 0x7F <= ord(char) <= 0x9F
        assert not bad, f"{where}: raw {char!r} in {text[:300]!r}"


def terminal(output: str, where: str) -> None:
    """Styles of our own (SGR) may be there; nothing else a terminal obeys: no cursor or screen
    control, no OSC 8 link, no window title, no bell, no C1 control, no direction override."""
    plain = _SGR.sub("", output)
    assert "\x1b" not in plain, f"{where}: escape sequence {plain[plain.index(chr(27)) :][:40]!r}"
    assert not _C1.search(plain), f"{where}: C1 control in the output"
    no_invisible(plain, where, allow="\n")


def csv_cells(text: str, where: str) -> list[dict[str, str]]:
    """Every cell of a CSV export: none starts like a formula (OWASP)."""
    rows = list(csv.DictReader(io.StringIO(text)))
    for row in rows:
        for column, cell in row.items():
            assert not (cell or "").startswith(FORMULA_STARTS), f"{where}: {column}={cell[:80]!r}"
            no_invisible(cell or "", f"{where}: {column}", allow="\n")
    return rows


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


REPORT_TAGS = {
    "html", "head", "meta", "title", "style", "body", "h1", "h2", "div", "figure", "figcaption",
    "svg", "line", "text", "path", "circle", "b", "table", "thead", "tbody", "tr", "th", "td",
    "span", "code", "p", "ul", "li", "strong", "em",
    "noscript", "section", "input", "select", "option", "label", "button", "script",
}  # fmt: skip
"""Every tag the agent's own pages and mails use; a stranger's tag is none of them."""


class _Scripts(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self._open: dict[str, str | None] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self._open = dict(attrs)
            self.scripts.append((self._open, ""))

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            attrs, body = self.scripts[-1]
            self.scripts[-1] = (attrs, body + data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._open = None


def html_page(
    page: str,
    where: str,
    allowed: set[str] = REPORT_TAGS,
    scripts: tuple[str, ...] = (),
    *,
    own_links: bool = False,
) -> list[Any]:
    """Only the page's own tags; no event handler, no link or source from outside (with
    ``own_links``, links and form targets to the page's own paths); a script is one of
    ``scripts`` (the page's own) or a JSON data block, which no ``<`` can end early and which
    parses. Returns the data blocks' contents."""
    parser = _Tags()
    parser.feed(page)
    for tag, attrs in parser.tags:
        assert tag in allowed, f"{where}: live <{tag}> {attrs}"
        for name, value in attrs:
            assert not name.startswith("on"), f"{where}: <{tag} {name}={value!r}>"
            own = own_links and name in ("href", "action") and _own_path(value)
            assert own or name not in ("href", "src"), f"{where}: <{tag} {name}={value!r}>"
    no_invisible(page, where, allow="\n")
    found = _Scripts()
    found.feed(page)
    data = []
    for attrs, body in found.scripts:
        if attrs.get("type") == "application/json":
            assert "<" not in body and "&" not in body, f"{where}: markup in a data block"
            data.append(json.loads(body))
        else:
            assert body in scripts, f"{where}: a script that is not the page's own: {body[:200]!r}"
    return data


APP_TAGS = REPORT_TAGS | {
    "nav", "main", "pre", "br", "a", "form", "input", "button", "select", "option", "label",
}  # fmt: skip
"""The daemon's own pages add links, forms and the signed-in bar."""


def _own_path(value: str | None) -> bool:
    return (value or "").startswith("/") and not (value or "").startswith("//")


def app_page(page: str, where: str) -> None:
    """Only the page's own tags; no event handler or source; the only links and form targets
    are the page's own paths (no other site, no ``javascript:``)."""
    parser = _Tags()
    parser.feed(page)
    for tag, attrs in parser.tags:
        assert tag in APP_TAGS, f"{where}: live <{tag}> {attrs}"
        for name, value in attrs:
            assert not name.startswith("on"), f"{where}: <{tag} {name}={value!r}>"
            assert name not in ("src", "srcdoc", "formaction"), f"{where}: <{tag} {name}>"
            if name in ("href", "action"):
                assert _own_path(value), f"{where}: <{tag} {name}={value!r}>"
    no_invisible(page, where, allow="\n")


MARKDOWN_TAGS = {
    "h1", "h2", "p", "br", "table", "thead", "tbody", "tr", "th", "td", "code", "ul", "ol", "li",
    "strong", "em",
}  # fmt: skip
_CODE_SPAN = re.compile(r"(`+).*?\1", re.S)
_BARE_LINK = re.compile(r"(?<!\\)(://|(?i:www)(?<!\\)\.)|(?<!\\)@")


def markdown(text: str, where: str, allowed: set[str] = MARKDOWN_TAGS) -> str:
    """Rendered as CommonMark (tables on): no link, image or raw HTML; and outside code spans
    nothing GitHub would auto-link (``http://``, ``www.``, ``a@b``) is left unescaped."""
    rendered = _MARKDOWN.render(text)
    html_page(rendered, where, allowed)
    outside_code = _CODE_SPAN.sub("", text)
    found = _BARE_LINK.search(outside_code)
    assert found is None, f"{where}: bare link at {outside_code[found.start() - 30 :][:60]!r}"
    no_invisible(text, where, allow="\n")
    return rendered


def slack(payload: dict[str, Any], where: str) -> None:
    """No ``<`` or ``>`` from a name (mentions, links, ``<!channel>``); mrkdwn is verbatim and
    nothing unfurls."""
    assert payload.get("unfurl_links") is False and payload.get("unfurl_media") is False, where
    texts = [payload["text"]]
    for block in payload["blocks"]:
        objects = [block.get("text"), *block.get("fields", []), *block.get("elements", [])]
        for obj in filter(None, objects):
            texts.append(obj["text"])
            if obj["type"] == "mrkdwn":
                assert obj.get("verbatim") is True, f"{where}: mrkdwn without verbatim"
    for text in texts:
        assert "<" not in text and ">" not in text, f"{where}: {text[:200]!r}"
        no_invisible(text, where, allow="\n")


def teams(card: dict[str, Any], where: str) -> None:
    """Every Markdown-read text of the card (``TextBlock``, ``FactSet``) renders without a link,
    an image or a tag."""
    texts: list[str] = []

    def walk(elements: list[dict[str, Any]]) -> None:
        for element in elements:
            if element["type"] == "TextBlock":
                texts.append(element["text"])
            elif element["type"] == "FactSet":
                texts.extend(f"{fact['title']}: {fact['value']}" for fact in element["facts"])
            elif element["type"] == "Container":
                walk(element["items"])

    walk(card["body"])
    for text in texts:
        markdown(text, f"{where}: {text[:60]!r}")


def mail(raw: bytes, where: str) -> EmailMessage:
    """Every header on one line, no header a name added, both bodies inert."""
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    names = [name.lower() for name in parsed]
    assert "bcc" not in names, f"{where}: a name added a Bcc header"
    assert names.count("subject") == 1, f"{where}: {names}"
    for name, value in parsed.items():
        no_invisible(str(value), f"{where}: header {name}")
    plain = parsed.get_body(("plain",))
    page = parsed.get_body(("html",))
    assert plain is not None and page is not None, where
    no_invisible(plain.get_content(), f"{where}: text/plain", allow="\r\n")  # SMTP's CRLF
    html_page(page.get_content().replace("\r\n", "\n"), f"{where}: text/html")
    return parsed


def plain(value: str, where: str) -> None:
    """Plain text shown as written (PagerDuty, Opsgenie): nothing invisible."""
    no_invisible(value, where, allow="\n")


def psa_plain(text: str, where: str) -> None:
    """A PSA ticket's plain-text field (a title; ConnectWise PSA's and Autotask's descriptions
    and notes): nothing invisible, no ``<`` or ``>`` a view rendering HTML could read as a tag,
    and no line a name could have started (a CR or LF in a name never breaks a line)."""
    no_invisible(text, where, allow="\n")
    assert "<" not in text and ">" not in text, f"{where}: {text[:200]!r}"
    for line in text.splitlines():
        assert not line.startswith(("Bcc:", "Subject: pwned")), f"{where}: {line[:80]!r}"


def psa_title(text: str, where: str) -> None:
    """A ticket title: one line within ConnectWise PSA's 100 characters, plain and inert."""
    assert "\n" not in text and len(text) <= 100, f"{where}: {text!r}"
    psa_plain(text, where)


PSA_HTML_TAGS = {"p", "br", "b"}
"""The tags of the agent's own HaloPSA details and notes."""


def psa_html(text: str, where: str) -> None:
    """HaloPSA's HTML details and notes: only the agent's own tags, nothing a name added."""
    html_page(text, where, PSA_HTML_TAGS)
