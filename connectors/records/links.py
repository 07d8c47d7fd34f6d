"""The kinds of partner link the agent watches."""

from __future__ import annotations

from enum import StrEnum


class LinkKind(StrEnum):
    """The kinds of partner link the agent watches (domain.md, glossary)."""

    CSP = "csp"
    INDIRECT_RESELLER = "indirect_reseller"
    GDAP = "gdap"
    PAL = "pal"
    DPOR = "dpor"
    CPOR = "cpor"
