"""The one sensor class behind every vendor: poke, reschedule and deferrable mode."""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, Generic

from airflow.configuration import conf
from airflow.sdk import BaseSensorOperator, PokeReturnValue

from airflow_docstatus._compat import (
    AirflowException,
    AirflowFailException,
    AirflowSensorTimeout,
    AirflowSkipException,
    AirflowTaskTimeout,
    TRIGGER_TEMPLATES,
    import_string,
)
from airflow_docstatus._private_api import PokeIntervalHook
from airflow_docstatus.engine.contract import check_parameter, check_template_fields, check_trigger
from airflow_docstatus.engine.errors import (
    InvalidInputError,
    NoRequestSlotError,
    PermanentError,
    TransientError,
    TransientErrorsExhausted,
)
from airflow_docstatus.engine.events import XCOM_DOCSTATUS_KEY, Outcome, summarize_payload, timeout_message
from airflow_docstatus.engine.hook import H
from airflow_docstatus.engine.lineage import LineageDataset
from airflow_docstatus.engine.policy import DEFAULT_MAX_CONSECUTIVE_ERRORS, ErrorBudget, PollPolicy
from airflow_docstatus.engine.progress import ProgressLog
from airflow_docstatus.engine.status import DocStatus, State, format_ref
from airflow_docstatus.engine.values import is_literal

if TYPE_CHECKING:
    from airflow.providers.openlineage.extractors import OperatorLineage
    from airflow.sdk import Context
    from airflow.triggers.base import StartTriggerArgs

# Where a reschedule-mode sensor keeps its count of transient errors in a row
# between pokes: Airflow's task state store (Airflow 3.3+). The store is scoped
# to the task instance across all its tries, so the value names its try
# (``{"try_number": n, "in_row": k}``) and a count left by an earlier try is ignored.
ERRORS_STATE_KEY = "docstatus_transient_errors_in_row"
# Likewise, what the last progress line at INFO said and when (``engine/progress.py``), so a
# reschedule-mode wait writes a line on a change and "still waiting" once a minute, not every poke:
# ``{"try_number": n, "key": 32 hex digits (``status_digest``), "at": epoch seconds}``, written only with an INFO line.
PROGRESS_STATE_KEY = "docstatus_progress_line"
_PROGRESS_STORE_WARNED = False  # a failing store for it is a WARNING once per process, then DEBUG
# How long the scheduler waits past the trigger's own deadline before it times
# the task out itself: a safety net for a triggerer that died mid-wait.
DEFER_TIMEOUT_GRACE = timedelta(minutes=5)


def _try_number(context: Context) -> int | None:
    return getattr(context.get("ti"), "try_number", None)


