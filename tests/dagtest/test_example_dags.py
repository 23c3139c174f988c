"""Every example DAG, end to end with ``airflow dags test``, against the simulator: what ``make demo`` runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from airflow_docstatus.simulator.sandbox import AirflowSandbox, example_dag_ids, running_simulator

pytestmark = pytest.mark.dagtest

EXAMPLES = Path(__file__).resolve().parent.parent.parent / "example_dags"


def test_there_is_an_example_dag_for_every_sensor_module():
    sensor_modules = {p.stem for p in (EXAMPLES.parent / "airflow_docstatus" / "sensors").glob("*.py")} - {"__init__"}
    assert {f"example_{m}" for m in sensor_modules} <= set(example_dag_ids(EXAMPLES))


@pytest.mark.parametrize("dag_id", example_dag_ids(EXAMPLES))
def test_example_dag_succeeds(dag_id, tmp_path):
    with running_simulator() as url:
        sandbox = AirflowSandbox(tmp_path / "home", EXAMPLES, url)
        sandbox.prepare()
        result = sandbox.dags_test(dag_id)
    assert result.ok, result.output[-4000:]
    if dag_id == "example_leadtools":
        assert "Recognized text:\nINVOICE 2026-0042" in result.output
        assert "deferring to the triggerer (LeadtoolsQueryTrigger)" in result.output
    if dag_id == "example_cora":
        assert "OCR Completed (NoError); ExternalContext: scans:ocr/2026/invoice-0042.xml" in result.output
        assert "deferring to the triggerer (CoraOcrStatusTrigger)" in result.output
