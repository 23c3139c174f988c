"""Sensors started and ended in the triggerer, in a real deployment: no task process on a worker.

Two independent counts of the task processes a wait starts on a worker: the
scheduler's "Received executor event ... for task instance" lines (one per
worker run the LocalExecutor reports back), and the lines the DAG's
``on_execute_callback`` appends to ``worker-runs.log`` in the Airflow home
(one per worker run, the first and each resume). A classic deferrable sensor
costs 2 on both; a sensor started in the triggerer whose document succeeds
costs 0, for every vendor, with a literal id, a templated one and one from an
upstream task's XCom; the upstream task itself costs 1 (so the counts can
see a worker run when there is one). Failures resume on a worker (1 run)
and fail the task.

The benchmark test runs ``DOCSTATUS_SFT_BENCH_WAITS`` (10 unless set) waits
each way, one after the other, and records wall time and CPU seconds of the
scheduler's process, of its whole process group (the LocalExecutor's workers
and the task processes they run) and of the triggerer's group, in
``test-artifacts/sft-bench.json`` (docs/benchmarks.md has the figures at 100).
"""

from __future__ import annotations

import json
import os
import re
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest

from tests.deployment.harness import ARTIFACTS, AirflowDeployment, WatchedRun, watch

pytestmark = pytest.mark.deployment

DAG_ID = "deploy_start_from_trigger"
LITERAL_FILE_ID = "5b0c3f6e-2f1d-4c8e-9a41-0d3c5e7f9a12"  # as in dags/deploy_start_from_trigger.py
BENCH_WAITS = int(os.environ.get("DOCSTATUS_SFT_BENCH_WAITS", "10"))
TEXT = [{"ServiceType": "Recognition", "RecognitionType": "Text", "data": [{"PageNumber": 1, "Text": "sft-secret-ish"}]}]
RESULT = {"header": {"documentName": "sft.pdf", "totPages": 1}, "layout": [], "words": []}
PATH = "https://simstorage.blob.core.windows.net/target/fr/sft.docx"
SENSORS_IN_THE_TRIGGERER = ("literal", "from_xcom", "azure_document", "azure_batch", "cora", "expertai",
                            "smartdocumentor")
EXECUTOR_EVENT = re.compile(
    r"Received executor event with state \w+ for task instance "
    r"TaskInstanceKey\(dag_id='(?P<dag>[^']+)', task_id='(?P<task>[^']+)', run_id='(?P<run>[^']+)'"
)


DOC_SECONDS = 8  # every document waits this long, so each sensor really waits


def leadtools_doc(deployment: AirflowDeployment, doc_id: str | None = None, seconds: float = DOC_SECONDS) -> str:
    """A LEADTOOLS document that answers "processing" to the first look, then for ``seconds`` more, then succeeds.

    Timed from the first look, not from its creation: a classic sensor's first
    poke always finds it waiting and defers, however busy the machine.
    """
    return deployment.simulator.create("leadtools", [{"status": 100, "polls": 1}, {"status": 100, "seconds": seconds},
                                                     {"status": 200, "payload": TEXT}], doc_id)


def executor_runs(deployment: AirflowDeployment, dag_id: str, run_id: str) -> Counter:
    """Worker runs per task of one DAG run, as the scheduler heard of them from the executor."""
    runs: Counter = Counter()
    for path in sorted(deployment.logs_folder.glob("scheduler.*.log")):
        for match in EXECUTOR_EVENT.finditer(path.read_text(errors="replace")):
            if match["dag"] == dag_id and match["run"] == run_id:
                runs[match["task"]] += 1
    return runs


def settled_executor_runs(deployment: AirflowDeployment, dag_id: str, run_id: str) -> Counter:
    """``executor_runs`` once the scheduler has caught up with every worker run the callbacks saw.

    The run can be marked done a heartbeat before the scheduler processes the
    executor's event for the last worker run: wait (up to 20 s) until it has.
    """
    workers = callback_runs(deployment, dag_id, run_id)
    return deployment.wait_for(
        lambda: (seen := executor_runs(deployment, dag_id, run_id)) >= workers and seen,
        f"the scheduler to hear of every worker run of {dag_id}: {dict(workers)}", time.monotonic() + 20,
    ) if workers else executor_runs(deployment, dag_id, run_id)


def callback_runs(deployment: AirflowDeployment, dag_id: str, run_id: str) -> Counter:
    """Worker runs per task of one DAG run, as the tasks' on_execute_callback wrote them down."""
    path = deployment.home / "worker-runs.log"
    lines = path.read_text().splitlines() if path.exists() else []
    return Counter(task for dag, run, task, _ in (line.split() for line in lines) if (dag, run) == (dag_id, run_id))


