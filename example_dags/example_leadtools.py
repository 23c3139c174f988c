"""LEADTOOLS Cloud Services: start OCR, wait for it, and use the recognized text downstream.

Two ways are shown:

- ``ocr_invoice``, the operator: starts ``ExtractText`` and waits in the triggerer
  (no worker slot held while it waits), in one task: start, wait, use;
- ``wait_for_queued_ocr``, the sensor, for a job started elsewhere: here a file
  uploaded first and started with ``Run`` (the "queued services" workflow), in
  reschedule mode.

Point the ``leadtools_default`` connection at the real service, or at the
simulator (``python -m airflow_docstatus.simulator``) to try it offline.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import dag, task

from airflow_docstatus.operators.leadtools import LeadtoolsExtractTextOperator
from airflow_docstatus.sensors.leadtools import LeadtoolsQuerySensor

INVOICE_URL = "https://example.com/scans/invoice-0042.pdf"
CONTRACT_URL = "https://example.com/scans/contract-7.pdf"


@dag(
    dag_id="example_leadtools",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["docstatus", "example", "leadtools"],
)
def example_leadtools():
    @task
    def upload_and_run(url: str) -> str:
        """Upload a file, queue OCR on it, then Run it."""
        from airflow_docstatus.hooks.leadtools import LeadtoolsHook

        hook = LeadtoolsHook()
        file_id = hook.upload_file(url)
        hook.queue_extract_text(file_id)
        hook.run(file_id)
        return file_id

    @task
    def print_text(request_data: list[dict]) -> str:
        """Read the recognized text out of RequestData."""
        text = "\n".join(
            item["Text"]
            for request in request_data
            if request.get("RecognitionType") == "Text"
            for item in request.get("data", [])
            if "Text" in item
        )
        print(f"Recognized text:\n{text}")
        if not text:
            raise ValueError("the OCR result holds no text")
        return text

    ocr_invoice = LeadtoolsExtractTextOperator(
        task_id="ocr_invoice",
        file_url=INVOICE_URL,
        deferrable=True,
        poll_interval=2,
        timeout=600,
    )
    print_text.override(task_id="print_invoice_text")(ocr_invoice.output)

    wait_for_queued_ocr = LeadtoolsQuerySensor(
        task_id="wait_for_queued_ocr",
        file_id=upload_and_run(CONTRACT_URL),
        mode="reschedule",
        poke_interval=2,
        timeout=600,
    )
    print_text.override(task_id="print_contract_text")(wait_for_queued_ocr.output)


example_leadtools()
