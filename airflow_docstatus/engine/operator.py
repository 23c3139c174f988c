"""The one operator class behind every vendor: start a job, keep its ref, wait as the sensor waits, cancel on kill."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.configuration import conf

from airflow_docstatus._compat import TRIGGER_ON_KILL, AirflowException, AirflowFailException
from airflow_docstatus.engine.errors import (
    AuthenticationError,
    InvalidInputError,
    PermanentError,
    TransientError,
)
from airflow_docstatus.engine.hook import H
from airflow_docstatus.engine.policy import DEFAULT_MAX_CONSECUTIVE_ERRORS
from airflow_docstatus.engine.sensor import DocStatusSensor
from airflow_docstatus.engine.values import is_literal
from airflow_docstatus.engine.status import DocStatus, State, format_ref
from airflow_docstatus.engine.values import structured

if TYPE_CHECKING:
    from airflow.sdk import Context

try:  # Airflow 3.3+: the task state store and the mixin that keeps a job's id in it
    from airflow.sdk import ResumableJobMixin
except ImportError:  # Airflow 3.1 and 3.2: no task state store, so nothing to resume (README "Airflow versions")

    class ResumableJobMixin:  # type: ignore[no-redef]
        """Stand-in for Airflow 3.3's mixin: start, wait, return (a retry starts again)."""

        external_id_key = "remote_job_id"

        def execute_resumable(self, context: Any) -> Any:
            self.log.warning(  # type: ignore[attr-defined]
                "this Airflow has no task state store (Airflow 3.3+): a retry of this task "
                "cannot reconnect to the job this try starts, and starts a new job"
            )
            external_id = self.submit_job(context)  # type: ignore[attr-defined]
            self.poll_until_complete(external_id, context)  # type: ignore[attr-defined]
            return self.get_job_result(external_id, context)  # type: ignore[attr-defined]


XCOM_JOB_REF_KEY = "job_ref"
# Where the started job's ref is kept between tries (the task state store is
# scoped to the task instance across its tries). Renaming it breaks in-flight retries.
JOB_STATE_KEY = "docstatus_job_ref"
DEFAULT_OPERATOR_TIMEOUT = 7 * 24 * 3600  # seconds, a week: as API.md and Airflow's sensors


