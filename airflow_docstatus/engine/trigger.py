"""The one trigger class behind every vendor: an async poll loop that yields exactly one event."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any, ClassVar

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_docstatus.engine.errors import (
    AuthenticationError,
    InvalidInputError,
    PermanentError,
    TransientError,
    TransientErrorsExhausted,
)
from airflow_docstatus.engine.events import (
    describe_event,
    error_event,
    failed_event,
    success_event,
    timeout_event,
    timeout_message,
)
from airflow_docstatus.engine.hook import DocStatusHook, forget_connection
from airflow_docstatus.engine.policy import DEFAULT_MAX_CONSECUTIVE_ERRORS, ErrorBudget, PollPolicy
from airflow_docstatus.engine.status import DocStatus, State, format_ref


class DocStatusEvent(TriggerEvent):
    """A trigger event that reads short in the task log.

    The triggerer logs every event it fires ("Trigger fired event") with the
    event's repr, which for a plain TriggerEvent is the whole payload.
    """

    def __repr__(self) -> str:
        return f"DocStatusEvent<{describe_event(self.payload)}>"


class DocStatusTrigger(BaseTrigger):
    """Polls a vendor asynchronously until a terminal status or the deadline.

    Vendor triggers are thin named subclasses that set ``hook_class``; they
    take the vendor ids and connection argument of their sensor, plus:

    :param poll_interval: seconds between polls (never below the vendor's floor).
    :param end_time: the deadline as wall-clock epoch seconds, or None for none.
    :param max_consecutive_errors: transient failures tolerated in a row.
    :param poll_immediately: poll at once on start; a sensor that just poked passes False.
    :param errors_in_row: transient errors already met in a row before the handoff (the
        sensor's first poke), so the count goes on rather than restarting at 0.
    :param last_error: the text of the last of those errors (already redacted).
    :param exponential_backoff: double the wait after each poll that finds the document
        still waiting (the sensor's argument of the same name).
    :param max_wait: the longest wait between polls with ``exponential_backoff``, in
        seconds (default 300).
    :param cancel_on_kill: when a person kills the deferred task (mark failed, clear,
        mark success), ask the vendor to cancel the job in ``on_kill``. Default False, so a
        sensor's trigger never cancels what it only watches; the operators pass True.

    Polls are ``poll_interval`` apart, except the last: when less than one
    interval is left, the trigger takes one last look at the deadline (never
    sooner than the vendor's floor after the previous poll), so a document that
    finished just before it is never reported as timed out. A document costs at
    most ceil(elapsed/poll_interval) + 1 status calls. A timeout names the last
    status seen and, after transient errors, the last error. Every call is cut
    at the deadline (with a short grace for the last look).

    Only data is serialized (ids, connection id, numbers), never a secret, so
    a triggerer restart rebuilds the trigger with the same deadline.
    """

    hook_class: ClassVar[type[DocStatusHook]]

    # Seams for tests that need a clock they control.
    _now = staticmethod(time.time)
    _sleep = staticmethod(asyncio.sleep)

    def __init__(
        self,
        *,
        poll_interval: float = 10.0,
        end_time: float | None = None,
        max_consecutive_errors: int = DEFAULT_MAX_CONSECUTIVE_ERRORS,
        poll_immediately: bool = True,
        exponential_backoff: bool = False,
        max_wait: float | None = None,
        errors_in_row: int = 0,
        last_error: str | None = None,
        cancel_on_kill: bool = False,
        **ids_and_options: Any,
    ) -> None:
        super().__init__()
        protocol = self.hook_class.protocol_class
        conn_attr = self.hook_class.conn_name_attr
        allowed = {*protocol.id_fields, *protocol.option_fields, conn_attr}
        unknown = set(ids_and_options) - allowed
        if unknown:
            raise TypeError(f"{type(self).__name__} got unexpected arguments: {sorted(unknown)}")
        self.ref = protocol.checked_ref(**{k: ids_and_options.get(k) for k in protocol.id_fields})
        self.options = {k: ids_and_options[k] for k in protocol.option_fields if k in ids_and_options}
        self.conn_id = ids_and_options.get(conn_attr) or self.hook_class.default_conn_name
        self.poll_interval = float(poll_interval)
        self.end_time = None if end_time is None else float(end_time)
        self.max_consecutive_errors = int(max_consecutive_errors)
        self.poll_immediately = bool(poll_immediately)
        self.exponential_backoff = bool(exponential_backoff)
        self.max_wait = None if max_wait is None else float(max_wait)
        self.errors_in_row = max(int(errors_in_row), 0)
        self.last_error = None if last_error is None else str(last_error)
        self.cancel_on_kill = bool(cancel_on_kill)
        if self.max_wait is not None and self.max_wait < 0:
            raise ValueError(f"{type(self).__name__}: max_wait must be a number of seconds >= 0, got {max_wait!r}")
        self.policy = PollPolicy(
            interval=self.poll_interval,
            floor=protocol.min_poll_interval,
            backoff=self.exponential_backoff,
            max_interval=self.max_wait,
        )

    @property
    def log(self) -> Any:
        """One logger per trigger class, shared by its instances.

        The triggerer routes each line to its trigger's log by context
        variables bound when the trigger starts, not by the logger object, so
        thousands of waiting triggers need not hold thousands of loggers.
        """
        return type(self).logger()

    def serialize(self) -> tuple[str, dict[str, Any]]:
        kwargs = {
            **self.ref,
            **self.options,
            self.hook_class.conn_name_attr: self.conn_id,
            "poll_interval": self.poll_interval,
            "end_time": self.end_time,
            "max_consecutive_errors": self.max_consecutive_errors,
            "poll_immediately": self.poll_immediately,
        }
        if self.exponential_backoff:  # only when asked for: the common case stays as it was
            kwargs.update(exponential_backoff=True, max_wait=self.max_wait)
        if self.errors_in_row:
            kwargs.update(errors_in_row=self.errors_in_row, last_error=self.last_error)
        if self.cancel_on_kill:  # likewise: a sensor's trigger serializes as before
            kwargs["cancel_on_kill"] = True
        return f"{type(self).__module__}.{type(self).__qualname__}", kwargs

    def _remaining(self) -> float | None:
        return None if self.end_time is None else self.end_time - self._now()

    async def run(self) -> AsyncIterator[TriggerEvent]:
        hook = self.hook_class(self.conn_id, **self.options)
        errors = ErrorBudget(self.max_consecutive_errors, in_row=self.errors_in_row)
        last_error = self.last_error if self.errors_in_row else None
        last: DocStatus | None = None
        polls = 0
        try:
            if not self.poll_immediately:
                await self._sleep(self.policy.next_delay(remaining=self._remaining()))
            while True:
                retry_after: float | None = None
                polls += 1
                try:
                    status = await hook.acheck_status(remaining=self._remaining(), **self.ref)
                except TransientError as exc:
                    retry_after = exc.retry_after
                    last_error = str(exc)
                    errors.failed(exc)
                    self.log.warning("Transient error %d of %d in a row: %s", errors.in_row, errors.limit, exc)
                else:
                    errors.succeeded()
                    last_error = None
                    last = status
                    if status.state is State.SUCCEEDED:
                        self.log.info("%s; done", status.describe())
                        yield DocStatusEvent(success_event(status))
                        return
                    if status.state is State.FAILED:
                        self.log.info("%s; the vendor reports a failure", status.describe())
                        yield DocStatusEvent(failed_event(status))
                        return
                    retry_after = status.retry_after
                remaining = self._remaining()
                if remaining is not None and remaining <= 0:  # that was the last look
                    yield DocStatusEvent(timeout_event(timeout_message(self.end_time, last, last_error), last))
                    return
                delay = self.policy.next_delay(
                    base=self.policy.interval_after(polls), errors_in_row=errors.in_row, retry_after=retry_after
                )
                if remaining is not None and delay >= remaining:
                    delay = max(remaining, self.policy.floor)  # one last look, at the deadline
                if last is not None and errors.in_row == 0:
                    self.log.log(last.log_level, "%s; next poll in %.1fs", last.describe(), delay)
                await self._sleep(delay)
        except TransientErrorsExhausted as exc:
            yield DocStatusEvent(error_event("exhausted", str(exc)))
        except AuthenticationError as exc:
            forget_connection(self.conn_id)  # the next trigger of this connection reads it afresh
            yield DocStatusEvent(error_event("auth", str(exc)))
        except PermanentError as exc:
            yield DocStatusEvent(error_event("permanent", str(exc)))
        except InvalidInputError as exc:
            yield DocStatusEvent(error_event("invalid", str(exc)))
        finally:
            await hook.aclose()

    async def on_kill(self) -> None:
        """Cancel the job when a person kills the deferred task, if ``cancel_on_kill`` asks for it.

        Airflow 3.3's triggerer calls this only for a person's action on the task
        (mark failed, clear, mark success), never on a triggerer restart or a
        trigger timeout. A vendor with no cancel call gets one line saying the job runs on.
        """
        if not self.cancel_on_kill:
            return
        vendor = self.hook_class.protocol_class.display_name
        hook = self.hook_class(self.conn_id, **self.options)
        try:
            if await hook.acancel(**self.ref):
                self.log.info("the task was killed: asked %s to cancel the job %s", vendor, format_ref(self.ref))
            else:
                self.log.info(
                    "the task was killed; job runs on: %s has no cancel call (%s)", vendor, format_ref(self.ref)
                )
        except (TransientError, PermanentError, InvalidInputError) as exc:
            self.log.warning("the task was killed, but cancelling the %s job failed: %s", vendor, exc)
        finally:
            await hook.aclose()
