"""expert.ai Extract sensor."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow_docstatus.engine.sensor import DocStatusSensor
from airflow_docstatus.hooks.expertai import ExpertAiExtractHook


class ExpertAiExtractStatusSensor(DocStatusSensor[ExpertAiExtractHook]):
    """Waits until an expert.ai Extract layout task finishes, and returns its ``result``.

    PENDING and PROGRESS wait, with the progress (``current``) in the task
    log on every poll; SUCCESS returns the ``result`` object (``header``,
    ``layout``, ``words``); FAILURE and ABORTED fail with the vendor's
    message, and so does an unknown task (404).

    The result can run to many MB. In deferrable mode it is not carried in
    the trigger event but fetched on the worker. With Airflow's default
    XCom backend it is stored in the metadata database; for large results
    configure the object-storage XCom backend (see README).

    :param extract_task_id: the layout task's id (templated).
    :param expertai_conn_id: the ``expertai_extract`` connection (templated).
    """

    template_fields: Sequence[str] = ("extract_task_id", "expertai_conn_id")
    hook_class = ExpertAiExtractHook
    trigger_class_path = "airflow_docstatus.triggers.expertai.ExpertAiExtractStatusTrigger"

    def __init__(
        self,
        *,
        extract_task_id: str,
        expertai_conn_id: str = ExpertAiExtractHook.default_conn_name,
        **kwargs: Any,
    ) -> None:
        super().__init__(ids={"extract_task_id": extract_task_id}, conn_id=expertai_conn_id, **kwargs)
