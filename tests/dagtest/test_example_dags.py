"""Every example DAG, end to end with ``airflow dags test``, against the simulator: what ``make demo`` runs."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from airflow_docstatus.simulator.sandbox import AirflowSandbox, example_dag_ids, running_simulator

pytestmark = pytest.mark.dagtest

EXAMPLES = Path(__file__).resolve().parent.parent.parent / "example_dags"
# The shipped scenario, but Azure's default document lasts 20 s, not 2.5 s: in example_azure_translation
# up to three tasks run between the batch's start and the deferrable document sensor's first poke, and
# the sensor must still find it running to defer (Airflow 3.2's `dags test` spends about 2 s starting a
# task, more on a loaded machine: 8 s was not always enough there).
SCENARIO = Path(__file__).resolve().parent / "examples_scenario.json"
DEMO = EXAMPLES.parent / "scripts" / "demo.py"


def load_demo():
    """scripts/demo.py as a module (scripts/ is no package)."""
    spec = importlib.util.spec_from_file_location("docstatus_demo", DEMO)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_there_is_an_example_dag_for_every_sensor_module():
    sensor_modules = {p.stem for p in (EXAMPLES.parent / "airflow_docstatus" / "sensors").glob("*.py")} - {"__init__"}
    assert {f"example_{m}" for m in sensor_modules} <= set(example_dag_ids(EXAMPLES))


def test_every_example_shows_its_vendors_operator_and_keeps_a_sensor():
    for path in EXAMPLES.glob("example_*.py"):
        vendor = path.stem.removeprefix("example_")
        text = path.read_text()
        assert f"airflow_docstatus.operators.{vendor} import" in text, path.name
        assert f"airflow_docstatus.sensors.{vendor} import" in text, path.name


# What each example's downstream tasks print, proving the payload reached them.
EXPECTED_OUTPUT = {
    "example_leadtools": [
        "Recognized text:\nINVOICE 0042\nFile: invoice-0042.pdf\n",
        "Recognized text:\nCONTRACT 7\nFile: contract-7.pdf\n",
        "started LEADTOOLS ExtractText job: job_ref={'file_id': ",
        "deferring to the triggerer (LeadtoolsQueryTrigger)",
    ],
    "example_azure_translation": [
        "Translated document: https://mystorage.blob.core.windows.net/contracts-fr/document-1.txt",
        "2 of 2 document(s) translated",
        "deferring to the triggerer (AzureDocumentTranslationStatusTrigger)",
        "policies translated",
        "deferring to the triggerer (AzureTranslationBatchStatusTrigger)",
        "started Azure Document Translation start translation job: job_ref={'batch_id': ",
    ],
    "example_expertai": [
        "quarterly-report.pdf: 2 page(s)",
        "annual-report.pdf: ",
        "Titles:\np1: ",
        "deferring to the triggerer (ExpertAiExtractStatusTrigger)",
    ],
    "example_cora": [
        "OCR Completed (NoError); ExternalContext: scans:ocr/2026/invoice-0042.xml",
        "OCR Completed (NoError); ExternalContext: scans:ocr/2026/receipt-17.xml",
        "deferring to the triggerer (CoraOcrStatusTrigger)",
    ],
    "example_smartdocumentor": [
        ", integration Successful, 3 page(s)",
        "(receipts-",
        "deferring to the triggerer (SmartDocumentorTaskStatusTrigger)",
    ],
}


@pytest.mark.parametrize("dag_id", example_dag_ids(EXAMPLES))
def test_example_dag_succeeds(dag_id, tmp_path):
    with running_simulator(SCENARIO) as url:
        sandbox = AirflowSandbox(tmp_path / "home", EXAMPLES, url)
        sandbox.prepare()
        result = sandbox.dags_test(dag_id)
        assert result.ok, result.output[-4000:]
        for expected in EXPECTED_OUTPUT[dag_id]:
            assert expected in result.output, (expected, result.output[-3000:])
        # what `make demo` prints for the DAG: its result tasks' return values, read back from the run
        lines = load_demo().result_lines(sandbox, dag_id)
    assert lines and not any("(no return value)" in line for line in lines), lines
    if dag_id == "example_leadtools":
        invoice, contract = lines
        assert invoice.startswith("print_invoice_text: INVOICE 0042 | File: invoice-0042.pdf | Reference: ")
        assert contract.startswith("print_contract_text: CONTRACT 7 | File: contract-7.pdf | ")


def test_the_demo_names_result_tasks_for_every_example_dag():
    assert set(load_demo().RESULT_TASKS) == set(example_dag_ids(EXAMPLES))
