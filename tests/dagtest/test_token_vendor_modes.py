"""expert.ai Extract and SmartDocumentor sensors in poke, reschedule and deferrable mode, via ``airflow dags test``.

Each run of ``<vendor>_modes`` (tests/dags/token_vendor_modes.py) waits on
three documents, one per mode, each answering "still waiting" five times
before it succeeds. Tokens live 3 s during the success run, so the wait
outlives them and they are renewed mid-wait.
"""

from __future__ import annotations

import json

import pytest

from tests.dagtest.support import dags_test, last_run, output_of

pytestmark = pytest.mark.dagtest

MODES = ("poke", "reschedule", "deferrable")
CANARY = "canary-dagtest-token-vendor-pw-90"
RESULT = {"header": {"documentName": "r.pdf", "totPages": 1}, "layout": [{"id": 0, "type": "title"}], "words": []}

VENDORS = {
    "expertai": {
        "conn_type": "expertai_extract",
        "trigger": "ExpertAiExtractStatusTrigger",
        "success": [{"status": "PENDING", "polls": 1},
                    {"status": "PROGRESS", "current": 40, "message": "layout analysis", "polls": 4},
                    {"status": "SUCCESS", "payload": RESULT}],
        "payload": RESULT,
        "progress_line": "progress=40% message='layout analysis'",
        "failure": [{"status": "PENDING", "polls": 1}, {"status": "FAILURE", "message": "the PDF is encrypted"}],
        "failure_line": "status FAILURE: the PDF is encrypted",
    },
    "smartdocumentor": {
        "conn_type": "smartdocumentor",
        "trigger": "SmartDocumentorTaskStatusTrigger",
        "success": [{"status": "PreProcessingInProgress", "polls": 1}, {"status": "ToReview", "polls": 4},
                    {"status": "Processed", "integration_status": "Successful"}],
        "payload": None,  # the status object: checked by its fields below
        "progress_line": "the task waits for a person to review it",
        "failure": [{"status": "PreProcessingInProgress", "polls": 1}, {"status": "PreProcessingDownloadFailed"}],
        "failure_line": "status PreProcessingDownloadFailed",
    },
}


def documents(simulator, vendor: str, script: list[dict]) -> dict[str, str]:
    return {mode: simulator.create(vendor, script) for mode in MODES}


@pytest.fixture(params=list(VENDORS))
def vendor(request, sim_connections):
    return request.param


def test_all_modes_succeed_renewing_expiring_tokens_and_hand_the_payload_on(vendor, simulator, dags_folder):
    spec = VENDORS[vendor]
    ids = documents(simulator, vendor, spec["success"])
    before = simulator.token_calls(vendor)
    simulator.token_lifetime(vendor, 3)
    try:
        done = dags_test(f"{vendor}_modes", {"ids": ids})
    finally:
        simulator.token_lifetime(vendor, 3600)
    run, log = last_run(f"{vendor}_modes"), output_of(done)
    assert done.returncode == 0, log[-4000:]
    assert set(run["tasks"].values()) == {"success"}, run["tasks"]
    for mode in MODES:
        payload = run["xcom"][(f"wait_{mode}", "return_value")]
        if spec["payload"] is not None:
            assert payload == spec["payload"]
        else:
            assert payload["taskStatusText"] == "Processed" and str(payload["taskId"]) == str(ids[mode])
        assert run["xcom"][(f"use_{mode}", "return_value")] == len(json.dumps(payload))
        record = run["xcom"][(f"wait_{mode}", "docstatus")]
        assert record["vendor"] == vendor and record["state"] == "succeeded"
    assert spec["progress_line"] in log and "next poll in" in log
    assert f"deferring to the triggerer ({spec['trigger']})" in log
    assert simulator.token_calls(vendor) - before >= 3, "tokens living 3 s must have been renewed mid-wait"
    assert "eyJ" not in log, "a JWT reached the task log"


def test_a_vendor_failure_fails_every_mode_with_the_vendor_message(vendor, simulator, dags_folder):
    spec = VENDORS[vendor]
    done = dags_test(f"{vendor}_modes", {"ids": documents(simulator, vendor, spec["failure"])})
    run, log = last_run(f"{vendor}_modes"), output_of(done)
    assert done.returncode != 0
    for mode in MODES:
        assert run["tasks"][f"wait_{mode}"] == "failed" and run["tasks"][f"use_{mode}"] == "upstream_failed"
        assert run["tries"][f"wait_{mode}"] == 1
    assert spec["failure_line"] in log


def test_refused_credentials_fail_every_mode_naming_the_connection_never_the_secret(
    vendor, simulator, connection, dags_folder
):
    spec = VENDORS[vendor]
    conn_id = connection(f"{vendor}_dag_canary", spec["conn_type"], password=CANARY)
    done = dags_test(f"{vendor}_modes", {"ids": documents(simulator, vendor, spec["success"]), "conn_id": conn_id})
    run, log = last_run(f"{vendor}_modes"), output_of(done)
    assert [run["tasks"][f"wait_{mode}"] for mode in MODES] == ["failed"] * 3
    assert f"'{conn_id}'" in log and "could not obtain a token" in log
    assert CANARY not in log
    assert CANARY not in json.dumps({str(k): v for k, v in run["xcom"].items()}, default=str)
