"""SmartDocumentor Cloud sensor."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from airflow_docstatus.engine.sensor import DocStatusSensor
from airflow_docstatus.hooks.smartdocumentor import SmartDocumentorHook


class SmartDocumentorTaskStatusSensor(DocStatusSensor[SmartDocumentorHook]):
    """Waits until a SmartDocumentor task reaches a success or failure status, and returns the status object.

    Statuses are matched by text. Processed and ExportCompleted succeed;
    PreProcessingFailed, PreProcessingDownloadFailed,
    PreProcessingGetPagesFailed, Deleting, Deleted, and an
    integrationStatusText of Failed, fail. Everything else waits, ToReview
    included (the task log says the task waits for a person).

    :param sd_task_id: the task id (templated); give it, ``external_id``, or both.
    :param external_id: your own id for the task (templated).
    :param success_statuses: status texts that replace the default success set.
    :param failure_statuses: status texts that replace the default failure set
        (matched against taskStatusText and integrationStatusText).
    :param smartdocumentor_conn_id: the ``smartdocumentor`` connection (templated).
    """

    template_fields: Sequence[str] = ("sd_task_id", "external_id", "smartdocumentor_conn_id")
    hook_class = SmartDocumentorHook
    trigger_class_path = "airflow_docstatus.triggers.smartdocumentor.SmartDocumentorTaskStatusTrigger"

    def __init__(
        self,
        *,
        sd_task_id: int | str | None = None,
        external_id: str | None = None,
        success_statuses: Iterable[str] | None = None,
        failure_statuses: Iterable[str] | None = None,
        smartdocumentor_conn_id: str = SmartDocumentorHook.default_conn_name,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            ids={"sd_task_id": sd_task_id, "external_id": external_id},
            conn_id=smartdocumentor_conn_id,
            options={
                "success_statuses": None if success_statuses is None else list(success_statuses),
                "failure_statuses": None if failure_statuses is None else list(failure_statuses),
            },
            **kwargs,
        )
