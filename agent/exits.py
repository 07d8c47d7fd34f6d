"""The command line's exit codes, and the one a sync's status maps to; the demo shares them.

====  ==========================================================================
0     success
1     internal error (a bug: please report it with the log)
2     usage or configuration error (the message names the file and the key)
3     the run finished partially: some sources could not be read for some scopes; or (readiness,
      ``check --online``) the readable share of the estate is below ``[readiness] floor``, or the
      partner tenant is not fully readable
4     the run failed: nothing could be read, or there is nothing to audit yet; or (readiness)
      not even the customers could be listed
====  ==========================================================================
"""

from __future__ import annotations

from enum import IntEnum

EXIT_OK, EXIT_INTERNAL, EXIT_CONFIG, EXIT_PARTIAL, EXIT_FAILED = 0, 1, 2, 3, 4


class Exit(IntEnum):
    OK = EXIT_OK
    INTERNAL = EXIT_INTERNAL
    CONFIG = EXIT_CONFIG
    PARTIAL = EXIT_PARTIAL
    FAILED = EXIT_FAILED


def sync_code(status: str) -> int:
    """A sync run's exit code: complete 0, partial 3, anything else 4."""
    return {"complete": EXIT_OK, "partial": EXIT_PARTIAL}.get(status, EXIT_FAILED)


def readiness_code(ok: bool, listed: bool) -> int:
    """A readiness check's exit code: 0 at or above the floor, 3 below it, 4 when not even the
    customers could be listed."""
    if not listed:
        return EXIT_FAILED
    return EXIT_OK if ok else EXIT_PARTIAL
