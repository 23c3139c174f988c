"""The one sensor class behind every vendor: poke, reschedule and deferrable mode."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.configuration import conf
from airflow.sdk import BaseSensorOperator, PokeReturnValue

from airflow_docstatus._compat import (
    AirflowException,
    AirflowFailException,
    AirflowSensorTimeout,
    AirflowSkipException,
    import_string,
)
from airflow_docstatus.engine.errors import (
    InvalidInputError,
    PermanentError,
    TransientError,
    TransientErrorsExhausted,
)
from airflow_docstatus.engine.events import Outcome, summarize_payload, timeout_message
from airflow_docstatus.engine.policy import DEFAULT_MAX_CONSECUTIVE_ERRORS, ErrorBudget, PollPolicy
from airflow_docstatus.engine.status import DocStatus, State, format_ref

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_docstatus.engine.hook import DocStatusHook

XCOM_DOCSTATUS_KEY = "docstatus"
# Where a reschedule-mode sensor keeps its count of transient errors in a row
# between pokes: Airflow's task state store (Airflow 3.3+). The store is scoped
# to the task instance across all its tries, so the value names its try
# (``{"try_number": n, "in_row": k}``) and a count left by an earlier try is ignored.
ERRORS_STATE_KEY = "docstatus_transient_errors_in_row"
# How long the scheduler waits past the trigger's own deadline before it times
# the task out itself: a safety net for a triggerer that died mid-wait.
DEFER_TIMEOUT_GRACE = timedelta(minutes=5)


def _try_number(context: Context) -> int | None:
    return getattr(context.get("ti"), "try_number", None)


def is_literal(value: Any) -> bool:
    """A value known at DAG parse time: no Jinja template and no XComArg, nested dicts and lists included."""
    if isinstance(value, str):
        return "{{" not in value
    if isinstance(value, Mapping):
        return all(is_literal(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return all(is_literal(v) for v in value)
    return not hasattr(value, "resolve")  # an XComArg (or another value resolved at run time)


class DocStatusSensor(BaseSensorOperator):
    """Waits for a vendor document to reach a terminal status.

    Vendor sensors subclass it and only name their ids, their connection
    argument and their template fields. It works in ``poke`` and
    ``reschedule`` mode and, with ``deferrable=True``, pokes once on the
    worker and then hands the wait to a trigger in the triggerer with an
    absolute wall-clock deadline.

    On success the vendor's payload becomes XCom ``return_value`` and the
    normalized record is pushed as XCom ``docstatus``. A vendor failure,
    an authentication failure or a refused request fails the task without
    retries; ``max_consecutive_errors`` transient errors in a row fail it
    (and Airflow's own retries then apply).

    :param deferrable: hand the wait to the triggerer (default: ``[operators] default_deferrable``).
    :param max_consecutive_errors: transient failures tolerated in a row before the task fails.
    """

    hook_class: ClassVar[type[DocStatusHook]]
    trigger_class_path: ClassVar[str]
    ui_color = "#e8f4ea"

    def __init__(
        self,
        *,
        ids: Mapping[str, Any],
        conn_id: str,
        options: Mapping[str, Any] | None = None,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        max_consecutive_errors: int = DEFAULT_MAX_CONSECUTIVE_ERRORS,
        poke_interval: timedelta | float = 10,
        **kwargs: Any,
    ) -> None:
        super().__init__(poke_interval=poke_interval, **kwargs)
        if max_consecutive_errors < 1:
            raise ValueError(f"max_consecutive_errors must be at least 1, got {max_consecutive_errors}")
        self.deferrable = deferrable
        self.max_consecutive_errors = max_consecutive_errors
        self._id_names = tuple(ids)
        self._option_names = tuple(options or {})
        for name, value in {**ids, **(options or {})}.items():
            setattr(self, name, value)
        setattr(self, self.hook_class.conn_name_attr, conn_id)
        if all(is_literal(value) for value in ids.values()):
            self._validated_ref()  # a bad literal id fails the DAG at parse time
        self._errors = ErrorBudget(max_consecutive_errors)
        self._errors_loaded = False
        self._last_error: str | None = None
        self._last_status: DocStatus | None = None
        self._deadline: float | None = None  # wall-clock epoch seconds, set when the task runs
        self._retry_after: float | None = None
        # The line (and its log level) to write with the next wait, one per poll.
        self._pending: tuple[int, str] = (logging.INFO, "waiting")

    # what this sensor waits on -------------------------------------------------
    @property
    def conn_id(self) -> str:
        return getattr(self, self.hook_class.conn_name_attr)

    @property
    def _ids(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self._id_names}

    def _validated_ref(self) -> dict[str, Any]:
        try:
            return self.hook_class.protocol_class.checked_ref(**self._ids)
        except InvalidInputError as exc:
            raise ValueError(f"{self.task_id}: {exc}") from None

    @property
    def _options(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self._option_names}

    @cached_property
    def hook(self) -> DocStatusHook:
        return self.hook_class(self.conn_id, **self._options)

    @cached_property
    def _policy(self) -> PollPolicy:
        return PollPolicy(interval=self.poke_interval, floor=self.hook_class.protocol_class.min_poll_interval)

    # poke and reschedule -----------------------------------------------------------
    def poke(self, context: Context) -> bool | PokeReturnValue:
        self._retry_after = None
        errors_before = self._errors_in_row(context)
        try:
            # the hook checks the ids before any call; the call is cut at the deadline
            status = self.hook.check_status(remaining=self._remaining(), **self._ids)
        except TransientError as exc:
            self._retry_after = exc.retry_after
            self._last_error = str(exc)
            try:
                self._errors.failed(exc)
            except TransientErrorsExhausted as exhausted:
                raise AirflowException(str(exhausted)) from None
            finally:
                self._keep_errors_in_row(context, errors_before)
            self.log.warning(
                "Transient error %d of %d in a row, will retry: %s",
                self._errors.in_row,
                self._errors.limit,
                exc,
            )
            self._pending = (logging.WARNING, "retrying after a transient error")
            return False
        except (PermanentError, InvalidInputError) as exc:
            raise AirflowFailException(str(exc)) from None
        self._errors.succeeded()
        self._last_error = None
        self._last_status = status
        self._keep_errors_in_row(context, errors_before)
        return self._settle(context, status)

    def _remaining(self) -> float | None:
        """Seconds left before the wait's deadline (None before the task runs)."""
        return None if self._deadline is None else self._deadline - time.time()

    def _errors_in_row(self, context: Context) -> int:
        """The count of transient errors in a row, read back from the task state store in reschedule mode.

        A reschedule starts a new process, so the count cannot live on the
        operator; Airflow 3.3's task state store keeps it for the try. On an
        Airflow without one, the count restarts with every reschedule (with a warning).
        """
        store = context.get("task_state_store") if self.reschedule else None
        if store is not None and not self._errors_loaded:
            kept = store.get(ERRORS_STATE_KEY, 0) or 0
            # {"try_number", "in_row", "last"}: the store outlives the try, the count must not
            if isinstance(kept, Mapping) and kept.get("try_number") == _try_number(context):
                self._errors.in_row = int(kept.get("in_row") or 0)
                self._last_error = kept.get("last") or None
            self._errors_loaded = True
        return self._errors.in_row

    def _keep_errors_in_row(self, context: Context, before: int) -> None:
        store = context.get("task_state_store") if self.reschedule else None
        if store is None and self.reschedule and before < self._errors.in_row < self._errors.limit:
            self.log.warning(
                "this Airflow has no task state store (Airflow 3.3+): in reschedule mode the count of transient "
                "errors in a row starts afresh with every reschedule, so max_consecutive_errors (%d) cannot end "
                "the wait; the timeout does",
                self._errors.limit,
            )
        if store is None or self._errors.in_row == before:
            return
        if self._errors.in_row:
            store.set(
                ERRORS_STATE_KEY,
                {"try_number": _try_number(context), "in_row": self._errors.in_row, "last": self._last_error},
            )
        else:
            store.delete(ERRORS_STATE_KEY)

    def _settle(self, context: Context, status: DocStatus) -> bool | PokeReturnValue:
        """Act on a status: return the payload, fail, or note the line to log with the next wait."""
        if status.state is State.SUCCEEDED:
            return PokeReturnValue(is_done=True, xcom_value=self._succeed(context, status))
        if status.state is State.FAILED:
            raise AirflowFailException(self._failure_message(status))
        self._retry_after = status.retry_after
        self._pending = (status.log_level, status.describe())
        return False

    def _succeed(self, context: Context, status: DocStatus) -> Any:
        context["ti"].xcom_push(key=XCOM_DOCSTATUS_KEY, value=status.to_record())
        self.log.info("%s; done, returning %s", status.describe(), summarize_payload(status.payload))
        return status.payload

    def _failure_message(self, status: DocStatus) -> str:
        protocol = self.hook_class.protocol_class
        text = f"{protocol.display_name} reported a failure for {format_ref(status.ref)}: status {status.vendor_status}"
        return text + (f": {status.message}" if status.message else "")

    def _get_next_poke_interval(self, started_at: Any, run_duration: Any, poke_count: int) -> float:
        base = super()._get_next_poke_interval(started_at, run_duration, poke_count)
        delay = self._policy.next_delay(
            base=base,
            errors_in_row=self._errors.in_row,
            retry_after=self._retry_after,
            remaining=self.timeout - run_duration(),
        )
        level, line = self._pending
        self.log.log(level, "%s; next poll in %.1fs", line, delay)
        return delay

    # deferrable --------------------------------------------------------------------
    def execute(self, context: Context) -> Any:
        self._deadline = self._started_at(context) + self.timeout
        if not self.deferrable:
            try:
                return super().execute(context)
            except AirflowSensorTimeout:
                raise AirflowSensorTimeout(self._timeout_message()) from None
        try:
            self.hook.check_deferrable()  # e.g. an auth scheme the triggerer cannot run: refused before any call
        except InvalidInputError as exc:
            raise AirflowFailException(str(exc)) from None
        try:
            done = self.poke(context)  # a document that is already done needs no trigger
        except AirflowFailException as exc:
            if self.soft_fail:
                raise AirflowSkipException("Skipping due to soft_fail is set to True.") from exc
            raise
        if done:
            return done.xcom_value if isinstance(done, PokeReturnValue) else None
        self._defer()

    def _started_at(self, context: Context) -> float:
        """When the wait began (epoch seconds): now, or in reschedule mode the first reschedule's start."""
        if self.reschedule:
            try:
                first = context["ti"].get_first_reschedule_date(context)
            except (AttributeError, KeyError, TypeError):  # a bare context, in unit tests
                first = None
            if first is not None:
                return first.timestamp()
        return time.time()

    def _timeout_message(self) -> str:
        """The timeout's reason, worded as the trigger words it: deadline, last status seen, last error."""
        return timeout_message(self._deadline, self._last_status, self._last_error)

    def _defer(self) -> None:
        end_time = self._deadline if self._deadline is not None else time.time() + self.timeout
        trigger_class = import_string(self.trigger_class_path)
        trigger = trigger_class(
            **self._validated_ref(),
            **self._options,
            **{self.hook_class.conn_name_attr: self.conn_id},
            poll_interval=self.poke_interval,
            end_time=end_time,
            max_consecutive_errors=self.max_consecutive_errors,
            poll_immediately=False,
            exponential_backoff=self.exponential_backoff,
            max_wait=None if self.max_wait is None else self.max_wait.total_seconds(),
            errors_in_row=self._errors.in_row,  # the count goes on in the triggerer
            last_error=self._last_error if self._errors.in_row else None,
            **self._extra_trigger_kwargs(),
        )
        deadline = datetime.fromtimestamp(end_time, tz=timezone.utc).isoformat(timespec="seconds")
        level, line = self._pending
        self.log.log(
            level,
            "%s; deferring to the triggerer (%s), polling every %.0fs until %s",
            line,
            trigger_class.__name__,
            self._policy.next_delay(),
            deadline,
        )
        self.defer(
            trigger=trigger,
            method_name="execute_complete",
            timeout=timedelta(seconds=max(end_time - time.time(), 0)) + DEFER_TIMEOUT_GRACE,
        )

    def _extra_trigger_kwargs(self) -> dict[str, Any]:
        """More arguments for the trigger, for subclasses (the operator's ``cancel_on_kill``)."""
        return {}

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> Any:
        """Finish the task from the trigger's event. Safe to call twice with the same event."""
        try:
            outcome = Outcome.parse(event)
        except ValueError as exc:
            raise AirflowException(f"{self.task_id}: {exc}") from None
        if outcome.status == "success":
            assert outcome.docstatus is not None
            status = outcome.docstatus
            if outcome.payload_omitted:
                status = self._refetch(status)
            return self._succeed(context, status)
        if outcome.status == "failed":
            assert outcome.docstatus is not None
            raise AirflowFailException(self._failure_message(outcome.docstatus))
        if outcome.status == "timeout":
            raise AirflowSensorTimeout(outcome.message or "Sensor has timed out")
        if outcome.kind == "exhausted":
            raise AirflowException(outcome.message)
        raise AirflowFailException(outcome.message)

    def _refetch(self, status: DocStatus) -> DocStatus:
        """Fetch a payload too large for the trigger event, on the worker."""
        self.log.info("%s; fetching the result, too large for the trigger event", status.describe())
        try:
            fresh = self.hook.check_status(**status.ref)
        except (TransientError, PermanentError) as exc:
            raise AirflowException(f"could not fetch the result after success: {exc}") from None
        if fresh.state is not State.SUCCEEDED:
            raise AirflowFailException(
                f"{status.describe()} was done in the triggerer but reads {fresh.vendor_status} now"
            )
        return fresh
