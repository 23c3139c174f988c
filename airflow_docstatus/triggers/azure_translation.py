"""Azure AI Document Translation triggers: one document, or a whole batch."""

from __future__ import annotations

from airflow_docstatus.engine.trigger import DocStatusTrigger
from airflow_docstatus.hooks.azure_translation import AzureDocumentTranslationHook, AzureTranslationBatchHook


class AzureDocumentTranslationStatusTrigger(DocStatusTrigger[AzureDocumentTranslationHook]):
    """Polls one document's status in the triggerer until it is terminal; the success event carries its ``path``.

    ``AzureDocumentTranslationStatusTrigger(batch_id=..., document_id=...,
    azure_translation_conn_id="azure_document_translation_default",
    poll_interval=5.0, end_time=time.time() + 3600)``.
    """

    hook_class = AzureDocumentTranslationHook


class AzureTranslationBatchStatusTrigger(DocStatusTrigger[AzureTranslationBatchHook]):
    """Polls a batch's status in the triggerer until it is terminal; the success event carries the batch object.

    Takes ``batch_id``, ``azure_translation_conn_id`` and ``fail_on_document_failures`` like the sensor.
    """

    hook_class = AzureTranslationBatchHook
