"""The Azure sensors in poke, reschedule and deferrable mode, through ``airflow dags test``.

Two runs cover every mode: ``azt_success`` (each document meets two 429s, then
succeeds; each batch runs to Succeeded) and ``azt_failures`` (a failed
document, a partly failed batch with and without ``fail_on_document_failures``,
a wrong key).
"""

from __future__ import annotations

import json
import uuid

import pytest

from tests.dagtest.support import dags_test, last_run, output_of

pytestmark = pytest.mark.dagtest

VENDOR = "azure_translation"
MODES = ["poke", "reschedule", "deferrable"]
ERROR = {"code": "InvalidRequest", "message": "The document could not be translated.",
         "innerError": {"code": "NoTranslatableText", "message": "No translatable text found in the input document."}}


def create_document(simulator, script) -> dict:
    batch_id, doc_id = simulator.create(VENDOR, script, f"{uuid.uuid4()}:{uuid.uuid4()}").split(":")
    return {"batch_id": batch_id, "document_id": doc_id}


def test_every_mode_succeeds_through_two_429s_and_hands_the_path_downstream(simulator, sim_connections, dags_folder):
    conf, paths = {}, {}
    for mode in MODES:
        paths[mode] = f"https://simstorage.blob.core.windows.net/target/fr/{mode}.docx"
        conf[f"doc_{mode}"] = create_document(simulator, [
            {"status": "Running", "fault": "http_429", "retry_after": 1, "polls": 2},
            {"status": "Running", "polls": 1, "payload": {"progress": 0.5}},
            {"status": "Succeeded", "payload": {"path": paths[mode]}},
        ])
        conf[f"batch_{mode}"] = simulator.create(VENDOR, [
            {"status": "NotStarted", "polls": 1},
            {"status": "Running", "polls": 1, "payload": {"summary": {"total": 2, "inProgress": 2}}},
            {"status": "Succeeded", "payload": {"summary": {"total": 2, "success": 2}}},
        ], str(uuid.uuid4()))
    done = dags_test("azt_success", conf)
    run = last_run("azt_success")
    log = output_of(done)
    assert done.returncode == 0, log[-4000:]
    assert set(run["tasks"].values()) == {"success"}, run["tasks"]
    for mode in MODES:
        assert run["xcom"][(f"doc_{mode}", "return_value")] == paths[mode]
        record = run["xcom"][(f"doc_{mode}", "docstatus")]
        assert record["vendor"] == VENDOR and record["ref"] == conf[f"doc_{mode}"]
        assert record["vendor_status"] == "Succeeded" and record["progress"] == 1.0
        batch = run["xcom"][(f"batch_{mode}", "return_value")]
        assert batch["id"] == conf[f"batch_{mode}"] and batch["status"] == "Succeeded"
        assert run["xcom"][(f"use_{mode}", "return_value")] == f"{paths[mode]} (2 of 2 documents)"
        stored = f"{conf[f'doc_{mode}']['batch_id']}:{conf[f'doc_{mode}']['document_id']}"
        assert simulator.document(VENDOR, stored)["status_calls"] == 4, mode
        assert simulator.document(VENDOR, conf[f"batch_{mode}"])["status_calls"] == 3, mode
    assert "deferring to the triggerer (AzureDocumentTranslationStatusTrigger)" in log
    assert "deferring to the triggerer (AzureTranslationBatchStatusTrigger)" in log
    assert "HTTP 429 (too many requests): RequestRateTooHigh" in log
    assert "status=Running (waiting) progress=50%" in log and "next poll in" in log


def test_every_mode_fails_on_azures_failures_and_a_wrong_key(simulator, connection, sim_connections, dags_folder):
    conn_id = connection("azt_canary", "azure_document_translation", password="canary-dagtest-key-77")
    partial = str(uuid.uuid4())
    simulator.create(VENDOR, [{"status": "Succeeded"}], f"{partial}:{uuid.uuid4()}")
    simulator.create(VENDOR, [{"status": "Failed"}], f"{partial}:{uuid.uuid4()}")
    conf = {"batch_partial": partial, "bad_conn": conn_id, "doc_auth": create_document(simulator, [{"status": "Running"}])}
    for mode in MODES:
        conf[f"doc_failed_{mode}"] = create_document(
            simulator, [{"status": "Running", "polls": 1}, {"status": "Failed", "payload": {"error": ERROR}}]
        )
    done = dags_test("azt_failures", conf)
    run = last_run("azt_failures")
    log = output_of(done)
    assert done.returncode != 0
    for mode in MODES:
        assert run["tasks"][f"doc_failed_{mode}"] == "failed", log[-4000:]
        assert run["tasks"][f"batch_strict_{mode}"] == "failed"
        assert run["tasks"][f"batch_lenient_{mode}"] == "success"
        assert run["tasks"][f"auth_{mode}"] == "failed"
        lenient = run["xcom"][(f"batch_lenient_{mode}", "return_value")]
        assert lenient["summary"]["failed"] == 1 and lenient["summary"]["success"] == 1
        ids = conf[f"doc_failed_{mode}"]
        assert (f"Azure Document Translation reported a failure for batch_id={ids['batch_id']}, "
                f"document_id={ids['document_id']}: status Failed: InvalidRequest: The document could not be "
                "translated.; inner error NoTranslatableText: No translatable text found in the input document.") in log
    assert f"reported a failure for batch_id={partial}: status Succeeded: 1 of 2 document(s) failed" in log
    assert "'azt_canary'" in log and "HTTP 401" in log
    assert "canary-dagtest-key-77" not in log
    assert "canary-dagtest-key-77" not in json.dumps({str(k): v for k, v in run["xcom"].items()}, default=str)
    assert ("auth_poke", "up_for_retry") not in run["history"]
