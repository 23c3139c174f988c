"""When to poll again, and how many transient errors in a row to tolerate.

One policy serves poke, reschedule and deferrable mode, so a sensor waits the
same way wherever it runs.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from airflow_docstatus.engine.errors import DocStatusError, PermanentError, TransientError, TransientErrorsExhausted

DEFAULT_MAX_CONSECUTIVE_ERRORS = 10
DEFAULT_ERROR_BACKOFF_CAP = 300.0
DEFAULT_BACKOFF_CAP = 300.0


@dataclass(frozen=True)
class PollPolicy:
    """The waits between polls.

    - ``interval``: the normal wait;
    - ``floor``: the vendor's minimum gap between two polls, never undercut;
    - after transient errors the wait grows exponentially (with jitter) up to ``error_backoff_cap``;
    - a vendor's ``Retry-After`` is honoured, but never past the deadline;
    - with ``backoff``, the normal wait doubles after each poll that finds the
      document still waiting, up to ``max_interval`` (default 300 s), and never
      drops below ``interval`` (see ``interval_after``).

    No wait is ever shorter than ``interval``, so a caller that polls only
    after these waits makes at most elapsed/interval + 1 calls; a caller that
    also takes one last look at the deadline, ceil(elapsed/interval) + 1.
    """

    interval: float
    floor: float = 0.0
    error_backoff_cap: float = DEFAULT_ERROR_BACKOFF_CAP
    backoff: bool = False
    max_interval: float | None = None

    @property
    def shortest(self) -> float:
        """The shortest gap this policy ever leaves between two polls."""
        return max(self.interval, self.floor)

    def interval_after(self, polls: int) -> float:
        """The normal wait after the ``polls``-th poll (1 for the first): ``interval``,
        or with ``backoff`` ``interval * 2 ** (polls - 1)`` capped at ``max_interval``."""
        if not self.backoff or polls <= 1:
            return self.interval
        cap = DEFAULT_BACKOFF_CAP if self.max_interval is None else self.max_interval
        return max(self.interval, min(self.interval * 2.0 ** min(polls - 1, 62), cap))

    def next_delay(
        self,
        *,
        errors_in_row: int = 0,
        retry_after: float | None = None,
        remaining: float | None = None,
        base: float | None = None,
        rng: random.Random | None = None,
    ) -> float:
        """Seconds to wait before the next poll.

        ``base`` replaces ``interval`` when the caller computed its own (the
        sensor's exponential_backoff); ``remaining`` is the time left before
        the deadline, or None for no deadline.
        """
        delay = self.interval if base is None else base
        if errors_in_row > 0:
            backoff = min(self.error_backoff_cap, max(self.interval, 1.0) * 2 ** (errors_in_row - 1))
            jitter = (rng or random).uniform(0.5, 1.0)
            delay = max(delay, backoff * jitter)
        if retry_after is not None:
            delay = max(delay, retry_after)
        if remaining is not None:
            delay = min(delay, max(remaining, 0.0))
        return max(delay, self.floor)


class ErrorBudget:
    """Counts transient errors in a row; a success resets the count."""

    def __init__(self, limit: int = DEFAULT_MAX_CONSECUTIVE_ERRORS, in_row: int = 0) -> None:
        if limit < 1:
            raise ValueError(f"max_consecutive_errors must be at least 1, got {limit}")
        self.limit = limit
        self.in_row = in_row
        self.last: TransientError | None = None

    def succeeded(self) -> None:
        self.in_row = 0
        self.last = None

    def failed(self, error: TransientError) -> None:
        """Count one more transient error; raise ``TransientErrorsExhausted`` when the budget is spent."""
        self.in_row += 1
        self.last = error
        if self.in_row >= self.limit:
            raise TransientErrorsExhausted(
                f"gave up after {self.in_row} transient errors in a row; the last: {error}"
            ) from error


class SharedFailure:
    """A failed fetch (a token, a WSDL) shared by every poller that wants the same thing, for a while.

    After a failure, ``raise_recent_failure`` raises the same error again
    until ``retry_at`` (``backoff`` seconds, doubling with each failure in a
    row up to ``backoff_cap``), so a failing endpoint sees one call per
    backoff step, not one per poller. Subclasses set the two numbers.
    """

    backoff: float = 1.0
    backoff_cap: float = 60.0

    def __init__(self) -> None:
        self.failure: DocStatusError | None = None
        self.failures_in_row = 0
        self.retry_at = 0.0

    def raise_recent_failure(self, now: float) -> None:
        """Raise the last failure again (a fresh exception of its kind) while its backoff lasts."""
        failure = self.failure
        if failure is None or now >= self.retry_at:
            return
        if isinstance(failure, TransientError):
            raise TransientError(str(failure), retry_after=self.retry_at - now, http_status=failure.http_status)
        if isinstance(failure, PermanentError):
            raise type(failure)(str(failure), http_status=failure.http_status)
        raise type(failure)(str(failure))

    def failed(self, error: DocStatusError, now: float) -> None:
        """Remember a failure, to share it with the other pollers until ``retry_at``."""
        self.failures_in_row += 1
        self.failure = error
        self.retry_at = now + min(self.backoff * 2 ** (self.failures_in_row - 1), self.backoff_cap)

    def cleared(self) -> None:
        """The fetch worked: forget the failures."""
        self.failure = None
        self.failures_in_row = 0
