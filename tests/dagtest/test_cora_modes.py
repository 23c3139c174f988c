"""CoraOcrStatusSensor in poke, reschedule and deferrable mode, through ``airflow dags test``.

One DAG holds the three modes as three sensor tasks, each on its own scripted
document (and, where a test says so, its own connection), so one
``airflow dags test`` run covers all three.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from tests.dagtest.support import dags_test, last_run, output_of

pytestmark = pytest.mark.dagtest

MODES = ["poke", "reschedule", "deferrable"]
NS = "http://genpact.com/cora/orchestration/ocr/1.0.0/api/"


def done_after_waiting(context: str) -> list[dict]:
    return [{"status": "Queued", "polls": 1}, {"status": "ProcessingInput", "polls": 1},
            {"status": "Completed", "payload": {"ExternalContext": context}}]


@pytest.mark.parametrize("version", ["1.1", "1.2"])
def test_completed_in_every_mode_returns_the_fields_and_feeds_downstream(simulator, connection, dags_folder,
                                                                         version):
    conn_id = connection(f"cora_dag_{version.replace('.', '')}", "cora_sequence",
                         extra={"auth": "basic", "soap_version": version})
    ids = {mode: simulator.create("cora", done_after_waiting(f"out/{mode}.xml")) for mode in MODES}
    done = dags_test("cora_modes", {"ids": ids, "conns": dict.fromkeys(MODES, conn_id)})
    run = last_run("cora_modes")
    log = output_of(done)
    assert done.returncode == 0, log[-3000:]
    assert set(run["tasks"].values()) == {"success"}
    for mode in MODES:
        assert run["xcom"][(f"wait_{mode}", "return_value")] == {
            "Status": "Completed", "ErrorCode": "NoError", "ExternalContext": f"out/{mode}.xml"}
        assert run["xcom"][(f"use_{mode}", "return_value")] == f"out/{mode}.xml"
        record = run["xcom"][(f"wait_{mode}", "docstatus")]
        assert record["vendor"] == "cora" and record["state"] == "succeeded"
        assert record["ref"] == {"master_workflow_instance_id": int(ids[mode])}
        view = simulator.document("cora", ids[mode])
        assert view["status_calls"] == 3, f"{mode}: expected 3 GetStatus calls, saw {view['status_calls']}"
        envelope = ET.fromstring(view["last_body"])
        header = envelope.find(f"{{*}}Header/{{{NS}}}ActivityMetadata")
        assert {c.tag.removeprefix(f"{{{NS}}}"): c.text for c in header} == {
            "WorkflowName": "cora_modes", "ActivityName": mode, "MasterWorkflowInstanceId": ids[mode]}
        content_type = view["last_headers"]["Content-Type"]
        assert content_type.startswith("text/xml" if version == "1.1" else "application/soap+xml")
    assert "deferring to the triggerer (CoraOcrStatusTrigger)" in log
    assert "cora master_workflow_instance_id=" in log and "status=Queued (waiting)" in log and "next poll in" in log


def test_failures_fail_without_retries_and_name_the_error(simulator, dags_folder, sim_connections):
    ids = {
        "poke": simulator.create("cora", [{"status": "Queued", "polls": 1},
                                          {"status": "Failed", "payload": {"ErrorCode": "InputFileNotFound"}}]),
        "reschedule": simulator.create("cora", [{"status": "Aborted", "payload": {"ErrorCode": "TimedOut"}}]),
        "deferrable": simulator.create("cora", [{"status": "Queued", "polls": 1},
                                                {"fault": "soap_client_fault", "message": "Profile X is not valid"}]),
    }
    done = dags_test("cora_modes", {"ids": ids})
    run = last_run("cora_modes")
    log = output_of(done)
    assert done.returncode != 0
    for mode in MODES:
        assert run["tasks"][f"wait_{mode}"] == "failed" and run["tasks"][f"use_{mode}"] == "upstream_failed"
        assert run["tries"][f"wait_{mode}"] == 1
    assert "Cora SeQuence OCR reported a failure for master_workflow_instance_id=" in log
    assert "status Failed: the OCR workflow failed; ErrorCode InputFileNotFound" in log
    assert "status Aborted: the OCR workflow was aborted; ErrorCode TimedOut" in log
    assert "answered with a SOAP Fault (HTTP 500): soap:Client: Profile X is not valid" in log


def test_wrong_password_fails_at_once_and_ntlm_is_refused_in_deferrable_mode(simulator, connection, dags_folder):
    bad = connection("cora_canary", "cora_sequence", password="canary-dagtest-pw-88", extra={"auth": "basic"})
    ntlm = connection("cora_ntlm", "cora_sequence", extra={"auth": "ntlm"})
    ids = {mode: simulator.create("cora", done_after_waiting("x")) for mode in MODES}
    done = dags_test("cora_modes", {"ids": ids, "conns": {"poke": bad, "reschedule": bad, "deferrable": ntlm}})
    run = last_run("cora_modes")
    log = output_of(done)
    assert {run["tasks"][f"wait_{mode}"] for mode in MODES} == {"failed"}
    assert "connection 'cora_canary'" in log and "HTTP 401" in log
    assert "canary-dagtest-pw-88" not in log
    assert "canary-dagtest-pw-88" not in json.dumps({str(k): v for k, v in run["xcom"].items()}, default=str)
    assert "uses NTLM authentication, which cannot be polled in deferrable mode" in log
    assert simulator.document("cora", ids["deferrable"])["status_calls"] == 0
    assert "deferring to the triggerer" not in log
