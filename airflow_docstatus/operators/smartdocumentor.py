"""SmartDocumentor Cloud operator."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from airflow_docstatus.engine.errors import InvalidInputError, PermanentError
from airflow_docstatus.engine.operator import DocStatusOperator
from airflow_docstatus.hooks.smartdocumentor import SmartDocumentorHook


class SmartDocumentorProcessTaskOperator(DocStatusOperator[SmartDocumentorHook]):
    """Creates a SmartDocumentor task (``POST sdtask/process``) and waits until it is processed.

    Start: ``SmartDocumentorHook.process_task(**task)``; XCom ``job_ref`` is
    ``{"sd_task_id": 42}`` plus ``"external_id"`` when the task body has an
    ``externalId``. Wait: as ``SmartDocumentorTaskStatusSensor``; returns the
    status response object. SmartDocumentor has no documented cancel call: a
    killed task logs that the job runs on.

    An ``externalId`` makes the start idempotent: before starting, the operator
    asks for the task by that id (the status call with ``externalId``) and, when
    the vendor knows it, waits on that task instead of creating another, so even
    a start whose answer was lost is not repeated by a retry.

    :param task: the request body, a dict sent as JSON as given (templated); its optional
        ``externalId`` is your own id for the task.
    :param success_statuses: status texts that replace the default success set (as the sensor).
    :param failure_statuses: status texts that replace the default failure set (as the sensor).
    :param smartdocumentor_conn_id: the ``smartdocumentor`` connection (templated).
    """

    template_fields: Sequence[str] = ("task", "smartdocumentor_conn_id")
    hook_class = SmartDocumentorHook
    trigger_class_path = "airflow_docstatus.triggers.smartdocumentor.SmartDocumentorTaskStatusTrigger"
    start_call = "sdtask/process"
    dict_args = ("task",)
    # Set by the engine from the arguments (start_args, options) and rendered by Airflow: any type until checked.
    task: Any

    def __init__(
        self,
        *,
        task: Mapping[str, Any],
        success_statuses: Iterable[str] | None = None,
        failure_statuses: Iterable[str] | None = None,
        smartdocumentor_conn_id: str = SmartDocumentorHook.default_conn_name,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            start_args={"task": task},
            conn_id=smartdocumentor_conn_id,
            options={
                "success_statuses": None if success_statuses is None else list(success_statuses),
                "failure_statuses": None if failure_statuses is None else list(failure_statuses),
            },
            **kwargs,
        )

    @property
    def _external_id(self) -> str | None:
        value = self.task.get("externalId")
        return value.strip() if isinstance(value, str) and value.strip() else None

    def check_start_args(self) -> None:
        if not isinstance(self.task, Mapping):
            raise InvalidInputError(f"SmartDocumentor: `task` must be a dict (the request body), got {self.task!r}")
        external_id = self.task.get("externalId")
        if external_id is not None and (not isinstance(external_id, str) or not external_id.strip()):
            raise InvalidInputError(f"SmartDocumentor: `task['externalId']` must be a non-empty string, got {external_id!r}")

    def find_started_job(self, hook: SmartDocumentorHook) -> dict[str, Any] | None:
        external_id = self._external_id
        if external_id is None:
            return None
        try:
            status = hook.check_status(external_id=external_id)
        except PermanentError as exc:
            if exc.http_status == 404:
                return None  # no task with this externalId: start one
            raise
        task_id = status.payload.get("taskId") if isinstance(status.payload, Mapping) else None
        return {"sd_task_id": task_id, "external_id": external_id}

    def start_job(self, hook: SmartDocumentorHook) -> dict[str, Any]:
        answer = hook.process_task(**self.task)
        ref: dict[str, Any] = {"sd_task_id": answer["taskId"]}
        external_id = answer.get("externalId") or self._external_id
        if external_id:
            ref["external_id"] = str(external_id)
        return ref
