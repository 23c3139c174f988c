"""A triggerer killed with SIGKILL while a deferrable sensor waits: a new triggerer finishes the wait.

The document stays "processing" for 30 s. Once the sensor has deferred and
a triggerer has taken its trigger, the test kills that triggerer's whole
process group with SIGKILL (no clean shutdown, as when a node dies), starts
a new triggerer, and checks that the new one takes the trigger over (the
scheduler's health check frees it once the dead one stops heartbeating),
keeps polling with the same deadline, and that the run succeeds with the
payload in XCom.
"""

from __future__ import annotations

import re
import time
from datetime import datetime

import pytest

from tests.deployment.harness import AirflowDeployment, WatchedRun, watch

pytestmark = pytest.mark.deployment

DAG_ID = "deploy_triggerer_restart"
TEXT = [{"ServiceType": "Recognition", "RecognitionType": "Text", "data": [{"PageNumber": 1, "Text": "restart"}]}]
SLOW_SCRIPT = [{"status": 123, "seconds": 1}, {"status": 100, "seconds": 30, "message": "processing"},
               {"status": 200, "payload": TEXT}]


def trigger_row(deployment: AirflowDeployment, run_id: str) -> dict:
    ti = deployment.task_instances(DAG_ID, run_id)["wait"]
    return {"state": ti["state"], "trigger": ti.get("trigger") or {}, "job": (ti.get("triggerer_job") or {}).get("id")}


def test_a_new_triggerer_finishes_the_wait_after_sigkill(deployment):
    file_id = deployment.simulator.create("leadtools", SLOW_SCRIPT)
    run_id = deployment.trigger(DAG_ID, {"file_id": file_id})
    deadline = time.monotonic() + 120

    taken = deployment.wait_for(
        lambda: (row := trigger_row(deployment, run_id))["state"] == "deferred" and row["job"] and row,
        "the sensor to defer and a triggerer to take its trigger", deadline,
    )
    old_job = taken["job"]
    calls_before = deployment.simulator.document("leadtools", file_id)["status_calls"]
    deployment.wait_for(  # the old triggerer is really polling: at least one poll from it
        lambda: deployment.simulator.document("leadtools", file_id)["status_calls"] > calls_before,
        "the first poll from the triggerer", deadline,
    )

    old = deployment.processes["triggerer"]
    deployment.kill("triggerer")
    killed_at = time.time()
    assert old.returncode == -9
    assert deployment.simulator.document("leadtools", file_id)["status"] == 100, "done before the kill: too early"
    assert trigger_row(deployment, run_id)["state"] == "deferred"
    deployment.start_component("triggerer")
    moved = deployment.wait_for(
        lambda: (row := trigger_row(deployment, run_id))["job"] not in (None, old_job) and row,
        "a new triggerer to take the trigger over", time.monotonic() + 120,
    )
    # the same trigger row (so the same serialized deadline), now run by the new triggerer
    assert moved["state"] == "deferred" and moved["trigger"]["id"] == taken["trigger"]["id"], (taken, moved)

    run = WatchedRun(DAG_ID, run_id)
    watch(deployment, [run], timeout=180)
    log = deployment.task_log(DAG_ID, run_id, "wait", 1)
    log_text = "\n".join(str(line.get("event")) for line in log)
    context = f"seen: {run.seen}\n{log_text}\n{deployment.component_logs()}"
    assert run.state == "success", context
    assert {ti["state"] for ti in run.task_instances.values()} == {"success"}, context
    assert deployment.xcom(DAG_ID, run_id, "wait", "return_value") == TEXT
    assert deployment.xcom(DAG_ID, run_id, "downstream", "return_value") == 1
    record = deployment.xcom(DAG_ID, run_id, "wait", "docstatus")
    assert record["ref"] == {"file_id": file_id} and record["vendor_status"] == "200"

    calls_after_kill = [call for call in deployment.simulator.document("leadtools", file_id)["calls"]
                        if call["t"] > killed_at]
    assert len(calls_after_kill) >= 2, context

    # the task log, as the UI shows it: one deferring line, progress lines (issue 15: on a change, and
    # "still waiting" at most once a minute; every poll only at DEBUG), one completion line
    about = f"leadtools file_id={file_id} status="
    assert log_text.count("; deferring to the triggerer (LeadtoolsQueryTrigger), polling every 2s until ") == 1
    assert log_text.count("; done, returning a list of 1 item(s), ") == 1, context
    lines_after_kill = [line["event"] for line in log if str(line.get("event")).startswith(about)
                        and datetime.fromisoformat(line["timestamp"].replace("Z", "+00:00")).timestamp() > killed_at]
    polls_after_kill = [line for line in lines_after_kill if "; done, returning " not in line]  # the worker's line
    # the new triggerer's first poll writes the status (its wait counted from the sensor's first poke),
    # the unchanged polls after it write at INFO only once a minute ("still waiting")
    assert 2 <= len(polls_after_kill) <= len(calls_after_kill), context
    assert re.search(rf"^{about}100 \(waiting\) message='processing'; waited \w+; next poll in 2\.0s$",
                     polls_after_kill[0]), context
    assert all(re.search(r"; (waited|still waiting after) \w+; next poll in 2\.0s$", line)
               for line in polls_after_kill[:-1]), context
    assert polls_after_kill[-1] == f"{about}200 (succeeded) message='done'; done", context
