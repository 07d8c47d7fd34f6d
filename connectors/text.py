"""Text from Microsoft is written by strangers: names of customers, tenants, domains, offers and
relationships are normalised here, once, where they enter a record, so that no terminal escape,
control character or invisible direction override travels any further than the connector.

``clean`` keeps what a person can read: NFC-normalised, escape sequences and control characters
removed, bidi overrides and zero-width characters dropped, whitespace runs made one space, and
the length capped. ``visible`` is its counterpart for text already stored or built: it shows
those characters as escapes instead. Each output escapes for its own format (``agent.escape``).
"""

from __future__ import annotations

import re
import unicodedata

NAME_LIMIT = 200
"""Characters kept of a name: what the store keeps of a customer's name on a finding (a longer
one would make PostgreSQL refuse the audit's write)."""

TEXT_LIMIT = 4096
"""Characters kept of any other text field: enough for a signed download link, short enough
that no answer can park a megabyte in a record."""

_ESCAPE_SEQUENCE = re.compile(
    r"""
    (?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]               # CSI: cursor, erase, colours
    | (?:\x1b\]|\x9d)[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?  # OSC: titles, 8;; hyperlinks
    | (?:\x1b[PX^_]|[\x90\x98\x9e\x9f])[^\x1b\x9c]*(?:\x1b\\|\x9c)?  # DCS, SOS, PM, APC
    | \x1b[ -/]*[0-~]?                             # any other escape
    """,
    re.VERBOSE,
)

INVISIBLE = frozenset(
    "\u061c"  # Arabic letter mark
    "\u180e"  # Mongolian vowel separator
    "\u200b\u200c\u200d\u200e\u200f"  # zero-width space/non-joiner/joiner, LRM, RLM
    "\u202a\u202b\u202c\u202d\u202e"  # LRE, RLE, PDF, LRO, RLO
    "\u2060\u2061\u2062\u2063\u2064"  # word joiner, invisible operators
    "\u2066\u2067\u2068\u2069"  # LRI, RLI, FSI, PDI
    "\ufeff"  # zero-width no-break space (BOM)
)
"""Characters that change how a name reads or compares without showing: direction overrides
and isolates (the "U+202E" spoofing trick) and zero-width joiners."""


def _dropped(char: str) -> bool:
    # Cc: C0, DEL, C1 controls; Cf: other format characters (tags, invisible marks);
    # Cs: lone surrogates, which no encoder can write.
    return char in INVISIBLE or unicodedata.category(char) in ("Cc", "Cf", "Cs")


def clean(value: str, limit: int | None = NAME_LIMIT) -> str:
    """``value`` as a single line a person can read: see the module docstring.

    Line breaks, tabs and other separators become spaces (``"Contoso\\nLtd"`` reads as
    ``"Contoso Ltd"``); an over-long value ends in ``…`` within ``limit`` characters."""
    if value.isascii() and value.isprintable():
        # Printable ASCII holds no control, escape, format or invisible character, and NFC
        # leaves it as it is: only the spaces are left to fold (most names, every id).
        text = " ".join(value.split())
        if limit is not None and len(text) > limit:
            text = text[: limit - 1].rstrip() + "…"
        return text
    text = unicodedata.normalize("NFC", value)
    text = _ESCAPE_SEQUENCE.sub("", text)
    # str.split() without arguments splits on every Unicode whitespace, line and paragraph
    # separators included, so control whitespace becomes plain spaces before the rest goes.
    text = " ".join(text.split())
    text = "".join(c for c in text if not _dropped(c))
    text = " ".join(text.split())
    if limit is not None and len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def hidden(char: str) -> bool:
    """A character ``clean`` drops and ``visible`` spells out."""
    return char in INVISIBLE or unicodedata.category(char) in ("Cc", "Cf", "Cs", "Zl", "Zp")


def visible(value: str, keep: str = "") -> str:
    """``value`` with every control, format, separator and direction character spelled out as
    a Python-style escape (``\\x1b``, ``\\u202e``, ``\\n``), except the characters in
    ``keep``: nothing invisible reaches a screen, and nothing is silently lost."""
    if (value.isascii() and value.isprintable()) or not any(hidden(c) for c in value):
        return value  # printable ASCII hides nothing: most text, checked at C speed
    return "".join(_spelled(c) if hidden(c) and c not in keep else c for c in value)


def _spelled(char: str) -> str:
    named = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(char)
    if named is not None:
        return named
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