@pytest.fixture(scope="module")
def sft_run(deployment: AirflowDeployment) -> WatchedRun:
    sim = deployment.simulator
    azure = sim.create("azure_translation", [{"status": "Running", "seconds": DOC_SECONDS},
                                             {"status": "Succeeded", "payload": {"path": PATH}}],
                       f"{uuid.uuid4()}:{uuid.uuid4()}")
    batch, document = azure.split(":")
    conf = {
        "classic": leadtools_doc(deployment),
        "from_xcom": leadtools_doc(deployment),
        "azure_batch": batch,
        "azure_document": document,
        "cora": sim.create("cora", [{"status": "Queued", "seconds": DOC_SECONDS}, {"status": "Completed"}]),
        "expertai": sim.create("expertai", [{"status": "PENDING", "seconds": DOC_SECONDS},
                                            {"status": "SUCCESS", "payload": RESULT}]),
        "smartdocumentor": sim.create("smartdocumentor", [{"status": "QueuedForPreProcessing", "seconds": DOC_SECONDS},
                                                          {"status": "Processed"}]),
    }
    leadtools_doc(deployment, LITERAL_FILE_ID)
    run = WatchedRun(DAG_ID, deployment.trigger(DAG_ID, conf))
    watch(deployment, [run], timeout=240)
    return run


def test_every_sensor_started_in_the_triggerer_succeeds_with_its_xcoms(deployment, sft_run):
    states = {task_id: ti["state"] for task_id, ti in sft_run.task_instances.items()}
    assert sft_run.state == "success" and set(states.values()) == {"success"}, (
        f"{states}\n{sft_run.seen}\n{deployment.component_logs()}"
    )
    for task_id in ("classic", *SENSORS_IN_THE_TRIGGERER):
        record = deployment.xcom(DAG_ID, sft_run.run_id, task_id, "docstatus")
        assert record["state"] == "succeeded" and all(record["ref"].values()), (task_id, record)
        assert deployment.xcom(DAG_ID, sft_run.run_id, task_id, "return_value") not in (None, "", [], {}), task_id
    assert deployment.xcom(DAG_ID, sft_run.run_id, "literal", "return_value") == TEXT
    assert deployment.xcom(DAG_ID, sft_run.run_id, "literal", "docstatus")["ref"] == {"file_id": LITERAL_FILE_ID}
    assert deployment.xcom(DAG_ID, sft_run.run_id, "from_xcom", "return_value") == TEXT
    assert deployment.xcom(DAG_ID, sft_run.run_id, "downstream", "return_value") == 1  # the XCom the trigger pushed


def test_a_sensor_started_in_the_triggerer_starts_no_task_process_on_a_worker(deployment, sft_run):
    by_executor = settled_executor_runs(deployment, DAG_ID, sft_run.run_id)
    by_callback = callback_runs(deployment, DAG_ID, sft_run.run_id)
    context = f"executor: {dict(by_executor)}, callback: {dict(by_callback)}, seen: {sft_run.seen}"
    assert by_executor["classic"] == by_callback["classic"] == 2, context  # poke and defer, then resume
    assert by_executor["pick"] == by_callback["pick"] == 1, context  # the counts do see a worker run
    for task_id in SENSORS_IN_THE_TRIGGERER:
        assert by_executor[task_id] == by_callback[task_id] == 0, f"{task_id}: {context}"
        assert sft_run.task_instances[task_id]["try_number"] == 1, task_id
        states = [state for state, _, _ in sft_run.seen[task_id]]
        assert "queued" not in states and "running" not in states, f"{task_id}: {sft_run.seen[task_id]}"


def test_the_task_log_tells_the_wait_from_the_triggerer(deployment, sft_run):
    log = deployment.task_log(DAG_ID, sft_run.run_id, "literal", 1)
    lines = [str(line.get("event", "")) for line in log]
    about = f"leadtools file_id={LITERAL_FILE_ID}"
    context = "\n".join(lines)
    started = [line for line in lines if line.startswith(about) and "; started in the triggerer (" in line]
    assert len(started) == 1, context
    assert re.search(r"\(LeadtoolsQueryTrigger\), polling every 2s until \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", started[0])
    done = [line for line in lines if line.startswith(about) and "; done, returning a list of 1 item(s), " in line]
    assert len(done) == 1, context
    assert not any("deferring to the triggerer" in line for line in lines), context
    assert not any("sft-secret-ish" in json.dumps(line) for line in log), "the payload is in the task log"


