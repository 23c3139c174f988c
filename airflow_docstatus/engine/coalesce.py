"""Status calls shared by many waits in one event loop: one call per group and interval, not one per wait.

A vendor whose status answers come grouped (Azure: every document of a batch
in one ``list documents`` answer) lets its protocol declare the group of a
ref and how to read one ref's status out of the group's answer
(``SharedStatusProtocol``). The triggers of one connection in one event loop
waiting on refs of the same group then share one call per interval:

- a *group* is keyed by event loop, connection id, a fingerprint of the
  waiter's loaded connection settings (a SHA-256 digest over its host, extras,
  timeouts and secrets, never a secret itself) and the protocol's
  ``shared_call_key(ref)``: waits whose connection loaded differently (an edited
  key, host or API version) never share, and the group's calls are made with the
  settings its first waiter loaded, which are every waiter's; each waiting hook
  (one per trigger) is a *waiter* with its own interval;
- a wait alone in its group makes its own calls, as without sharing; from
  the second waiter on, a call (paced from the lone wait's last call too) is made only when a waiter asks for a status and no answer fit for it
  exists: one fetched after its last answer (so each answer, or error, reaches
  a waiter at most once), after the waiter started, and no older than its
  interval; it is made no sooner than the group's smallest interval after the
  previous one, nor before a ``Retry-After`` of the previous one; the waiters
  that ask meanwhile wait for that one call;
- a waiter that cannot wait for the group's next call (its deadline comes
  first: the last look), a waiter whose shared call has not answered within its
  own call budget (e.g. held back by ``max_requests_per_second``; no error
  counted), or a group whose answer is not fit to share (a page over
  ``max_body_bytes``, a refusal other than 401/403/404, more pages than waiters,
  more than ``MAX_SHARED_BYTES`` in all, an answer the protocol cannot read),
  falls back to the waiter's own status call (``None`` from
  ``SharedStatusCalls.status``);
- pages over ``PARSE_OFF_LOOP_BYTES`` are read in a worker thread, and so is each
  waiter's status out of an answer over that size, as ``DocStatusHook.apoll`` does;
- the call runs in a task of the group, not of a waiter: a waiter cancelled
  while it waits does not cancel it for the others; the group, its task and
  its hook go when its last waiter leaves (``leave``, from ``DocStatusHook.aclose``).

Nothing here blocks: every call goes through the group's own hook (its
session lease, token, body cap and timeouts). The sync hook never shares.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
import weakref
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from airflow_docstatus.engine.errors import (
    BodyTooLargeError,
    DocStatusError,
    PermanentError,
    TransientError,
    copy_error,
)
from airflow_docstatus.engine.hook import PARSE_OFF_LOOP_BYTES
from airflow_docstatus.engine.http import call_budget

if TYPE_CHECKING:
    from airflow_docstatus.engine.hook import DocStatusHook
    from airflow_docstatus.engine.http import HttpRequest, HttpResponse
    from airflow_docstatus.engine.protocol import Ref
    from airflow_docstatus.engine.status import DocStatus

# A shared answer of more pages than this (or than the group has waiters) is not shared: the waiters make their own calls.
MAX_SHARED_PAGES = 100
# A shared answer whose pages hold more bytes than this in all is not shared (a fixed bound, whatever the waiter count).
MAX_SHARED_BYTES = 16 * 1024 * 1024
# Refusals of the shared call that every waiter's own call would meet too: shared as they are.
SHARED_REFUSALS = frozenset({401, 403, 404})


@runtime_checkable
class SharedStatusProtocol(Protocol):
    """What a vendor protocol declares to let waits share status calls (no I/O, like every protocol).

    - ``shared_call_key(ref)``: the group of ``ref`` (any hashable, e.g. ``("documents", batch_id)``),
      or None to poll ``ref`` on its own (sharing off, or not possible for it);
    - ``shared_call_request(ref, cursor)``: the request for the group's first page
      (``cursor`` None) or the page ``cursor`` names (any ref of the group may be passed);
    - ``read_shared_page(ref, response, answer)``: the group answer with this page added to
      ``answer`` (None before the first page), and the next page's cursor or None; raises
      the typed error a non-2xx answer stands for;
    - ``status_from_shared(ref, answer, retry_after)``: the status of ``ref`` in the whole
      answer, exactly as its own status call would give it (``retry_after``: the shared
      answer's ``Retry-After`` in seconds, or None); raises as that call would.
    """

    def shared_call_key(self, ref: Ref) -> Hashable | None: ...

    def shared_call_request(self, ref: Ref, cursor: Any) -> HttpRequest: ...

    def read_shared_page(self, ref: Ref, response: HttpResponse, answer: Any) -> tuple[Any, Any]: ...

    def status_from_shared(self, ref: Ref, answer: Any, retry_after: float | None) -> DocStatus: ...


@dataclass
class _Result:
    """One shared call: when it started (monotonic seconds), and its answer or error."""

    started: float
    answer: Any = None
    retry_after: float | None = None
    error: DocStatusError | None = None
    pages: int = 0
    size: int = 0  # bytes of all its pages' bodies


@dataclass
class _Waiter:
    interval: float
    since: float  # monotonic time the wait started: no answer from before it
    seen: float = float("-inf")  # start of the last shared call whose result it got


@dataclass
class _Group:
    hook: DocStatusHook[Any]
    ref: dict[str, Any]
    waiters: dict[int, _Waiter] = field(default_factory=dict)
    latest: _Result | None = None
    task: asyncio.Task[_Result] | None = None
    task_start: float = 0.0
    not_before: float = 0.0
    own_call_at: float = float("-inf")  # when a waiter alone last made its own call
    unshared: str | None = None  # why this group's answer is not shared (the waiters poll on their own)

    @property
    def interval(self) -> float:
        return min(waiter.interval for waiter in self.waiters.values())


class SharedStatusCalls:
    """The groups of one kind of sharing, per event loop (``SHARED_CALLS`` is the process's one instance).

    Keyed by loop, then ``(connection id, settings fingerprint, shared_call_key)``: nothing
    crosses event loops, and waits whose connection loaded differently never share.
    """

    clock = staticmethod(time.monotonic)

    def __init__(self) -> None:
        self._groups: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[str, str, Hashable], _Group]] = (
            weakref.WeakKeyDictionary()
        )
        self._closing: set[asyncio.Future[None]] = set()  # groups being closed (leave), held until done

    def _loop_groups(self) -> dict[tuple[str, str, Hashable], _Group]:
        return self._groups.setdefault(asyncio.get_running_loop(), {})

    async def status(
        self,
        hook: DocStatusHook[Any],
        protocol: Any,
        ref: Ref,
        *,
        interval: float,
        since: float,
        remaining: float | None,
    ) -> DocStatus | None:
        """The status of ``ref`` from the group's shared call, or None: make your own call.

        ``hook`` is the waiter (one per wait), ``interval`` its shortest gap between polls
        (seconds), ``since`` when it started (``clock()`` seconds), ``remaining`` the time
        left before its deadline. Raises the typed error of the shared call (a fresh copy
        for each waiter, so each counts it once); a shared call that does not answer within
        the waiter's call budget gives None (its own call), not an error.
        """
        key = protocol.shared_call_key(ref) if isinstance(protocol, SharedStatusProtocol) else None
        if key is None:
            return None
        groups = self._loop_groups()
        group_key = (hook.conn_id, settings_fingerprint(protocol.settings), key)
        group = groups.get(group_key)
        if group is None:
            group = groups[group_key] = _Group(hook=_group_hook(hook, protocol), ref=dict(ref))
        waiter = group.waiters.get(id(hook))
        if waiter is None:
            waiter = group.waiters[id(hook)] = _Waiter(interval=max(float(interval), 0.0), since=since)
            hook._shared_groups.add(group_key)
        while True:
            if group.unshared is not None:
                return None
            now = self.clock()
            result = group.latest
            if result is not None and self._fits(result, waiter, now):
                return await self._deliver(protocol, ref, group, waiter, result, now)
            if len(group.waiters) < 2:  # no one to share with: a wait alone makes its own calls
                group.own_call_at = now  # and the group's next call keeps its interval from it
                return None
            if group.task is None:
                last = max(group.latest.started if group.latest is not None else float("-inf"), group.own_call_at)
                start = max(now, last + group.interval, group.not_before)
            else:
                start = group.task_start
            if remaining is not None and start - now > max(remaining, 0.0):
                return None  # its deadline comes before the group's next call: its own (last) look
            if group.task is None:
                if group.latest is not None and group.latest.pages > len(group.waiters):
                    return None  # fewer waiters than pages: their own calls cost less
                group.task_start = start
                group.task = asyncio.ensure_future(self._fetch(group, start))
            task = group.task
            wait = None
            if remaining is not None:
                ahead = max(start - now, 0.0)
                wait = ahead + call_budget(protocol.settings, max(remaining, 0.0) - ahead)
            try:
                result = await asyncio.wait_for(asyncio.shield(task), wait)
            except asyncio.TimeoutError:
                # Late (held back by the request ceiling, or slow): its own call, no error counted.
                group.hook.log.debug("%s: the shared status call is late; this wait makes its own", protocol.where(ref))
                return None
            if group.unshared is None and result.started > waiter.seen and result.started >= waiter.since:
                return await self._deliver(protocol, ref, group, waiter, result, self.clock())  # the one it waited for

    @staticmethod
    def _fits(result: _Result, waiter: _Waiter, now: float) -> bool:
        return result.started > waiter.seen and result.started >= waiter.since and now - result.started <= waiter.interval

    async def _deliver(
        self, protocol: Any, ref: Ref, group: _Group, waiter: _Waiter, result: _Result, now: float
    ) -> DocStatus:
        waiter.seen = result.started
        if result.error is not None:
            retry_after = None
            if isinstance(result.error, TransientError) and group.not_before > now:
                retry_after = group.not_before - now
            raise copy_error(result.error, retry_after=retry_after)
        if result.size > PARSE_OFF_LOOP_BYTES:  # e.g. a large batch status answer, read by each waiter
            status: DocStatus = await asyncio.to_thread(protocol.status_from_shared, ref, result.answer, result.retry_after)
        else:
            status = protocol.status_from_shared(ref, result.answer, result.retry_after)
        return status

    async def _fetch(self, group: _Group, start: float) -> _Result:
        """One shared call, all its pages, at ``start``; its result becomes the group's latest."""
        try:
            delay = start - self.clock()
            if delay > 0:
                await asyncio.sleep(delay)
            result = _Result(started=self.clock())
            try:
                protocol: Any = await group.hook.aprotocol()
                cursor: Any = None
                while True:
                    response = await group.hook.asend(protocol.shared_call_request(group.ref, cursor))
                    if result.pages == 0:
                        result.retry_after = response.retry_after
                    result.pages += 1
                    result.size += len(response.body)
                    if result.size > MAX_SHARED_BYTES:
                        group.unshared = f"more than {MAX_SHARED_BYTES} bytes in all"
                        break
                    if len(response.body) > PARSE_OFF_LOOP_BYTES:
                        result.answer, cursor = await asyncio.to_thread(
                            protocol.read_shared_page, group.ref, response, result.answer
                        )
                    else:
                        result.answer, cursor = protocol.read_shared_page(group.ref, response, result.answer)
                    if cursor is None:
                        break
                    if result.pages >= min(MAX_SHARED_PAGES, len(group.waiters)):
                        # one more page would cost more than the waiters' own calls
                        group.unshared = f"more pages than its {len(group.waiters)} waits"
                        break
            except BodyTooLargeError as exc:
                group.unshared = str(exc)
            except PermanentError as exc:
                if exc.http_status in SHARED_REFUSALS:
                    result.error = exc
                else:  # the shared call is refused where each waiter's own call may not be
                    group.unshared = str(exc)
            except DocStatusError as exc:
                result.error = exc
                if isinstance(exc, TransientError) and exc.retry_after:
                    group.not_before = result.started + exc.retry_after
            except Exception as exc:  # noqa: BLE001 - a vendor answer the protocol could not read: never a crash
                group.unshared = f"unexpected {type(exc).__name__} reading the shared answer"
            if group.unshared is not None:
                group.hook.log.warning(
                    "%s: status calls of %s are no longer shared (%s); each wait polls on its own",
                    type(group.hook).__name__,
                    group.ref,
                    group.unshared,
                )
            group.latest = result
            return result
        finally:
            group.task = None

    async def leave(self, hook: DocStatusHook[Any]) -> None:
        """``hook``'s waits are over: a group whose last waiter this was stops (its call cancelled) and goes.

        The closing runs in a task of its own, shielded: a caller cancelled (even twice) while
        it runs still has every emptied group's hook closed (its session lease given back).
        """
        groups = self._groups.get(asyncio.get_running_loop())
        keys, hook._shared_groups = hook._shared_groups, set()
        if groups is None:  # nothing shared in this event loop
            return
        emptied: list[_Group] = []
        for key in keys:
            group = groups.get(key)
            if group is None:
                continue
            group.waiters.pop(id(hook), None)
            if not group.waiters:
                del groups[key]
                emptied.append(group)
        if not emptied:
            return
        closing = asyncio.ensure_future(_close_groups(emptied))
        self._closing.add(closing)
        closing.add_done_callback(self._closing.discard)
        await asyncio.shield(closing)

    def groups(self) -> int:
        """How many groups are open in this event loop (for tests and benchmarks)."""
        return len(self._groups.get(asyncio.get_running_loop(), {}))

    def tasks(self) -> int:
        """How many shared calls are scheduled or running in this event loop (for tests)."""
        return sum(1 for group in self._groups.get(asyncio.get_running_loop(), {}).values() if group.task is not None)


def settings_fingerprint(settings: Any) -> str:
    """A SHA-256 digest of a connection's loaded settings, secrets included: equal only for equal settings.

    The secrets go into the digest, never into the key or a log line.
    """
    fields = {name: getattr(settings, name) for name in getattr(settings, "__dataclass_fields__", {})}
    return hashlib.sha256(json.dumps(fields, sort_keys=True, default=repr).encode()).hexdigest()


def _group_hook(hook: DocStatusHook[Any], protocol: Any) -> DocStatusHook[Any]:
    """The group's own hook, on the very settings its first waiter loaded (the group's fingerprint)."""
    group_hook = type(hook)(hook.conn_id, **hook.protocol_options)
    group_hook._settings = protocol.settings
    group_hook._protocol = type(protocol)(protocol.settings, **hook.protocol_options)
    return group_hook


async def _close_groups(emptied: list[_Group]) -> None:
    """Cancel the emptied groups' calls and close their hooks, each hook whatever happens to the others."""
    tasks = set()
    for group in emptied:
        task, group.task = group.task, None
        if task is not None and not task.done():
            task.cancel()
            tasks.add(task)
    try:
        if tasks:
            await asyncio.wait(tasks)  # they end at once; their cancellation is not ours to raise
    finally:
        for group in emptied:
            try:
                await group.hook.aclose()
            except Exception:  # noqa: BLE001 - one hook's close must not keep the others open
                group.hook.log.warning("closing a shared status call's hook failed", exc_info=True)


SHARED_CALLS = SharedStatusCalls()
