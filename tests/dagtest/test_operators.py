"""Every vendor's operator through ``airflow dags test`` against the simulator: start, wait, retry, kill.

One run of ``docstatus_operators`` (tests/dags/operators.py) covers the three
ways of every operator and the retry cases; one run of
``docstatus_operator_kill`` kills an Azure operator waiting in the worker the
way Airflow's supervisor does (SIGTERM to the task process). The simulator
counts the start calls of each source, so a retry that started nothing new is
seen, not assumed.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests._compat import HAS_TASK_STATE_STORE
from tests.dagtest.support import last_run

pytestmark = pytest.mark.dagtest
# What the operator logs on an Airflow without a task state store (before 3.3).
NO_STORE_WARNING = "this Airflow has no task state store (Airflow 3.3+): a retry of this task"

VENDORS = {"lt": "leadtools", "cora": "cora", "xai": "expertai", "sd": "smartdocumentor", "azt": "azure_translation"}
REF_KEYS = {"lt": {"file_id"}, "cora": {"master_workflow_instance_id"}, "xai": {"extract_task_id"},
            "sd": {"sd_task_id", "external_id"}, "azt": {"batch_id"}}
PAYLOAD_TYPES = {"lt": list, "cora": dict, "xai": dict, "sd": dict, "azt": dict}
AZURE_SECRET = "SECRETSIG"


def source(vendor: str, run: str, task_id: str) -> str:
    """The source the simulator counts a task's starts under (see tests/dags/operators.py)."""
    return {
        "lt": f"https://files.example.com/{run}/{task_id}/{'slow' if task_id == 'lt_retry_running' else 'barcode'}.pdf",
        "cora": f"{run}-{task_id}/default.tif",
        "xai": f"{run}-{task_id}/{'failed' if task_id == 'xai_retry_failed' else 'default'}.pdf",
        "sd": f"{run}-{task_id}",
        "azt": f"https://simstorage.blob.core.windows.net/{run}-{task_id}/{'slow' if task_id == 'azt_killed' else 'default'}",
    }[vendor]


