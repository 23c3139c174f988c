"""SmartDocumentor Cloud trigger."""

from __future__ import annotations

from airflow_docstatus.engine.trigger import DocStatusTrigger
from airflow_docstatus.hooks.smartdocumentor import SmartDocumentorHook


class SmartDocumentorTaskStatusTrigger(DocStatusTrigger[SmartDocumentorHook]):
    """Polls a SmartDocumentor task in the triggerer until its status text is in the success or failure set.

    ``SmartDocumentorTaskStatusTrigger(sd_task_id=..., smartdocumentor_conn_id="smartdocumentor_default",
    poll_interval=30.0, end_time=time.time() + 3600)``; takes ``external_id``,
    ``success_statuses`` and ``failure_statuses`` like the sensor.
    """

    hook_class = SmartDocumentorHook
