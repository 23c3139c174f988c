"""Azure AI Document Translation hooks: document and batch status, starting a batch, listing its documents."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_docstatus.engine.hook import DocStatusHook
from airflow_docstatus.protocols.azure_translation import (
    AzureBatchStatusProtocol,
    AzureDocumentStatusProtocol,
    AzureTranslationProtocol,
)

if TYPE_CHECKING:
    from airflow_docstatus.engine.status import DocStatus


class AzureDocumentTranslationHook(DocStatusHook[AzureTranslationProtocol]):
    """Talks to Azure AI Document Translation with the subscription key of an ``azure_document_translation`` connection.

    ``check_status(batch_id=..., document_id=...)`` asks for one document's
    status (its payload is the translated document's ``path``);
    ``get_batch_status(batch_id)`` asks for a whole batch's.
    ``start_translation`` starts a batch and returns its id;
    ``list_documents`` lists the document statuses of a batch; ``cancel(batch_id=...)``
    (and ``acancel``) cancels a batch.

    :param azure_translation_conn_id: the connection (host: the resource's custom-domain endpoint,
        password: the subscription key, extra ``api_version``: ``v1.1`` (default) or a GA date
        such as ``2024-05-01``).
    """

    conn_name_attr = "azure_translation_conn_id"
    default_conn_name = "azure_document_translation_default"
    conn_type = "azure_document_translation"
    hook_name = "Azure AI Document Translation"
    protocol_class: type[AzureTranslationProtocol] = AzureDocumentStatusProtocol

    def __init__(self, azure_translation_conn_id: str = default_conn_name) -> None:
        super().__init__(azure_translation_conn_id)

    def get_document_status(self, batch_id: str, document_id: str) -> DocStatus:
        """The status of one document of a batch (the same as ``check_status``)."""
        return self.check_status(batch_id=batch_id, document_id=document_id)

    def get_batch_status(self, batch_id: str, fail_on_document_failures: bool = True) -> DocStatus:
        """The status of a whole batch; its payload is the batch status object."""
        ref = AzureBatchStatusProtocol.validate_ref(batch_id=batch_id)
        batch = AzureBatchStatusProtocol(self.get_conn(), fail_on_document_failures=fail_on_document_failures)
        return batch.interpret(ref, self.send(batch.status_request(ref)))

    def start_translation(
        self,
        source_url: str,
        target_url: str,
        target_language: str,
        *,
        source_language: str | None = None,
        storage_type: str | None = None,
    ) -> str:
        """Translate the documents at ``source_url`` (a container, or one file with ``storage_type="File"``)
        into ``target_url``; return the new batch's id, read from ``Operation-Location``."""
        request = self.protocol.start_translation_request(
            source_url, target_url, target_language, source_language=source_language, storage_type=storage_type
        )
        batch_id = self.protocol.parse_batch_id({"target_language": target_language}, self.send(request))
        self.log.info("Azure Document Translation started batch_id=%s (to %s)", batch_id, target_language)
        return batch_id

    def cancel(self, **ids: Any) -> bool:
        """Cancel a batch (``DELETE .../batches/{id}``); the service answers with the batch, now Cancelling."""
        ref = AzureBatchStatusProtocol.validate_ref(batch_id=ids.get("batch_id"))
        self.protocol.raise_for_http_error(ref, self.send(self.protocol.cancel_request(ref["batch_id"])))
        self.log.info("Azure Document Translation: asked to cancel batch_id=%s", ref["batch_id"])
        return True

    async def acancel(self, **ids: Any) -> bool:
        """``cancel`` without blocking the event loop (for the trigger's ``on_kill``)."""
        ref = AzureBatchStatusProtocol.validate_ref(batch_id=ids.get("batch_id"))
        protocol = await self.aprotocol()
        protocol.raise_for_http_error(ref, await self.asend(protocol.cancel_request(ref["batch_id"])))
        return True

    def list_documents(self, batch_id: str) -> list[dict[str, Any]]:
        """Every document status of a batch, following ``@nextLink`` page by page."""
        ref = {"batch_id": batch_id}
        documents, next_link = self.protocol.parse_documents_page(ref, self.send(self.protocol.list_documents_request(batch_id)))
        while next_link:
            page, next_link = self.protocol.parse_documents_page(
                ref, self.send(self.protocol.list_documents_request(batch_id, next_link))
            )
            documents.extend(page)
        return documents


class AzureTranslationBatchHook(AzureDocumentTranslationHook):
    """The same connection, with the batch status as its ``check_status(batch_id=...)``.

    It is the hook behind ``AzureTranslationBatchStatusSensor`` and its trigger.

    :param fail_on_document_failures: fail a batch that ends with ``summary.failed > 0`` (default True).
    """

    protocol_class = AzureBatchStatusProtocol

    def __init__(
        self, azure_translation_conn_id: str = AzureDocumentTranslationHook.default_conn_name,
        fail_on_document_failures: bool = True,
    ) -> None:
        DocStatusHook.__init__(self, azure_translation_conn_id, fail_on_document_failures=fail_on_document_failures)
