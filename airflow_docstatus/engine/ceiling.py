"""The per-connection request ceiling (the ``max_requests_per_second`` extra), for requests and aiohttp alike.

Every request through a connection with the extra takes the next free slot
of that connection's schedule; slots are ``1 / max_requests_per_second``
apart, so no window of one second holds more than the ceiling's count of
requests (no burst). The schedule is shared by every trigger of the
connection in one event loop (``async_ceiling``) and by every sensor, hook
and operator of it in one process (``sync_ceiling``, under a lock).

A slot is reserved only when it comes within the caller's time (the wait's
deadline, with the last look's grace, see ``call_budget``): a request that
would go out after the deadline is not made and takes no slot from the
others, and the caller gets ``NoRequestSlotError`` (the wait then times out
at its deadline, saying why) rather than a late or silently skipped call.

Our own ~40 lines, not a library: aiolimiter serves asyncio only, and the
libraries that serve threads too (limits, pyrate-limiter) answer "over the
limit" and leave the waiting to the caller, or wait without a per-call
bound; the engine needs one schedule, read by both transports, that tells
each caller how long its slot is away before it commits to it.
"""

from __future__ import annotations

import asyncio
import threading
import time
import weakref

from airflow_docstatus.engine.errors import NoRequestSlotError


class RequestCeiling:
    """A schedule of request slots ``1 / rate`` seconds apart (``rate``: requests per second, > 0).

    Not thread-safe on its own: ``sync_ceiling``'s callers hold ``lock``;
    in an event loop nothing runs between ``reserve`` and its caller's sleep.
    """

    __slots__ = ("_next", "lock", "rate", "spacing", "where")

    def __init__(self, rate: float, where: str = "this connection") -> None:
        self.rate = rate
        self.spacing = 1.0 / rate
        self.where = where
        self._next = float("-inf")
        self.lock = threading.Lock()

    def reserve(self, now: float, within: float | None = None) -> float:
        """Take the next free slot and return how long to wait for it (seconds, >= 0).

        ``within`` is the longest the caller may wait (None: no bound); a
        slot further away is not taken, and ``NoRequestSlotError`` says when it would come.
        """
        slot = max(now, self._next)
        wait = slot - now
        if within is not None and wait > within:
            raise NoRequestSlotError(
                f"{self.where}: the connection's max_requests_per_second={self.rate:g} leaves no request "
                f"slot for {wait:.1f}s, past the wait's deadline: no last look was made",
                slot_in=wait,
            )
        self._next = slot + self.spacing
        return wait

    def wait_sync(self, within: float | None = None) -> float:
        """Reserve a slot and sleep until it (requests, sensors); returns the seconds waited."""
        with self.lock:
            wait = self.reserve(time.monotonic(), within)
        if wait > 0:
            time.sleep(wait)
        return wait

    async def wait_async(self, within: float | None = None) -> float:
        """Reserve a slot and sleep until it without blocking the loop (triggers); returns the seconds waited."""
        wait = self.reserve(time.monotonic(), within)
        if wait > 0:
            await asyncio.sleep(wait)
        return wait


_SYNC: dict[tuple[str, float], RequestCeiling] = {}
_SYNC_LOCK = threading.Lock()
_ASYNC: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[str, float], RequestCeiling]] = (
    weakref.WeakKeyDictionary()
)


def sync_ceiling(conn_id: str, rate: float) -> RequestCeiling:
    """The schedule every thread of this process shares for ``conn_id`` at ``rate``."""
    with _SYNC_LOCK:
        ceiling = _SYNC.get((conn_id, rate))
        if ceiling is None:
            ceiling = _SYNC[(conn_id, rate)] = RequestCeiling(rate, f"connection {conn_id!r}")
        return ceiling


def async_ceiling(conn_id: str, rate: float) -> RequestCeiling:
    """The schedule every trigger of the running event loop shares for ``conn_id`` at ``rate``."""
    table = _ASYNC.setdefault(asyncio.get_running_loop(), {})
    ceiling = table.get((conn_id, rate))
    if ceiling is None:
        ceiling = table[(conn_id, rate)] = RequestCeiling(rate, f"connection {conn_id!r}")
    return ceiling
