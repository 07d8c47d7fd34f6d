"""``Retry-After`` parsing and the retry policy shared by real and fake connectors.

Microsoft sends seconds (Partner Center ``57``, ARM), fractional seconds (Graph ``2.128``) or,
per RFC 9110, an HTTP date. Absent the header, callers back off exponentially with jitter, capped.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait, from a ``Retry-After`` value; ``None`` when absent or unreadable."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how long to retry a transient failure.

    ``attempts`` counts every try of one request, the first included. Throttling (429) gets
    ``throttled_attempts`` because a throttled scope recovers by itself once its bucket refills.
    """

    attempts: int = 3
    throttled_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 60.0

    def backoff(self, attempt: int, rng: random.Random | None = None) -> float:
        """Full-jitter exponential backoff for try number ``attempt`` (1-based)."""
        ceiling = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        return (rng or random).uniform(ceiling / 2, ceiling)

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """The wait before the next try: the server's word (capped) or our backoff."""
        if retry_after is not None:
            return min(retry_after, self.max_delay * 10)
        return self.backoff(attempt)

    def allows(self, attempt: int, *, throttled: bool) -> bool:
        """Whether try number ``attempt + 1`` may happen."""
        return attempt < (self.throttled_attempts if throttled else self.attempts)


DEFAULT_RETRY = RetryPolicy()
