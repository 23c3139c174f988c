"""LeadtoolsQuerySensor in poke, reschedule and deferrable mode, through ``airflow dags test``.

Each test creates a scripted document on the simulator, runs a DAG from
``tests/dags`` with ``airflow dags test`` (which runs triggers inline), then
reads task states and XComs from the metadata database.
"""

from __future__ import annotations

import json

import pytest

from tests.dagtest.support import dags_test, last_run, output_of

pytestmark = pytest.mark.dagtest

TEXT = [{"ServiceType": "Recognition", "RecognitionType": "Text", "data": [{"PageNumber": 1, "Text": "42"}]}]
DONE_AFTER_WAITING = [{"status": 123, "polls": 1}, {"status": 100, "polls": 1}, {"status": 200, "payload": TEXT}]
MODES = ["poke", "reschedule", "deferrable"]


@pytest.mark.parametrize("mode", MODES)
def test_success_returns_request_data_and_pushes_docstatus(simulator, sim_connections, dags_folder, mode):
    file_id = simulator.create("leadtools", DONE_AFTER_WAITING)
    done = dags_test(f"lt_{mode}", {"file_id": file_id})
    run = last_run(f"lt_{mode}")
    assert done.returncode == 0, output_of(done)[-3000:]
    assert run["tasks"] == {"wait": "success", "downstream": "success"}
    assert run["xcom"][("wait", "return_value")] == TEXT
    assert run["xcom"][("downstream", "return_value")] == 1
    record = run["xcom"][("wait", "docstatus")]
    assert record["vendor"] == "leadtools" and record["state"] == "succeeded"
    assert record["ref"] == {"file_id": file_id} and record["vendor_status"] == "200"
    calls = simulator.document("leadtools", file_id)["status_calls"]
    assert calls == 3, f"{mode}: expected 3 Query calls, saw {calls}"
    log = output_of(done)
    if mode == "deferrable":
        assert "deferring to the triggerer (LeadtoolsQueryTrigger)" in log
    assert "leadtools file_id=" in log and "next poll in" in log


def test_start_from_trigger_runs_as_a_deferrable_sensor_under_dags_test(simulator, sim_connections, dags_folder):
    """``airflow dags test`` runs every task on its in-process worker, never through the scheduler's
    start_from_trigger path: the sensor then pokes once, defers, and finishes in execute_complete."""
    file_id = simulator.create("leadtools", DONE_AFTER_WAITING)
    done = dags_test("lt_start_from_trigger", {"file_id": file_id})
    run = last_run("lt_start_from_trigger")
    assert done.returncode == 0, output_of(done)[-3000:]
    assert run["tasks"] == {"wait": "success", "downstream": "success"}
    assert run["xcom"][("wait", "return_value")] == TEXT
    assert run["xcom"][("wait", "docstatus")]["ref"] == {"file_id": file_id}
    log = output_of(done)
    assert "deferring to the triggerer (LeadtoolsQueryTrigger)" in log
    assert "started in the triggerer" not in log
    assert simulator.document("leadtools", file_id)["status_calls"] == 3


@pytest.mark.parametrize("mode", MODES)
def test_rejected_file_fails_without_retries_and_names_502(simulator, sim_connections, dags_folder, mode):
    file_id = simulator.create("leadtools", [{"status": 123, "polls": 1}, {"status": 502}])
    done = dags_test(f"lt_{mode}", {"file_id": file_id})
    run = last_run(f"lt_{mode}")
    assert done.returncode != 0
    assert run["tasks"]["wait"] == "failed" and run["tasks"]["downstream"] == "upstream_failed"
    log = output_of(done)
    assert "LEADTOOLS reported a failure for file_id=" in log and "status 502" in log
    assert "rejected by verification" in log


@pytest.mark.parametrize("mode", MODES)
def test_timeout_fails_and_soft_fail_skips(simulator, sim_connections, dags_folder, mode):
    file_id = simulator.create("leadtools", [{"status": 100}])
    done = dags_test(f"lt_{mode}_timeout", {"file_id": file_id})
    assert done.returncode != 0
    assert last_run(f"lt_{mode}_timeout")["tasks"]["wait"] == "failed"
    assert "timed out" in output_of(done)
    done = dags_test(f"lt_{mode}_softfail", {"file_id": file_id})
    run = last_run(f"lt_{mode}_softfail")
    assert run["tasks"] == {"wait": "skipped", "downstream": "skipped"}, output_of(done)[-3000:]


@pytest.mark.parametrize("mode", MODES)
def test_wrong_password_fails_at_once_naming_the_connection(simulator, connection, dags_folder, mode, monkeypatch):
    conn_id = connection("lt_canary", "leadtools", password="canary-dagtest-pw-77")
    file_id = simulator.create("leadtools", DONE_AFTER_WAITING)
    done = dags_test(f"lt_{mode}", {"file_id": file_id, "conn_id": conn_id})
    run = last_run(f"lt_{mode}")
    log = output_of(done)
    assert run["tasks"]["wait"] == "failed"
    assert "'lt_canary'" in log and "HTTP 401" in log
    assert "canary-dagtest-pw-77" not in log
    assert "canary-dagtest-pw-77" not in json.dumps({str(k): v for k, v in run["xcom"].items()}, default=str)
