"""expert.ai Extract: start layout analysis of a document, wait for it, and use the layout downstream.

``start_layout`` sends the document (base64) to ``layout-document-async``;
``wait_for_layout`` defers to the triggerer until the task succeeds, then
returns the ``result`` object (header, layout, words), which
``list_titles`` reads. Results can be many MB: see README, "Large payloads".

``annual_layout`` is the operator: start and wait in one task, in the triggerer.

Point the ``expertai_extract_default`` connection at the real service, or at
the simulator (``python -m airflow_docstatus.simulator``) to try it offline.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import dag, task

from airflow_docstatus.operators.expertai import ExpertAiExtractLayoutOperator
from airflow_docstatus.sensors.expertai import ExpertAiExtractStatusSensor

# A stand-in for a scanned PDF; a real DAG would read it from storage.
DOCUMENT = b"%PDF-1.7\n% quarterly report, 3 pages\n"


@dag(
    dag_id="example_expertai",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["docstatus", "example", "expertai"],
)
def example_expertai():
    @task
    def start_layout() -> str:
        """Start layout analysis; the task id goes to XCom."""
        from airflow_docstatus.hooks.expertai import ExpertAiExtractHook

        return ExpertAiExtractHook().layout_document_async(DOCUMENT, name="quarterly-report.pdf")

    @task
    def list_titles(result: dict) -> list[str]:
        """Pick the titles out of the layout, page by page."""
        titles = [
            f"p{item.get('page')}: {item.get('content')}"
            for item in result["layout"]
            if item.get("type") == "title"
        ]
        print(f"{result['header'].get('documentName')}: {result['header'].get('totPages')} page(s)")
        print("Titles:\n" + "\n".join(titles))
        return titles

    wait_for_layout = ExpertAiExtractStatusSensor(
        task_id="wait_for_layout",
        extract_task_id=start_layout(),
        deferrable=True,
        poke_interval=2,
        timeout=600,
    )
    list_titles(wait_for_layout.output)

    # The operator: start and wait in one task, in the triggerer.
    annual_layout = ExpertAiExtractLayoutOperator(
        task_id="annual_layout",
        document=DOCUMENT,
        document_name="annual-report.pdf",
        deferrable=True,
        poll_interval=2,
        timeout=600,
    )
    list_titles.override(task_id="list_annual_titles")(annual_layout.output)
    wait_for_layout >> annual_layout  # one job at a time, so the sensor meets its job still running


example_expertai()
