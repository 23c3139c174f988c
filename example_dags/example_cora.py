"""Genpact Cora SeQuence OCR: submit a FileBatch, wait for it in the triggerer, use its ExternalContext downstream.

``submit_file_batch`` starts OCR of an invoice with the hook (``FileBatch``) and
hands the MasterWorkflowInstanceId to ``wait_for_ocr``, which polls ``GetStatus``
from the triggerer (no worker slot held while it waits). On ``Completed`` the
sensor returns ``{"Status", "ErrorCode", "ExternalContext"}``; ``read_output``
picks up the ExternalContext (here: where the robot wrote its output).

``ocr_receipt`` is the operator: FileBatch and the wait in one task (in the
triggerer too), with the same result.

Point the ``cora_sequence_default`` connection at your server (host: its base
URL; Basic auth, or NTLM in poke/reschedule mode), or at the simulator
(``python -m airflow_docstatus.simulator``) to try it offline.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import dag, task

from airflow_docstatus.operators.cora import CoraFileBatchOperator
from airflow_docstatus.sensors.cora import CoraOcrStatusSensor


@dag(
    dag_id="example_cora",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["docstatus", "example", "cora"],
)
def example_cora():
    @task
    def submit_file_batch() -> int:
        """Start OCR of one file with FileBatch; the MasterWorkflowInstanceId goes to XCom."""
        from airflow_docstatus.hooks.cora import CoraSequenceOcrHook

        return CoraSequenceOcrHook().file_batch(
            input_file={"Connection": "scans", "RelativeLocation": "inbox/2026", "FileName": "invoice-0042.pdf"},
            output_file={"Connection": "scans", "RelativeLocation": "ocr/2026", "FileName": "invoice-0042.xml"},
            ocr_profile="Invoices",
            timeout=600,
            external_context="scans:ocr/2026/invoice-0042.xml",
        )

    @task
    def read_output(result: dict) -> str:
        """Use the ExternalContext the service sent back with Completed."""
        context = result["ExternalContext"]
        print(f"OCR {result['Status']} ({result['ErrorCode']}); ExternalContext: {context}")
        if not context:
            raise ValueError("the OCR result carries no ExternalContext")
        return context

    wait_for_ocr = CoraOcrStatusSensor(
        task_id="wait_for_ocr",
        master_workflow_instance_id=submit_file_batch(),
        activity_metadata={"WorkflowName": "example_cora", "ActivityName": "wait_for_ocr"},
        deferrable=True,
        poke_interval=2,
        timeout=600,
    )
    read_output(wait_for_ocr.output)

    # The operator: FileBatch and the wait in one task, waiting in the triggerer.
    ocr_receipt = CoraFileBatchOperator(
        task_id="ocr_receipt",
        input_file={"Connection": "scans", "RelativeLocation": "inbox/2026", "FileName": "receipt-17.pdf"},
        output_file={"Connection": "scans", "RelativeLocation": "ocr/2026", "FileName": "receipt-17.xml"},
        ocr_profile="Receipts",
        file_batch_timeout=600,
        external_context="scans:ocr/2026/receipt-17.xml",
        activity_metadata={"WorkflowName": "example_cora", "ActivityName": "ocr_receipt"},
        deferrable=True,
        poll_interval=2,
        timeout=600,
    )
    read_output.override(task_id="read_receipt_output")(ocr_receipt.output)
    wait_for_ocr >> ocr_receipt  # one job at a time, so the sensor meets its job still running


example_cora()
