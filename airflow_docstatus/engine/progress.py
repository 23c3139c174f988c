"""Which poll of a wait writes a progress line at INFO: one place for the sensor and the trigger alike.

A wait of hours polled every few seconds used to write thousands of
identical lines ("status=100 (waiting); next poll in 5.0s"), and in the
triggerer each of them went through structlog for every waiting trigger.
Now a wait writes:

- one line at INFO (WARNING when the status carries a warning) when the
  status, its progress, its message or its warning changes, the first poll
  included;
- otherwise one "still waiting" line at most every ``STILL_WAITING_SECONDS``;
- every poll at DEBUG, built only if a handler takes DEBUG.

Every line names the status, how long the wait has lasted, and the next
poll: ``<vendor> <ids> status=<s> (waiting) [progress=..] [message=..]; waited
4m05s; next poll in 5.0s`` (or ``; still waiting after 4m05s; next poll in 5.0s``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from typing import Any

from airflow_docstatus.engine.status import DocStatus

# A wait whose status does not change writes one "still waiting" line this often at most (seconds).
STILL_WAITING_SECONDS = 60.0

CHANGED = "%s; waited %s; next poll in %.1fs"
STILL_WAITING = "%s; still waiting after %s; next poll in %.1fs"

Key = tuple[str, str, float | None, str | None, str | None]


def format_duration(seconds: float) -> str:
    """``42s``, ``4m05s`` or ``2h03m``: a wait's length for a log line (negative counts as 0)."""
    total = int(max(seconds, 0.0))
    if total < 60:
        return f"{total}s"
    if total < 3600:
        return f"{total // 60}m{total % 60:02d}s"
    return f"{total // 3600}h{total % 3600 // 60:02d}m"


class _Lazy:
    """An argument of a DEBUG line, worked out only if the line is written (``%s`` calls ``str``)."""

    __slots__ = ("_args", "_make")

    def __init__(self, make: Callable[..., str], *args: Any) -> None:
        self._make, self._args = make, args

    def __str__(self) -> str:
        return self._make(*self._args)


def status_key(status: DocStatus) -> Key:
    """What a progress line says about a status: a change in any of it is worth a line."""
    return (status.state.value, status.vendor_status, status.progress, status.message, status.warning)


def status_digest(status: DocStatus) -> str:
    """``status_key`` as 32 hex digits: what is compared and kept, however long the vendor's message.

    ``DocStatus`` keeps ``progress`` finite, so equal statuses give equal digests.
    """
    text = json.dumps(status_key(status), default=str)  # ASCII: any vendor text escaped
    return hashlib.blake2b(text.encode("ascii"), digest_size=16).hexdigest()


class ProgressLog:
    """Decides, poll by poll, at which level a wait's progress line goes, and writes it.

    :param since: when the wait began (seconds, on the clock the caller passes as ``now``).
    :param every: the most often an unchanged status writes its "still waiting" line (seconds).

    ``forget()`` after a transient error, so the first good answer after it
    is written again. ``state()``/``restore()`` carry the decision across
    processes (a reschedule-mode sensor keeps it in the task state store):
    a JSON-able ``{"key": digest, "at": seconds}``, the digest
    (``status_digest``, 32 hex digits) standing for the status, progress,
    message and warning last written, so a vendor's long message is not kept.
    """

    __slots__ = ("_key", "_logged_at", "every", "since")

    def __init__(self, since: float, every: float = STILL_WAITING_SECONDS) -> None:
        self.since = since
        self.every = every
        self._key: str | None = None
        self._logged_at = since

    def forget(self) -> None:
        self._key = None

    def decide(self, status: DocStatus, now: float) -> str | None:
        """``CHANGED``, ``STILL_WAITING`` (the INFO line's format, and the state updated) or None (DEBUG only)."""
        key = status_digest(status)
        if key != self._key:
            self._key, self._logged_at = key, now
            return CHANGED
        if now - self._logged_at >= self.every:
            self._logged_at = now
            return STILL_WAITING
        return None

    def emit(self, logger: Any, line: str | None, status: DocStatus, delay: float, now: float) -> None:
        """Write the line ``decide`` chose: at the status's level, or at DEBUG (built only when written)."""
        if line is None:
            logger.debug(CHANGED, _Lazy(status.describe), _Lazy(format_duration, now - self.since), delay)
        else:
            logger.log(status.log_level, line, status.describe(), format_duration(now - self.since), delay)

    def log(self, logger: Any, status: DocStatus, delay: float, now: float) -> None:
        """``decide`` then ``emit``: one poll's progress line."""
        self.emit(logger, self.decide(status, now), status, delay, now)

    def state(self) -> dict[str, Any]:
        return {"key": self._key, "at": self._logged_at}

    def restore(self, state: Mapping[str, Any]) -> None:
        key = state.get("key")
        if isinstance(key, str) and len(key) == 32:  # another shape (an older release's list): written again
            self._key = key
        at = state.get("at")
        if isinstance(at, (int, float)) and not isinstance(at, bool):
            self._logged_at = float(at)