def for_the_triggerer(value: Any, *, task_id: str, name: str) -> Any:
    """An argument as the triggerer can render it: an XComArg becomes the Jinja template that pulls it.

    Airflow serializes ``start_trigger_args.trigger_kwargs`` with the DAG, and
    an XComArg in them comes back to the triggerer as an unresolved
    reference; a template string is rendered there like any other. Dicts and
    lists are converted item by item. Only an XComArg of one unmapped task's
    XCom (``task.output``, ``task.output["key"]``, a decorated task's result)
    can be pulled so; any other (``.map()``, ``.zip()``...) raises
    ``ValueError`` at DAG parse time.
    """
    from airflow.sdk.definitions.xcom_arg import PlainXComArg, XComArg

    if isinstance(value, PlainXComArg):
        # map_indexes=-1 asks for the one XCom of an unmapped task (GetXCom). Without it xcom_pull asks
        # for every map index (GetXComSequenceSlice), which Airflow 3.3.2's triggerer does not serve:
        # the request is refused and the rendering waits for an answer forever.
        return (
            f"{{{{ task_instance.xcom_pull(task_ids={value.operator.task_id!r}, key={value.key!r}, "
            "map_indexes=-1) }}"
        )
    if isinstance(value, XComArg):
        raise ValueError(
            f"{task_id}: with start_from_trigger=True, `{name}` may be an XComArg of one task's XCom "
            f"(task.output or task.output['key']), not a {type(value).__name__}"
        )
    if isinstance(value, Mapping):
        return {key: for_the_triggerer(item, task_id=task_id, name=name) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [for_the_triggerer(item, task_id=task_id, name=name) for item in value]
    return value


class _StartTriggerArgs:
    """``start_trigger_args`` of a docstatus sensor, built from its attributes when Airflow reads it.

    Built on each read, so it follows attributes changed after the
    constructor (a cluster policy raising ``poke_interval``, say). Read on
    the class it is None, as on ``BaseOperator``: a mapped sensor
    (``.partial().expand()``) reads it there, and Airflow 3.3.2 does not
    start mapped tasks in the triggerer anyway. A value assigned to the
    attribute of an instance wins.
    """

    def __get__(self, sensor: DocStatusSensor[Any] | None, owner: type) -> StartTriggerArgs | None:
        if sensor is None:
            return None
        if "start_trigger_args" in sensor.__dict__:
            given: StartTriggerArgs | None = sensor.__dict__["start_trigger_args"]
            return given
        return sensor._start_trigger_args() if sensor.start_from_trigger else None

    def __set__(self, sensor: DocStatusSensor[Any], value: StartTriggerArgs | None) -> None:
        sensor.__dict__["start_trigger_args"] = value


class DocStatusSensor(PokeIntervalHook, BaseSensorOperator, Generic[H]):
    """Waits for a vendor document to reach a terminal status.

    Vendor sensors subclass it with their hook as the type parameter
    (``class LeadtoolsQuerySensor(DocStatusSensor[LeadtoolsHook])``) and only
    name their ids, their connection argument and their template fields.
    When the class is created, ``TypeError`` says if ``hook_class`` is not the
    parameter's hook, if ``template_fields`` lacks an id of the protocol or the
    connection argument, or if the trigger of ``trigger_class_path`` polls with
    another hook (see ``engine/contract.py``). It works in ``poke`` and
    ``reschedule`` mode and, with ``deferrable=True``, pokes once on the
    worker and then hands the wait to a trigger in the triggerer with an
    absolute wall-clock deadline.

    On success the vendor's payload becomes XCom ``return_value`` and the
    normalized record is pushed as XCom ``docstatus``. A vendor failure,
    an authentication failure or a refused request fails the task without
    retries; ``max_consecutive_errors`` transient errors in a row fail it
    (and Airflow's own retries then apply).

    With ``start_from_trigger=True`` the scheduler hands the task straight to
    the triggerer, with no worker run before the wait: the ids are rendered
    there, and on success the trigger ends the task itself, XComs included,
    unless the payload is too large for an event (see README, "Start and end
    in the triggerer").

    :param deferrable: hand the wait to the triggerer (default: ``[operators] default_deferrable``).
    :param start_from_trigger: start the task in the triggerer, with no worker run before the
        wait (default False); the ids may be literals, templates or XComArgs. Implies
        ``deferrable``: where Airflow runs the task on a worker instead (``airflow dags test``,
        a mapped task), it pokes once and defers as a deferrable sensor does. Before Airflow
        3.3, whose triggerer renders no templates, it is turned off with a warning (the
        sensor is then a deferrable one).
    :param max_consecutive_errors: transient failures tolerated in a row before the task fails.
    """

    # Not a ClassVar, which cannot hold a type variable: set on the class all the same.
    hook_class: type[H]
    trigger_class_path: ClassVar[str]
    # Whether the protocol's ids are arguments of the class, so template fields (False for operators).
    ids_are_arguments: ClassVar[bool] = True
    ui_color = "#e8f4ea"
    # A seam for tests that need a clock they control (the progress lines' "once a minute").
    _now = staticmethod(time.time)
    start_trigger_args = _StartTriggerArgs()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        check_parameter(cls, DocStatusSensor, "hook_class")
        check_template_fields(cls, ids=cls.ids_are_arguments)
        check_trigger(cls)

    def __init__(
        self,
        *,
        ids: Mapping[str, Any],
        conn_id: str,
        options: Mapping[str, Any] | None = None,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        start_from_trigger: bool = False,
        max_consecutive_errors: int = DEFAULT_MAX_CONSECUTIVE_ERRORS,
        poke_interval: timedelta | float = 10,
        **kwargs: Any,
    ) -> None:
        super().__init__(poke_interval=poke_interval, **kwargs)
        if max_consecutive_errors < 1:
            raise ValueError(f"max_consecutive_errors must be at least 1, got {max_consecutive_errors}")
        self.deferrable = deferrable or bool(start_from_trigger)
        self.start_from_trigger = bool(start_from_trigger) and TRIGGER_TEMPLATES
        if start_from_trigger and not TRIGGER_TEMPLATES:
            self.log.warning(
                "%s: this Airflow's triggerer does not render a trigger's templates (Airflow 3.3+): "
                "start_from_trigger=True runs as deferrable=True (a worker pokes once, then defers)",
                self.task_id,
            )
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
        self._succeeded_with: DocStatus | None = None  # the final status, for lineage
        self._deadline: float | None = None  # wall-clock epoch seconds, set when the task runs
        self._retry_after: float | None = None
        # What to write with the next wait: (level, text), or (status, the ProgressLog's line choice).
        self._pending: tuple[Any, Any] = (logging.INFO, "waiting")
        self._progress: ProgressLog | None = None

    # what this sensor waits on -------------------------------------------------
    @property
    def conn_id(self) -> str:
        conn_id: str = getattr(self, self.hook_class.conn_name_attr)
        return conn_id

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
    def hook(self) -> H:
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
        except NoRequestSlotError as exc:  # the connection's ceiling: no call before the deadline, not an error
            self._last_error = str(exc)
            self.log.warning("%s; the wait times out at its deadline", exc)
            self._pending = (logging.WARNING, "no request slot before the deadline")
            return False
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
            self._forget_progress(context)  # the first good answer after it is written again
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
            kept: Any = store.get(ERRORS_STATE_KEY, 0) or 0
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
        progress = self._progress_log(context)
        line = progress.decide(status, self._now())
        self._pending = (status, line)
        if line is not None:  # the next poke runs in a new process: keep what was said
            self._keep_progress(context, "set", {"try_number": _try_number(context), **progress.state()})
        return False

    def _keep_progress(self, context: Context, action: str, *args: Any) -> Any:
        """``store.<action>(PROGRESS_STATE_KEY, *args)`` on the task state store, in reschedule mode; best effort.

        The kept state only spares a repeated progress line after a reschedule:
        a store that fails does not fail the poke (the result is then None). The first
        failure in a process is a WARNING, later ones DEBUG; the line names the
        exception's type only.
        """
        global _PROGRESS_STORE_WARNED
        store = context.get("task_state_store") if self.reschedule else None
        if store is None:
            return None
        try:
            return getattr(store, action)(PROGRESS_STATE_KEY, *args)
        except Exception as exc:
            level = logging.DEBUG if _PROGRESS_STORE_WARNED else logging.WARNING
            _PROGRESS_STORE_WARNED = True
            self.log.log(level, "The task state store failed to %s the progress line's state (%s): it is written "
                         "again after a reschedule if need be", action, type(exc).__name__)
            return None

    def _progress_log(self, context: Context | None = None) -> ProgressLog:
        """This wait's ``ProgressLog``; in reschedule mode restored from the task state store (Airflow 3.3+)."""
        if self._progress is None:
            since = self._now() if self._deadline is None else self._deadline - self.timeout
            self._progress = ProgressLog(since=since)
            kept = self._keep_progress(context, "get", None) if context is not None else None
            if isinstance(kept, Mapping) and kept.get("try_number") == _try_number(context):  # type: ignore[arg-type]
                self._progress.restore(kept)
        return self._progress

    def _forget_progress(self, context: Context) -> None:
        """After a transient error: the next status is written at INFO, in this process and after a reschedule."""
        self._progress_log(context).forget()
        self._keep_progress(context, "delete")

    def _pending_line(self) -> tuple[int, str]:
        """The level and text of the pending line, for the line written on deferring."""
        first, second = self._pending
        if isinstance(first, DocStatus):
            return first.log_level, first.describe()
        return first, second

    def _succeed(self, context: Context, status: DocStatus) -> Any:
        self._succeeded_with = status
        context["ti"].xcom_push(key=XCOM_DOCSTATUS_KEY, value=status.to_record())
        self.log.info("%s; done, returning %s", status.describe(), summarize_payload(status.payload))
        return status.payload

    def _failure_message(self, status: DocStatus) -> str:
        protocol = self.hook_class.protocol_class
        text = f"{protocol.display_name} reported a failure for {format_ref(status.ref)}: status {status.vendor_status}"
        return text + (f": {status.message}" if status.message else "")

    def next_poke_delay(self, base: float, run_duration: Any) -> float:
        """Seconds to the next poke: Airflow's ``base`` interval through the poll policy (floor,
        error backoff, ``Retry-After``, never past the timeout); logs the pending line with it:
        a status at INFO when it changed or once a minute (``engine/progress.py``), else at DEBUG."""
        delay = self._policy.next_delay(
            base=base,
            errors_in_row=self._errors.in_row,
            retry_after=self._retry_after,
            remaining=self.timeout - run_duration(),
        )
        first, second = self._pending
        if isinstance(first, DocStatus):  # a status: at INFO on a change or once a minute, else at DEBUG
            self._progress_log().emit(self.log, second, first, delay, self._now())
        else:
            self.log.log(first, "%s; next poll in %.1fs", second, delay)
        return delay

    # lineage -------------------------------------------------------------------------
    def lineage_datasets(self) -> tuple[list[LineageDataset], list[LineageDataset]]:
        """The task's ``(inputs, outputs)`` as OpenLineage names them; subclasses that know them say.

        Called after the task ran: the arguments are rendered, and a sensor that
        succeeded finds its final status in ``self._succeeded_with``. The sensor
        itself knows none (it is given ids, not documents).
        """
        return [], []

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> OperatorLineage[Any, Any]:
        """The inputs and outputs of ``lineage_datasets()`` for the OpenLineage provider.

        Only that provider calls it (it imports OpenLineage, which this provider
        does not need otherwise: the ``openlineage`` extra). A failure to work
        them out is logged and yields no datasets, never a failed task.
        """
        from airflow_docstatus.engine.openlineage import operator_lineage

        try:
            inputs, outputs = self.lineage_datasets()
        except Exception as exc:  # lineage is best effort: never fail the task over it
            self.log.warning("OpenLineage: could not work out this task's datasets: %s", type(exc).__name__)
            inputs, outputs = [], []
        return operator_lineage(inputs, outputs)

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
        done = self._first_poke(context)  # a document that is already done needs no trigger
        if done:
            return done.xcom_value if isinstance(done, PokeReturnValue) else None
        self._defer()

    def _first_poke(self, context: Context) -> bool | PokeReturnValue:
        """The worker's poke before deferring, its exceptions handled as the task SDK's sensor handles a poke's.

        A failure (``AirflowFailException``, a timeout) is a skip with ``soft_fail`` or
        ``never_fail``; any other exception (e.g. the transient-error budget spent) is logged and
        counts as "not done yet" with ``silent_fail`` (the wait goes on in the triggerer), a skip
        with ``never_fail``, and is raised otherwise. A skip is raised as it is.
        """
        try:
            return self.poke(context)
        except (AirflowSensorTimeout, AirflowTaskTimeout, AirflowFailException) as exc:
            if self.soft_fail:
                raise AirflowSkipException("Skipping due to soft_fail is set to True.") from exc
            if getattr(self, "never_fail", False):
                raise AirflowSkipException("Skipping due to never_fail is set to True.") from exc
            raise
        except AirflowSkipException:
            raise
        except Exception as exc:
            if getattr(self, "silent_fail", False):
                self.log.error("Sensor poke failed: \n %s", traceback.format_exc())
                return False
            if getattr(self, "never_fail", False):
                raise AirflowSkipException("Skipping due to never_fail is set to True.") from exc
            raise

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
            waiting_since=end_time - self.timeout,
            **self._extra_trigger_kwargs(),
        )
        deadline = datetime.fromtimestamp(end_time, tz=timezone.utc).isoformat(timespec="seconds")
        level, line = self._pending_line()
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

    def _start_trigger_args(self) -> StartTriggerArgs:
        """How the scheduler starts this task in the triggerer (``start_from_trigger``).

        The trigger gets the ids, options and connection id under the
        sensor's own names (still templates, or XComArgs made templates by
        ``for_the_triggerer``), rendered by the triggerer before ``run()``;
        the wait's length rather than a deadline (unknown at parse time);
        and ``end_from_trigger``. ``timeout`` is the scheduler's safety net,
        ``DEFER_TIMEOUT_GRACE`` past the trigger's own deadline.
        """
        from airflow.triggers.base import StartTriggerArgs

        def ready(name: str, value: Any) -> Any:
            return for_the_triggerer(value, task_id=self.task_id, name=name)

        safety_net = timedelta(seconds=self.timeout) + DEFER_TIMEOUT_GRACE
        scheduler_timeout = safety_net
        if self.execution_timeout is not None:  # the scheduler takes the shorter one
            scheduler_timeout = min(safety_net, self.execution_timeout)
        conn_attr = self.hook_class.conn_name_attr
        kwargs: dict[str, Any] = {
            **{name: ready(name, getattr(self, name)) for name in self._id_names},
            **{name: ready(name, getattr(self, name)) for name in self._option_names},
            conn_attr: ready(conn_attr, self.conn_id),
            "poll_interval": float(self.poke_interval),
            "max_consecutive_errors": self.max_consecutive_errors,
            "timeout": float(self.timeout),
            "scheduler_timeout": scheduler_timeout.total_seconds(),
            "end_from_trigger": True,
            "push_return_value": bool(self.do_xcom_push),
        }
        if self.exponential_backoff:
            kwargs.update(
                exponential_backoff=True,
                max_wait=None if self.max_wait is None else self.max_wait.total_seconds(),
            )
        return StartTriggerArgs(
            trigger_cls=self.trigger_class_path,
            next_method="execute_complete",
            trigger_kwargs=kwargs,
            next_kwargs=None,
            timeout=safety_net,
        )

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
