"""Azure AI Document Translation: start a batch, wait for one document, and use its translated path downstream.

- ``translate_policies``, the operator: starts a batch, waits for it in the triggerer and
  returns the batch status object, all in one task; ``summarize`` uses it;
- ``start_batch``, the operator with ``wait_for_completion=False``: starts a translation
  of a source container into French and returns its ``job_ref`` (``{"batch_id": ...}``),
  for the sensors below (the sensors serve jobs started elsewhere);
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

from airflow_docstatus.operators.azure_translation import AzureDocumentTranslationOperator
from airflow_docstatus.sensors.azure_translation import (
    AzureDocumentTranslationStatusSensor,
    AzureTranslationBatchStatusSensor,
)

SOURCE_CONTAINER = "https://mystorage.blob.core.windows.net/contracts-en"
TARGET_CONTAINER = "https://mystorage.blob.core.windows.net/contracts-fr"
POLICIES_SOURCE = "https://mystorage.blob.core.windows.net/policies-en"
POLICIES_TARGET = "https://mystorage.blob.core.windows.net/policies-de"


@dag(
    dag_id="example_azure_translation",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["docstatus", "example", "azure"],
)
def example_azure_translation():
    @task
    def first_document(job_ref: dict) -> dict[str, str]:
        """The batch's first document, as the ids the document sensor needs."""
        from airflow_docstatus.hooks.azure_translation import AzureDocumentTranslationHook

        batch_id = job_ref["batch_id"]

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

    # The operator, only starting the batch (wait_for_completion=False): its return_value is the job_ref,
    # so the sensors below can watch one document and the whole batch.
    start_batch = AzureDocumentTranslationOperator(
        task_id="start_batch",
        source_url=SOURCE_CONTAINER,
        target_url=TARGET_CONTAINER,
        target_language="fr",
        wait_for_completion=False,
    )
    document = first_document(start_batch.output)
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
        batch_id="{{ ti.xcom_pull(task_ids='start_batch')['batch_id'] }}",
        mode="reschedule",
        poke_interval=2,
        timeout=600,
    )
    document >> wait_for_document
    start_batch >> wait_for_batch
    publish(wait_for_document.output, wait_for_batch.output)

    # The operator in one task: start the batch, wait in the triggerer, return the batch status object.
    translate_policies = AzureDocumentTranslationOperator(
        task_id="translate_policies",
        source_url=POLICIES_SOURCE,
        target_url=POLICIES_TARGET,
        target_language="de",
        deferrable=True,
        poll_interval=2,
        timeout=600,
    )

    @task
    def summarize(batch: dict) -> str:
        summary = batch["summary"]
        line = f"Batch {batch['id']} {batch['status']}: {summary['success']} of {summary['total']} policies translated"
        print(line)
        return line

    summarize(translate_policies.output)
    # After the document sensor: the sensor then meets its document still in progress, and defers.
    wait_for_document >> translate_policies


example_azure_translation()
