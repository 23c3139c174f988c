"""The per-connection request ceiling (the ``max_requests_per_second`` extra), for requests and aiohttp alike.

Every request through a connection with the extra takes the next free slot
of that connection's schedule; slots are ``1 / max_requests_per_second``
apart, so no window of one second holds more than the ceiling's count of
requests (no burst). The schedule is shared by every trigger of the
connection in one event loop (``async_ceiling``) and by every sensor, hook
and operator of it in one process (``sync_ceiling``, under a lock).

A slot is reserved only when it comes within the caller's time (the time
left before the wait's deadline, at least the last look's grace, see
``slot_time``; not the connection's ``call_timeout``, which bounds the call
itself once its slot has come; no deadline, no bound): a request that
would go out after the deadline is not made and takes no slot from the
others, and the caller gets ``NoRequestSlotError`` (the wait then times out
at its deadline, saying why) rather than a late or silently skipped call.

Our own ~80 lines, not a library: aiolimiter serves asyncio only, and the
libraries that serve threads too (limits, pyrate-limiter) answer "over the
limit" and leave the waiting to the caller, or wait without a per-call
bound; the engine needs one schedule, read by both transports, that tells
each caller how long its slot is away before it commits to it.
"""

from __future__ import annotations

import asyncio
import heapq
import threading
import time
import weakref

from airflow_docstatus.engine.errors import NoRequestSlotError


class RequestCeiling:
    """A schedule of request slots ``1 / rate`` seconds apart (``rate``: requests per second, > 0).

    Not thread-safe on its own: ``sync_ceiling``'s callers hold ``lock``;
    in an event loop nothing runs between ``reserve`` and its caller's sleep.
    A caller that stops waiting before its slot (a cancelled trigger) gives
    the slot back (``release``): the next reservation takes the earliest
    slot given back that is still ahead, so no one after it is pushed back.
    """

    __slots__ = ("_freed", "_next", "lock", "rate", "spacing", "where")

    def __init__(self, rate: float, where: str = "this connection") -> None:
        self.rate = rate
        self.spacing = 1.0 / rate
        self.where = where
        self._next = float("-inf")
        self._freed: list[float] = []  # a heap of slots given back, on the monotonic clock
        self.lock = threading.Lock()

    def set_rate(self, rate: float) -> None:
        """An edited ``max_requests_per_second``: slots from now on are ``1 / rate`` apart (taken ones stay)."""
        if rate != self.rate:
            self.rate, self.spacing = rate, 1.0 / rate
            self._freed.clear()  # spaced for the old rate

    def take(self, now: float, within: float | None = None) -> float:
        """Take the next free slot and return when it is (``now``'s clock).

        ``within`` is the longest the caller may wait (None: no bound); a
        slot further away is not taken, and ``NoRequestSlotError`` says when it would come.
        """
        while self._freed and self._freed[0] < now:  # given back and gone by
            heapq.heappop(self._freed)
        slot = self._freed[0] if self._freed else max(now, self._next)
        wait = slot - now
        if within is not None and wait > within:
            raise NoRequestSlotError(
                f"{self.where}: the connection's max_requests_per_second={self.rate:g} leaves no request "
                f"slot for {wait:.1f}s, past the wait's deadline: no last look was made",
                slot_in=wait,
            )
        if self._freed:
            heapq.heappop(self._freed)
        else:
            self._next = slot + self.spacing
        return slot

    def reserve(self, now: float, within: float | None = None) -> float:
        """``take`` a slot and return how long to wait for it (seconds, >= 0)."""
        return self.take(now, within) - now

    def release(self, slot: float, now: float) -> None:
        """Give back a slot its caller will not use (taken by ``take``); one already gone by is dropped."""
        if slot <= now:
            return
        if slot + self.spacing == self._next:  # the last one taken: the schedule steps back
            self._next = slot
        else:
            heapq.heappush(self._freed, slot)

    def wait_sync(self, within: float | None = None) -> float:
        """Reserve a slot and sleep until it (requests, sensors); returns the seconds waited."""
        with self.lock:
            now = time.monotonic()
            slot = self.take(now, within)
        if slot > now:
            try:
                time.sleep(slot - now)
            except BaseException:  # the task is being killed: the slot is someone else's
                with self.lock:
                    self.release(slot, time.monotonic())
                raise
        return slot - now

    async def wait_async(self, within: float | None = None) -> float:
        """Reserve a slot and sleep until it without blocking the loop (triggers); returns the seconds waited.

        A trigger cancelled while it sleeps gives its slot back.
        """
        now = time.monotonic()
        slot = self.take(now, within)
        if slot > now:
            try:
                await asyncio.sleep(slot - now)
            except asyncio.CancelledError:
                self.release(slot, time.monotonic())
                raise
        return slot - now


_SYNC: dict[str, RequestCeiling] = {}
_SYNC_LOCK = threading.Lock()
_ASYNC: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, RequestCeiling]] = (
    weakref.WeakKeyDictionary()
)


def sync_ceiling(conn_id: str, rate: float) -> RequestCeiling:
    """The schedule every thread of this process shares for ``conn_id``, now at ``rate`` (an edit updates it)."""
    with _SYNC_LOCK:
        ceiling = _SYNC.get(conn_id)
        if ceiling is None:
            ceiling = _SYNC[conn_id] = RequestCeiling(rate, f"connection {conn_id!r}")
        else:
            with ceiling.lock:
                ceiling.set_rate(rate)
        return ceiling


def async_ceiling(conn_id: str, rate: float) -> RequestCeiling:
    """The schedule every trigger of the running event loop shares for ``conn_id``, now at ``rate``."""
    table = _ASYNC.setdefault(asyncio.get_running_loop(), {})
    ceiling = table.get(conn_id)
    if ceiling is None:
        ceiling = table[conn_id] = RequestCeiling(rate, f"connection {conn_id!r}")
    else:
        ceiling.set_rate(rate)
    return ceiling