def test_failures_resume_on_the_worker_and_fail_the_task(deployment):
    rejected = deployment.simulator.create("leadtools", [{"status": 502}])
    run = WatchedRun("deploy_sft_failures", deployment.trigger("deploy_sft_failures",
                                                                {"bad": "not-a-guid", "rejected": rejected}))
    watch(deployment, [run], timeout=180)
    states = {task_id: ti["state"] for task_id, ti in run.task_instances.items()}
    assert run.state == "failed" and states == {"bad_id": "failed", "rejected": "failed"}, (
        f"{states}\n{deployment.component_logs()}"
    )
    by_callback = callback_runs(deployment, run.dag_id, run.run_id)
    assert by_callback == Counter({"bad_id": 1, "rejected": 1}), by_callback  # execute_complete on a worker
    bad = "\n".join(json.dumps(line) for line in deployment.task_log(run.dag_id, run.run_id, "bad_id", 1))
    # the message a literal id gets, in the worker's "Task failed with exception" line
    assert json.dumps("LEADTOOLS: `file_id` must be a GUID, got 'not-a-guid'")[1:-1] in bad, bad
    assert deployment.simulator.document("leadtools", rejected)["status_calls"] == 1


def cpu_seconds(pid: int, *, group: bool) -> float:
    """CPU seconds (user + system) of ``pid``, or of its whole process group with reaped children included."""
    tick = os.sysconf("SC_CLK_TCK")

    def of(proc: Path) -> tuple[int, float] | None:
        try:
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError, IndexError):
            return None
        pgid = int(fields[2])
        own = int(fields[11]) + int(fields[12])
        reaped = int(fields[13]) + int(fields[14])
        return pgid, (own + reaped) / tick if group else own / tick

    if not group:
        found = of(Path(f"/proc/{pid}"))
        return found[1] if found else 0.0
    total = 0.0
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit() and (found := of(proc)) is not None and found[0] == pid:
            total += found[1]
    return total


def test_bench_waits_started_in_the_triggerer_cost_no_worker_and_less_cpu(deployment):
    figures = {}
    doc_seconds = 10
    for mode in ("classic", "trigger"):
        dag_id = f"deploy_sft_bench_{mode}"
        ids = [leadtools_doc(deployment, seconds=doc_seconds) for _ in range(BENCH_WAITS)]
        scheduler, triggerer = deployment.processes["scheduler"].pid, deployment.processes["triggerer"].pid
        before = (cpu_seconds(scheduler, group=False), cpu_seconds(scheduler, group=True),
                  cpu_seconds(triggerer, group=True))
        started = time.monotonic()
        run = WatchedRun(dag_id, deployment.trigger(dag_id, {"ids": ids}))
        watch(deployment, [run], timeout=900)
        wall = time.monotonic() - started
        after = (cpu_seconds(scheduler, group=False), cpu_seconds(scheduler, group=True),
                 cpu_seconds(triggerer, group=True))
        states = Counter(ti["state"] for ti in run.task_instances.values())
        assert run.state == "success" and states == Counter({"success": BENCH_WAITS}), (mode, states)
        runs = callback_runs(deployment, dag_id, run.run_id)
        figures[mode] = {
            "waits": BENCH_WAITS,
            "document_wait_seconds": doc_seconds,
            "wall_seconds": round(wall, 1),
            "worker_task_runs": sum(runs.values()),
            "executor_events": sum(settled_executor_runs(deployment, dag_id, run.run_id).values()),
            "scheduler_cpu_seconds": round(after[0] - before[0], 2),
            "scheduler_group_cpu_seconds": round(after[1] - before[1], 2),
            "triggerer_group_cpu_seconds": round(after[2] - before[2], 2),
        }
    ARTIFACTS.mkdir(parents=True, exist_ok=True)  # not in deployment/, which keep_logs replaces at the end
    (ARTIFACTS / "sft-bench.json").write_text(json.dumps(figures, indent=2))
    print(json.dumps(figures, indent=2))
    assert figures["classic"]["worker_task_runs"] == figures["classic"]["executor_events"] == 2 * BENCH_WAITS, figures
    assert figures["trigger"]["worker_task_runs"] == figures["trigger"]["executor_events"] == 0, figures
    assert figures["trigger"]["scheduler_group_cpu_seconds"] < figures["classic"]["scheduler_group_cpu_seconds"], figures
