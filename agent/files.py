"""Files that carry customer data (reports, evidence packs, exports, configs, tokens) are
readable by their owner only, from the first byte: created 0600 whatever the umask, never
chmod-ed after writing, and an existing file is replaced by such a file, never rewritten.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

PRIVATE = 0o600


def write_private(path: str | os.PathLike[str], data: str | bytes) -> None:
    """Write ``data`` (text as UTF-8) to ``path`` as a 0600 file.

    The bytes go to a new file beside ``path`` that is 0600 before anything is written to it,
    then are flushed to disk and renamed over ``path``: a reader sees the old file or the whole
    new one, and an existing 0644 file ends up 0600. A device or pipe (``/dev/stdout``) is
    written through as it is. An ``OSError`` names ``path``, not the temporary file.
    """
    target = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    if _is_special(target):
        with target.open("wb") as handle:
            handle.write(payload)
        return
    tmp = target.parent / f".{target.name}.{secrets.token_hex(6)}.tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE)
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, str(target)) from None
    try:
        os.fchmod(fd, PRIVATE)  # the umask may have taken bits off; nothing is written yet
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _is_special(path: Path) -> bool:
    """``path`` exists and is neither a regular file nor a folder: a device, a pipe, a socket."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)
