"""The one trigger class behind every vendor: an async poll loop that yields exactly one event."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from typing import Any, ClassVar

from airflow.triggers.base import BaseTrigger, TaskSuccessEvent, TriggerEvent

from airflow_docstatus.engine.errors import (
    AuthenticationError,
    InvalidInputError,
    PermanentError,
    TransientError,
    TransientErrorsExhausted,
)
from airflow_docstatus.engine.events import (
    XCOM_DOCSTATUS_KEY,
    describe_event,
    error_event,
    failed_event,
    success_event,
    summarize_payload,
    timeout_event,
    timeout_message,
)
from airflow_docstatus.engine.hook import DocStatusHook, forget_connection
from airflow_docstatus.engine.policy import DEFAULT_MAX_CONSECUTIVE_ERRORS, ErrorBudget, PollPolicy
from airflow_docstatus.engine.status import DocStatus, State, format_ref
from airflow_docstatus.engine.values import is_literal


class DocStatusEvent(TriggerEvent):
    """A trigger event that reads short in the task log.

    The triggerer logs every event it fires ("Trigger fired event") with the
    event's repr, which for a plain TriggerEvent is the whole payload.
    """

    def __repr__(self) -> str:
        return f"DocStatusEvent<{describe_event(self.payload)}>"


class DocStatusTaskSuccessEvent(TaskSuccessEvent):
    """Ends the task successfully from the triggerer; its XComs are already pushed.

    The XComs are not carried in the event: Airflow 3.3.2 stores an event's
    ``xcoms`` JSON-encoded twice, so a downstream task's ``xcom_pull`` would
    get the payload's JSON text instead of the payload (the REST API and the
    UI decode it and show it right). The trigger pushes them itself, as a
    worker would, through the task instance the triggerer gives it.
    """

    def __repr__(self) -> str:
        return "DocStatusTaskSuccessEvent<success; the task ends in the triggerer, its XComs pushed>"

    __str__ = __repr__


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
    :param timeout: the wait's length in seconds, for a trigger started by the scheduler
        (``start_from_trigger``), which cannot know the wall-clock deadline at DAG parse
        time; ignored when ``end_time`` is given. The deadline is the task's start plus
        ``timeout``; the start is read back from the scheduler's own deadline for the
        trigger (``timeout_after`` minus ``scheduler_timeout``), so a triggerer restart
        keeps it; with no ``timeout_after`` it is the moment ``run()`` starts.
    :param scheduler_timeout: seconds from the task's start to the scheduler's safety-net
        deadline (``StartTriggerArgs.timeout``, or ``execution_timeout`` if shorter).
    :param end_from_trigger: on success, push XComs ``docstatus`` and ``return_value``
        from the triggerer (through the task instance the triggerer sets, so a custom XCom
        backend applies) and end the task with a ``TaskSuccessEvent``, when the payload fits
        in an event (``EVENT_PAYLOAD_LIMIT``). Larger payloads, failures, timeouts, errors,
        and a push that fails yield the usual event, which resumes the task on a worker.
        Only a trigger started by the scheduler may set it: the worker's ``execute_complete``
        cannot read a task-end event.
    :param push_return_value: with ``end_from_trigger``, push the payload as XCom
        ``return_value`` (the operator's ``do_xcom_push``).

    The ids, the options and the connection id are kept as attributes named as
    the sensor's arguments (``file_id``, ``leadtools_conn_id``...), so the
    triggerer can render the sensor's template fields on them (Airflow renders
    a trigger attribute that is one of the operator's template fields and a key
    of ``start_trigger_args.trigger_kwargs``). Ids that are still Jinja
    templates are checked after rendering, when ``run()`` starts: a bad id then
    yields an ``invalid`` error event before any call, with the message a
    literal id gets; literal ids are checked at construction.

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
        timeout: float | None = None,
        scheduler_timeout: float | None = None,
        end_from_trigger: bool = False,
        push_return_value: bool = True,
        **ids_and_options: Any,
    ) -> None:
        super().__init__()
        protocol = self.hook_class.protocol_class
        conn_attr = self.hook_class.conn_name_attr
        allowed = {*protocol.id_fields, *protocol.option_fields, conn_attr}
        unknown = set(ids_and_options) - allowed
        if unknown:
            raise TypeError(f"{type(self).__name__} got unexpected arguments: {sorted(unknown)}")
        # Attributes named as the sensor's arguments, so the triggerer can render them in place.
        for name in protocol.id_fields:
            setattr(self, name, ids_and_options.get(name))
        self._option_names = tuple(k for k in protocol.option_fields if k in ids_and_options)
        for name in self._option_names:
            setattr(self, name, ids_and_options[name])
        setattr(self, conn_attr, ids_and_options.get(conn_attr) or self.hook_class.default_conn_name)
        if all(is_literal(getattr(self, name)) for name in protocol.id_fields):
            for name, value in self.ref.items():  # checked now, and kept normalized
                setattr(self, name, value)
        self.poll_interval = float(poll_interval)
        self.end_time = None if end_time is None else float(end_time)
        self.max_consecutive_errors = int(max_consecutive_errors)
        self.poll_immediately = bool(poll_immediately)
        self.exponential_backoff = bool(exponential_backoff)
        self.max_wait = None if max_wait is None else float(max_wait)
        self.errors_in_row = max(int(errors_in_row), 0)
        self.last_error = None if last_error is None else str(last_error)
        self.cancel_on_kill = bool(cancel_on_kill)
        self.timeout = None if timeout is None else float(timeout)
        self.scheduler_timeout = None if scheduler_timeout is None else float(scheduler_timeout)
        self.end_from_trigger = bool(end_from_trigger)
        self.push_return_value = bool(push_return_value)
        if self.max_wait is not None and self.max_wait < 0:
            raise ValueError(f"{type(self).__name__}: max_wait must be a number of seconds >= 0, got {max_wait!r}")
        self.policy = PollPolicy(
            interval=self.poll_interval,
            floor=protocol.min_poll_interval,
            backoff=self.exponential_backoff,
            max_interval=self.max_wait,
        )

    # what this trigger waits on, read from the (possibly rendered) attributes ----------
    @property
    def ref(self) -> dict[str, Any]:
        """The checked, normalized ids; raises ``InvalidInputError`` (a ``ValueError``) for a bad one."""
        protocol = self.hook_class.protocol_class
        return protocol.checked_ref(**{name: getattr(self, name) for name in protocol.id_fields})

    @property
    def options(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self._option_names}

    @property
    def conn_id(self) -> str:
        return getattr(self, self.hook_class.conn_name_attr) or self.hook_class.default_conn_name

    def _ids_as_given(self) -> dict[str, Any]:
        """The ids checked and normalized when they are valid, else as they stand (e.g. still templates)."""
        try:
            return self.ref
        except InvalidInputError:
            return {name: getattr(self, name) for name in self.hook_class.protocol_class.id_fields}

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
            **self._ids_as_given(),
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
        if self.timeout is not None:  # a trigger started by the scheduler
            kwargs.update(timeout=self.timeout, scheduler_timeout=self.scheduler_timeout)
        if self.end_from_trigger:
            kwargs.update(end_from_trigger=True, push_return_value=self.push_return_value)
        return f"{type(self).__module__}.{type(self).__qualname__}", kwargs

    def _remaining(self) -> float | None:
        return None if self.end_time is None else self.end_time - self._now()

    def _started_at(self) -> float:
        """When the task started (epoch seconds), for a trigger started by the scheduler.

        The scheduler sets the task's start and its trigger deadline
        (``timeout_after``, which the triggerer hands to the trigger) in the
        same step, ``scheduler_timeout`` apart; both live in the database, so
        this reads the same after a triggerer restart. Without them: now.
        """
        timeout_after = getattr(self, "timeout_after", None)
        if isinstance(timeout_after, datetime) and self.scheduler_timeout is not None:
            if timeout_after.tzinfo is None:
                timeout_after = timeout_after.replace(tzinfo=timezone.utc)
            return timeout_after.timestamp() - self.scheduler_timeout
        return self._now()

    def _start(self) -> None:
        """Settle the deadline of a trigger started by the scheduler, and say so in the task log."""
        if self.end_time is not None or self.timeout is None:
            return
        self.end_time = self._started_at() + self.timeout
        deadline = datetime.fromtimestamp(self.end_time, tz=timezone.utc).isoformat(timespec="seconds")
        self.log.info(
            "%s; started in the triggerer (%s), polling every %.0fs until %s",
            self._describe_wait(),
            type(self).__name__,
            self.policy.next_delay(),
            deadline,
        )

    def _describe_wait(self) -> str:
        return f"{self.hook_class.protocol_class.vendor} {format_ref(self.ref, ' ')}"

    async def _success(self, status: DocStatus) -> TriggerEvent:
        """The task's end, its XComs pushed; or the usual success event, for the worker to finish."""
        event = success_event(status)
        if self.end_from_trigger and "payload" in event and await self._push_xcoms(status):
            self.log.info("%s; done, returning %s", status.describe(), summarize_payload(status.payload))
            return DocStatusTaskSuccessEvent()
        self.log.info("%s; done", status.describe())
        return DocStatusEvent(event)

    async def _push_xcoms(self, status: DocStatus) -> bool:
        """Push ``docstatus`` and ``return_value`` as a worker would; False (and a warning) if that fails.

        Through Airflow's XCom (the configured backend), ``SetXCom`` to the
        triggerer's supervisor, for the task instance the triggerer gave this
        trigger. Not through ``task_instance.axcom_push``: in the triggerer
        its task is the serialized operator, which lacks the attribute
        (``returns_dag_result``) that method reads in Airflow 3.3.2.
        """
        ti = self.task_instance
        where = {name: getattr(ti, name, None) for name in ("dag_id", "task_id", "run_id", "map_index")}
        if None in where.values():  # no task instance of the triggerer's: leave it to the worker
            return False
        try:
            from airflow.sdk.execution_time.xcom import XCom

            await XCom.aset(XCOM_DOCSTATUS_KEY, status.to_record(), **where)
            if self.push_return_value and status.payload is not None:
                await XCom.aset("return_value", status.payload, **where)
        except Exception as exc:  # noqa: BLE001 - any failure: the worker finishes the task instead
            self.log.warning(
                "Could not push the XComs from the triggerer (%s); the task resumes on a worker", type(exc).__name__
            )
            return False
        return True

    async def run(self) -> AsyncIterator[TriggerEvent]:
        try:  # ids rendered in the triggerer are checked here, before any call
            ref = self.ref
            hook = self.hook_class(self.conn_id, **self.options)
            self._start()
        except InvalidInputError as exc:
            yield DocStatusEvent(error_event("invalid", str(exc)))
            return
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
                    status = await hook.acheck_status(remaining=self._remaining(), **ref)
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
                        yield await self._success(status)
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
