"""SmartDocumentor Cloud: create a task, wait until it is processed, and use its status downstream.

``create_task`` calls ``sdtask/process`` with an external id of our own;
``wait_for_task`` waits by that external id in reschedule mode (no worker
slot held between polls) and returns the status object, which
``report`` reads.

``process_receipts`` is the operator: it creates the task and waits for it in
the triggerer in one task; its ``externalId`` makes a retry find the task
rather than create another.

Point the ``smartdocumentor_default`` connection at the real service, or at
the simulator (``python -m airflow_docstatus.simulator``) to try it offline.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import dag, task

from airflow_docstatus.operators.smartdocumentor import SmartDocumentorProcessTaskOperator
from airflow_docstatus.sensors.smartdocumentor import SmartDocumentorTaskStatusSensor


@dag(
    dag_id="example_smartdocumentor",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["docstatus", "example", "smartdocumentor"],
)
def example_smartdocumentor():
    @task
    def create_task(run_id=None) -> str:
        """Create a task under an external id made from the run id, and return that id."""
        from airflow_docstatus.hooks.smartdocumentor import SmartDocumentorHook

        external_id = f"invoice-batch-{run_id}"
        SmartDocumentorHook().process_task(externalId=external_id, displayName="Invoice batch")
        return external_id

    @task
    def report(status: dict) -> str:
        """Report what SmartDocumentor did with the task; the report goes to XCom."""
        line = (
            f"task {status['taskId']} ({status.get('externalId')}): {status['taskStatusText']}, "
            f"integration {status.get('integrationStatusText')}, {status.get('totalPages')} page(s)"
        )
        print(line)
        return line

    wait_for_task = SmartDocumentorTaskStatusSensor(
        task_id="wait_for_task",
        external_id=create_task(),
        mode="reschedule",
        poke_interval=2,
        timeout=600,
    )
    report(wait_for_task.output)

    # The operator: creates the task and waits in the triggerer. Its externalId makes
    # the start idempotent: a retry finds the task instead of creating another.
    process_receipts = SmartDocumentorProcessTaskOperator(
        task_id="process_receipts",
        task={"externalId": "receipts-{{ run_id }}", "displayName": "Receipts"},
        deferrable=True,
        poll_interval=2,
        timeout=600,
    )
    report.override(task_id="report_receipts")(process_receipts.output)


example_smartdocumentor()
