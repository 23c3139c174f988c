"""Azure AI Document Translation: start a batch, wait for one document, and use its translated path downstream.

- ``start_batch`` starts a translation of a source container into French with the hook;
- ``first_document`` lists the batch's documents and picks one;
- ``wait_for_document`` defers to the triggerer until that document is translated,
  and returns its ``path``;
- ``wait_for_batch`` waits for the whole batch in reschedule mode, and fails if
  any of its documents failed;
- ``publish`` uses the translated document's path and the batch summary.

Point the ``azure_document_translation_default`` connection at your Translator
resource (host: its custom-domain endpoint, password: its key), or at the
simulator (``python -m airflow_docstatus.simulator``) to try it offline.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import dag, task

from airflow_docstatus.sensors.azure_translation import (
    AzureDocumentTranslationStatusSensor,
    AzureTranslationBatchStatusSensor,
)

SOURCE_CONTAINER = "https://mystorage.blob.core.windows.net/contracts-en"
TARGET_CONTAINER = "https://mystorage.blob.core.windows.net/contracts-fr"


@dag(
    dag_id="example_azure_translation",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["docstatus", "example", "azure"],
)
def example_azure_translation():
    @task
    def start_batch() -> str:
        """Start translating the source container into French; the batch id goes to XCom."""
        from airflow_docstatus.hooks.azure_translation import AzureDocumentTranslationHook

        return AzureDocumentTranslationHook().start_translation(SOURCE_CONTAINER, TARGET_CONTAINER, "fr")

    @task
    def first_document(batch_id: str) -> dict[str, str]:
        """The batch's first document, as the ids the document sensor needs."""
        from airflow_docstatus.hooks.azure_translation import AzureDocumentTranslationHook

        documents = AzureDocumentTranslationHook().list_documents(batch_id)
        print(f"batch {batch_id} holds {len(documents)} document(s): {[d['sourcePath'] for d in documents]}")
        return {"batch_id": batch_id, "document_id": documents[0]["id"]}

    @task
    def publish(path: str, batch: dict) -> str:
        """Use the translated document: here, print where it is and how the batch went."""
        summary = batch["summary"]
        print(f"Translated document: {path}")
        print(f"Batch {batch['id']}: {summary['success']} of {summary['total']} document(s) translated")
        return path

    batch_id = start_batch()
    document = first_document(batch_id)
    wait_for_document = AzureDocumentTranslationStatusSensor(
        task_id="wait_for_document",
        batch_id="{{ ti.xcom_pull(task_ids='first_document')['batch_id'] }}",
        document_id="{{ ti.xcom_pull(task_ids='first_document')['document_id'] }}",
        deferrable=True,
        poke_interval=2,
        timeout=600,
    )
    wait_for_batch = AzureTranslationBatchStatusSensor(
        task_id="wait_for_batch",
        batch_id=batch_id,
        mode="reschedule",
        poke_interval=2,
        timeout=600,
    )
    document >> wait_for_document
    publish(wait_for_document.output, wait_for_batch.output)


example_azure_translation()