def airflow_dags_test(dag_id: str, conf: dict) -> subprocess.Popen:
    airflow = Path(sys.executable).with_name("airflow")
    return subprocess.Popen(
        [str(airflow), "dags", "test", dag_id, "-c", json.dumps(conf)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )


@pytest.fixture
def short_read_connections(simulator, connection):
    """Connections whose read timeout (1 s) is shorter than a slow start answer."""
    token_url = simulator.url.rstrip("/") + "/smartdocumentor/connect/token"
    connection("sd_short_read", "smartdocumentor", extra={"scope": "WebAPI", "token_url": token_url, "read_timeout": 1})
    connection("azt_short_read", "azure_document_translation", extra={"read_timeout": 1})


def test_every_operator_three_ways_and_retries_that_reconnect(simulator, sim_connections, short_read_connections,
                                                              dags_folder):
    run = uuid.uuid4().hex[:8]
    simulator.lose_next_start_answer("smartdocumentor", source(
        "sd", run, "sd_lost_start"), fault="slow", delay=3)
    simulator.lose_next_start_answer("azure_translation", source("azt", run, "azt_lost_start"), fault="slow", delay=3)

    started = time.monotonic()
    process = airflow_dags_test("docstatus_operators", {"run": run})
    log, _ = process.communicate(timeout=600)
    elapsed = time.monotonic() - started
    result = last_run("docstatus_operators")
    tasks, xcom = result["tasks"], result["xcom"]
    print(f"docstatus_operators ran in {elapsed:.1f}s")

    for short, vendor in VENDORS.items():
        for way in ("start_only", "worker", "deferred"):
            task_id = f"{short}_{way}"
            assert tasks[task_id] == "success" and tasks[f"use_{task_id}"] == "success", (task_id, log[-6000:])
            assert simulator.start_calls(vendor, source(short, run, task_id)) == 1, task_id
            ref = xcom[(task_id, "job_ref")]
            assert REF_KEYS[short] <= set(ref), (task_id, ref)
            value = xcom[(task_id, "return_value")]
            if way == "start_only":
                assert value == ref and (task_id, "docstatus") not in xcom
            else:
                assert isinstance(value, PAYLOAD_TYPES[short]), (task_id, value)
                record = xcom[(task_id, "docstatus")]
                assert record["state"] == "succeeded" and record["ref"] == ref, (task_id, record)
    assert "started LEADTOOLS ExtractText job: job_ref=" in log
    assert "deferring to the triggerer (AzureTranslationBatchStatusTrigger)" in log
    assert xcom[("azt_worker", "return_value")]["status"] == "Succeeded"

    # Killed; the job finished before the retry: returned without a start. LEADTOOLS has no cancel call.
    # Before Airflow 3.3 (no task state store) the retry starts a new job, saying so, and waits for it
    # under the same execution_timeout, which kills it too.
    assert "job runs on: LEADTOOLS has no cancel call" in log
    assert result["tries"]["lt_retry_done"] == 2
    if HAS_TASK_STATE_STORE:
        assert tasks["lt_retry_done"] == "success"
        assert "Job already completed successfully, skipping resubmission" in log
        assert simulator.start_calls("leadtools", source("lt", run, "lt_retry_done")) == 1
        assert xcom[("lt_retry_done", "docstatus")]["state"] == "succeeded"
        assert NO_STORE_WARNING not in log
    else:
        assert tasks["lt_retry_done"] == "failed"
        assert simulator.start_calls("leadtools", source("lt", run, "lt_retry_done")) == 2
        assert NO_STORE_WARNING in log
    # Killed; the job then failed: the retry started a new one (which failed too, without retries).
    assert tasks["xai_retry_failed"] == "failed" and result["tries"]["xai_retry_failed"] == 2
    assert simulator.start_calls("expertai", source("xai", run, "xai_retry_failed")) == 2
    if HAS_TASK_STATE_STORE:
        assert "ended in failure: starting a new job" in log and "Prior job in terminal state" in log
    # The start's answer was lost: the try failed saying so, the retry found the task by externalId.
    assert tasks["sd_lost_start"] == "success" and result["tries"]["sd_lost_start"] == 2
    assert simulator.start_calls("smartdocumentor", source("sd", run, "sd_lost_start")) == 1
    assert "found the SmartDocumentor job this task started already" in log
    # Without an idempotent start: the try fails with the warning, and no second start in the try.
    assert tasks["azt_lost_start"] == "failed" and result["tries"]["azt_lost_start"] == 1
    assert simulator.start_calls("azure_translation", source("azt", run, "azt_lost_start")) == 1
    assert "The job may have started" in log
    assert AZURE_SECRET not in log
    assert AZURE_SECRET not in json.dumps({str(k): v for k, v in xcom.items()}, default=str)


def test_an_azure_operator_killed_in_the_worker_cancels_its_batch(simulator, sim_connections, dags_folder):
    run = uuid.uuid4().hex[:8]
    before = simulator.cancel_calls("azure_translation")
    process = airflow_dags_test("docstatus_operator_kill", {"run": run})
    deadline = time.monotonic() + 120
    while simulator.start_calls("azure_translation", source("azt", run, "azt_killed")) == 0:
        assert process.poll() is None and time.monotonic() < deadline, "the operator never started its batch"
        time.sleep(0.2)
    time.sleep(2)  # waiting now, in the worker
    process.send_signal(signal.SIGTERM)  # what the supervisor sends the task process on a kill
    log, _ = process.communicate(timeout=120)
    result = last_run("docstatus_operator_kill")
    batch_id = result["xcom"][("azt_killed", "job_ref")]["batch_id"]
    assert simulator.cancel_calls("azure_translation") == before + 1
    assert "asked Azure Document Translation to cancel the job batch_id=" + batch_id in log
    assert result["tasks"]["azt_killed"] == "failed"
    assert "status Cancel" in log, log[-4000:]
    # The other task: killed by execution_timeout while its 22-s job ran; the retry reconnected to it
    # (before Airflow 3.3, with no task state store: started a new job, with a warning).
    assert result["tasks"]["lt_retry_running"] == "success" and result["tries"]["lt_retry_running"] == 2
    if HAS_TASK_STATE_STORE:
        assert simulator.start_calls("leadtools", source("lt", run, "lt_retry_running")) == 1
        assert "reconnecting to the LEADTOOLS job started by an earlier try" in log
        assert "Reconnecting to existing job" in log
    else:
        assert simulator.start_calls("leadtools", source("lt", run, "lt_retry_running")) == 2
        assert NO_STORE_WARNING in log and "reconnecting to the LEADTOOLS job" not in log
    assert isinstance(result["xcom"][("lt_retry_running", "return_value")], list)