class DocStatusOperator(ResumableJobMixin, DocStatusSensor[H]):
    """Starts a vendor job and, by default, waits for it in the same task: start, wait, return.

    Vendor operators subclass it with their hook as the type parameter
    (``class LeadtoolsExtractTextOperator(DocStatusOperator[LeadtoolsHook])``),
    so ``start_job`` and ``find_started_job`` get that hook, and only name their
    start call (``start_job``), the arguments it takes and their template fields.
    The wait is the vendor sensor's own (this class is a ``DocStatusSensor``
    that fills in its ids itself): the same poll policy, status table, error
    budget, log lines and, with ``deferrable=True``, the same trigger. The
    class checks are the sensor's too, except that the ids need not be
    template fields (they come from the start call); the connection argument must be.

    What it leaves behind:

    - XCom ``job_ref`` as soon as the job is started: the ids the vendor's sensor takes;
    - on success the sensor's ``return_value`` (the vendor payload) and ``docstatus``;
      with ``wait_for_completion=False`` the ``return_value`` is the ``job_ref``;
    - failures, timeouts (``AirflowSensorTimeout``) and transient trouble as the sensors.

    Retries do not pay twice: the ref is kept in Airflow's task state store
    (key ``docstatus_job_ref``, Airflow 3.3+) before the first wait, through
    ``airflow.sdk.ResumableJobMixin``. A later try reconnects to a job still
    running, returns a job that succeeded without a new start, and starts afresh
    when the job failed, was cancelled or is unknown to the vendor. A start
    whose answer was lost (read timeout, connection reset, 5xx, garbled answer)
    is never retried inside the try: the try fails saying the job may have
    started, and Airflow's retry applies. When the task succeeds the kept ref
    is dropped, so clearing the task later starts a new job.

    Killed (``on_kill`` on the worker, the trigger's ``on_kill`` while deferred),
    the operator cancels the job where the vendor has a cancel call, unless
    ``cancel_on_kill=False``; otherwise it logs that the job runs on.

    :param wait_for_completion: wait for the job (default); False ends the task once the job is started.
    :param deferrable: wait in the triggerer (default: ``[operators] default_deferrable``).
    :param poll_interval: seconds between status calls (never below the vendor's floor).
    :param timeout: the wait's deadline, in seconds from the start of the wait (default a week).
    :param max_consecutive_errors: transient failures tolerated in a row while waiting.
    :param cancel_on_kill: cancel the vendor's job when the task is killed (default True).
    """

    external_id_key = JOB_STATE_KEY
    ui_color = "#d7e9f7"
    # The vendor's name of the call that starts a job, for log lines and errors.
    start_call: ClassVar[str]
    # Start arguments that are dicts: a template renders them as text, read back before the start.
    dict_args: ClassVar[tuple[str, ...]] = ()
    ids_are_arguments = False

    _job_ref: dict[str, Any] | None = None

    def __init__(
        self,
        *,
        start_args: Mapping[str, Any],
        conn_id: str,
        options: Mapping[str, Any] | None = None,
        wait_for_completion: bool = True,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        poll_interval: timedelta | float = 10,
        timeout: timedelta | float = DEFAULT_OPERATOR_TIMEOUT,
        max_consecutive_errors: int = DEFAULT_MAX_CONSECUTIVE_ERRORS,
        cancel_on_kill: bool = True,
        **kwargs: Any,
    ) -> None:
        for name, instead in (("poke_interval", "poll_interval"), ("mode", "deferrable")):
            if name in kwargs:
                raise TypeError(f"{type(self).__name__} takes `{instead}`, not `{name}`")
        for name, value in (
            ("wait_for_completion", wait_for_completion),
            ("deferrable", deferrable),
            ("cancel_on_kill", cancel_on_kill),
        ):
            if not isinstance(value, bool):
                raise TypeError(f"{type(self).__name__}: `{name}` must be True or False, got {value!r}")
        protocol = self.hook_class.protocol_class
        super().__init__(
            ids={name: None for name in protocol.id_fields},  # filled in when the job is started
            conn_id=conn_id,
            options=options,
            deferrable=deferrable,
            max_consecutive_errors=max_consecutive_errors,
            poke_interval=poll_interval,
            timeout=timeout,
            **kwargs,
        )
        self._start_arg_names = tuple(start_args)
        for name, value in start_args.items():
            setattr(self, name, value)
        self.poll_interval = self.poke_interval
        self.wait_for_completion = wait_for_completion
        self.cancel_on_kill = cancel_on_kill
        self._result: Any = None
        self._found: DocStatus | None = None
        self._finished = False
        if self._start_args_are_literal():
            self._checked_start_args()  # a bad literal argument fails the DAG at parse time

    # what a vendor operator provides ------------------------------------------------
    def start_job(self, hook: H) -> dict[str, Any]:
        """Send the vendor's start call once and return the new job's ref (the sensor's ids)."""
        raise NotImplementedError

    def check_start_args(self) -> None:
        """Check the start call's arguments; raise ``InvalidInputError`` naming what is wrong."""

    def start_args(self) -> dict[str, Any]:
        """The start call's arguments, by name, as they stand (rendered once the task runs)."""
        return {name: getattr(self, name) for name in self._start_arg_names}

    def find_started_job(self, hook: H) -> dict[str, Any] | None:
        """The ref of a job this task started already though no ref was kept, or None.

        Only a vendor whose start can carry an id of ours can say (SmartDocumentor's ``externalId``).
        """
        return None

    # arguments -----------------------------------------------------------------------------
    def _start_args_are_literal(self) -> bool:
        """True when every start argument is known at parse time: no template, no XComArg."""
        return all(is_literal(value) for value in [*self.start_args().values(), *self._options.values()])

    def _read_rendered_args(self) -> None:
        """Read back dict arguments a template rendered as text, then check every start argument.

        Raises ``InvalidInputError`` naming the argument.
        """
        for name in self.dict_args:  # "{{ dag_run.conf['file'] }}" renders a dict as Python-literal text
            setattr(self, name, structured(getattr(self, name), name=name, where=self._vendor))
        self.check_start_args()

    def _checked_start_args(self) -> None:
        try:
            self.check_start_args()
        except InvalidInputError as exc:
            raise ValueError(f"{self.task_id}: {exc}") from None

    def _validated_ref(self) -> dict[str, Any]:
        if self._job_ref is None:
            return {}  # nothing started yet: the ids come from the start call
        return super()._validated_ref()

    @property
    def _vendor(self) -> str:
        return self.hook_class.protocol_class.display_name

    def _extra_trigger_kwargs(self) -> dict[str, Any]:
        if not self.cancel_on_kill:
            return {}
        if not TRIGGER_ON_KILL:
            self.log.warning(
                "this Airflow's triggerer never calls a trigger's on_kill (Airflow 3.3+): killing this task "
                "while it is deferred does not cancel the %s job",
                self._vendor,
            )
        return {"cancel_on_kill": True}

    # execute --------------------------------------------------------------------------------
    def execute(self, context: Context) -> Any:
        try:
            self._read_rendered_args()  # the rendered arguments, checked before any call
            if self.deferrable and self.wait_for_completion:
                self.hook.check_deferrable()  # e.g. Cora over NTLM: refused before a job is started
        except InvalidInputError as exc:
            raise AirflowFailException(f"{self.task_id}: {exc}") from None
        result = self.execute_resumable(context)
        self._done(context)
        return result

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> Any:
        """Finish the task from the trigger's event (as the sensor does), then drop the kept ref."""
        if isinstance(event, Mapping) and isinstance(event.get("docstatus"), Mapping):
            self._job_ref = dict(event["docstatus"].get("ref") or {})
        result = super().execute_complete(context, event)
        self._done(context)
        return result

    def _done(self, context: Context) -> None:
        """The task succeeded: drop the kept ref, so that clearing the task starts a new job."""
        self._finished = True
        store = context.get("task_state_store")
        if store is not None and self.wait_for_completion:
            store.delete(JOB_STATE_KEY)

    def _adopt(self, ref: Mapping[str, Any], context: Context) -> dict[str, Any]:
        """Wait on ``ref`` from now on, and tell the world (XCom ``job_ref``)."""
        for name in self._id_names:
            setattr(self, name, ref.get(name))
        self._job_ref = {name: value for name, value in ref.items() if value is not None}
        context["ti"].xcom_push(key=XCOM_JOB_REF_KEY, value=self._job_ref)
        return self._job_ref

    # ResumableJobMixin ------------------------------------------------------------------------
    def submit_job(self, context: Context) -> dict[str, Any]:
        hook = self.hook
        found = None
        try:
            found = self.find_started_job(hook)
        except TransientError as exc:
            raise AirflowException(
                f"{self._vendor}: could not check whether this task started a job already ({exc}); "
                "not starting one blindly"
            ) from None
        except (PermanentError, InvalidInputError) as exc:
            raise AirflowFailException(str(exc)) from None
        if found is not None:
            ref = self._adopt(found, context)
            self.log.info(
                "found the %s job this task started already (its start answer was lost): job_ref=%s",
                self._vendor,
                ref,
            )
            return ref
        try:
            ref = self.start_job(hook)  # exactly one start call: never retried inside the try
        except TransientError as exc:
            raise AirflowException(
                f"{self._vendor} {self.start_call}: the start call's answer was lost ({exc}). The job may have "
                f"started: check {self._vendor} before running it again by hand. This try fails, so that "
                "Airflow's retry applies (it starts a new job, since no job ref came back)"
            ) from None
        except (PermanentError, InvalidInputError) as exc:
            raise AirflowFailException(str(exc)) from None
        ref = self._adopt(ref, context)
        self.log.info("started %s %s job: job_ref=%s", self._vendor, self.start_call, ref)
        return ref

    def get_job_status(self, external_id: Any, context: Context) -> str:
        if not isinstance(external_id, Mapping):
            self.log.warning("the kept job ref %r is not one this operator wrote; starting a new job", external_id)
            return "unknown"
        ref = self._adopt(external_id, context)
        self.log.info("reconnecting to the %s job started by an earlier try: job_ref=%s", self._vendor, ref)
        try:
            status = self.hook.check_status(**ref)
        except AuthenticationError as exc:
            raise AirflowFailException(str(exc)) from None
        except TransientError as exc:
            raise AirflowException(
                f"could not read the status of the {self._vendor} job an earlier try started "
                f"({format_ref(ref)}): {exc}; not starting another one while it may still run"
            ) from None
        except (PermanentError, InvalidInputError) as exc:
            self.log.warning("the %s job an earlier try started is unknown now (%s); starting a new job", self._vendor, exc)
            return "unknown"
        self._found = status
        if status.state is State.FAILED:
            self.log.warning("%s; the job an earlier try started ended in failure: starting a new job", status.describe())
        else:
            self.log.info("%s", status.describe())
        return status.state.value

    def is_job_active(self, status: str) -> bool:
        return status == State.WAITING.value

    def is_job_succeeded(self, status: str) -> bool:
        return status == State.SUCCEEDED.value

    def poll_until_complete(self, external_id: Any, context: Context) -> Any:
        # Returns the result too: the mixin returns what this returns when it reconnects.
        if not self.wait_for_completion:
            self.log.info("not waiting for the %s job (wait_for_completion=False)", self._vendor)
            self._result = self._job_ref
            return self._result
        # The sensor's wait: pokes in the worker, or one poke then the trigger (TaskDeferred).
        self._result = super().execute(context)
        return self._result

    def get_job_result(self, external_id: Any, context: Context) -> Any:
        if self._found is not None and self._found.state is State.SUCCEEDED and self._result is None:
            # Reconnected to a job that succeeded while no try was watching.
            self._result = self._job_ref if not self.wait_for_completion else self._succeed(context, self._found)
        return self._result

    # cancel on kill ------------------------------------------------------------------------------
    @cached_property
    def _kill_hook(self) -> H:
        return self.hook_class(self.conn_id, **self._options)

    def on_kill(self) -> None:
        """Cancel the job in the worker when the task is killed (``cancel_on_kill``)."""
        ref = self._job_ref
        if ref is None or self._finished or not self.cancel_on_kill:
            return
        try:
            # A hook of its own: the killed wait may be inside a call on the other one.
            if self._kill_hook.cancel(**ref):
                self.log.info("the task was killed: asked %s to cancel the job %s", self._vendor, format_ref(ref))
            else:
                self.log.info(
                    "the task was killed; job runs on: %s has no cancel call (%s)", self._vendor, format_ref(ref)
                )
        except (TransientError, PermanentError, InvalidInputError) as exc:
            self.log.warning("the task was killed, but cancelling the %s job failed: %s", self._vendor, exc)

