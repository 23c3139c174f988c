"""Azure AI Document Translation sensors: one document, or a whole batch."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow_docstatus.engine.lineage import LineageDataset, url_dataset
from airflow_docstatus.engine.sensor import DocStatusSensor
from airflow_docstatus.hooks.azure_translation import AzureDocumentTranslationHook, AzureTranslationBatchHook


class AzureDocumentTranslationStatusSensor(DocStatusSensor):
    """Waits until one document of an Azure translation batch is translated, and returns its ``path``.

    NotStarted, Running and Cancelling wait (the progress is logged);
    Succeeded succeeds; Failed, ValidationFailed and Cancelled fail, with
    the service's error code and message, inner error included. Statuses
    match in any case. ``Retry-After`` is honoured, never past the timeout.

    :param batch_id: the batch (translation operation) id, a GUID (templated).
    :param document_id: the document id, a GUID (templated).
    :param azure_translation_conn_id: the ``azure_document_translation`` connection (templated).

    OpenLineage (with the ``openlineage`` extra): output the translated document
    (its ``path``, named as the operator names URLs); the source is not in the status.
    """

    template_fields: Sequence[str] = ("batch_id", "document_id", "azure_translation_conn_id")
    hook_class = AzureDocumentTranslationHook
    trigger_class_path = "airflow_docstatus.triggers.azure_translation.AzureDocumentTranslationStatusTrigger"

    def __init__(
        self,
        *,
        batch_id: str,
        document_id: str,
        azure_translation_conn_id: str = AzureDocumentTranslationHook.default_conn_name,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            ids={"batch_id": batch_id, "document_id": document_id}, conn_id=azure_translation_conn_id, **kwargs
        )

    def lineage_datasets(self) -> tuple[list[LineageDataset], list[LineageDataset]]:
        """Output: the translated document at the ``path`` the service returned (no query string)."""
        status = self._succeeded_with
        target = url_dataset(status.payload) if status is not None else None
        return [], ([target] if target else [])


class AzureTranslationBatchStatusSensor(DocStatusSensor):
    """Waits until an Azure translation batch ends, and returns the batch status object.

    The batch's status decides as for a document. A batch that ends
    Succeeded with ``summary.failed > 0`` fails the task too, unless
    ``fail_on_document_failures=False``.

    :param batch_id: the batch (translation operation) id, a GUID (templated).
    :param azure_translation_conn_id: the ``azure_document_translation`` connection (templated).
    :param fail_on_document_failures: fail when any document of the batch failed (default True).
    """

    template_fields: Sequence[str] = ("batch_id", "azure_translation_conn_id")
    hook_class = AzureTranslationBatchHook
    trigger_class_path = "airflow_docstatus.triggers.azure_translation.AzureTranslationBatchStatusTrigger"

    def __init__(
        self,
        *,
        batch_id: str,
        azure_translation_conn_id: str = AzureDocumentTranslationHook.default_conn_name,
        fail_on_document_failures: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            ids={"batch_id": batch_id},
            conn_id=azure_translation_conn_id,
            options={"fail_on_document_failures": fail_on_document_failures},
            **kwargs,
        )
