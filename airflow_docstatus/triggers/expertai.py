"""expert.ai Extract trigger."""

from __future__ import annotations

from airflow_docstatus.engine.trigger import DocStatusTrigger
from airflow_docstatus.hooks.expertai import ExpertAiExtractHook


class ExpertAiExtractStatusTrigger(DocStatusTrigger[ExpertAiExtractHook]):
    """Polls an expert.ai Extract layout task in the triggerer until SUCCESS, FAILURE or ABORTED.

    ``ExpertAiExtractStatusTrigger(extract_task_id=..., expertai_conn_id="expertai_extract_default",
    poll_interval=10.0, end_time=time.time() + 3600)``. The result, which
    can run to many MB, is not carried in the event: the sensor fetches it.
    """

    hook_class = ExpertAiExtractHook
