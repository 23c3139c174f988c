"""The provider on Airflow's distributed setup: PostgreSQL, CeleryExecutor on Redis, two workers, two triggerers.

One deployment (``distributed`` in conftest.py) and one test, in two phases,
200 deferred waits in all: the five vendors' sensors and operators, mapped
(``dags_distributed/dist_waits.py``). A sensor's document stays "processing"
until the test finishes it at the simulator; an operator's job runs
OPERATOR_JOB_SECONDS. The test watches the metadata database (PostgreSQL)
twice a second: task instance states, and which triggerer holds each trigger
(``trigger.triggerer_id``); the trigger log files (``*.log.trigger.<job id>.log``)
name every triggerer that ran a task's trigger.

1. **Scale** (160 waits): 80 sensors wait at once, more than one triggerer's
   capacity, so both take triggers; every wait succeeds; each token vendor's
   triggers fetched one token per triggerer (not one per trigger); no
   operator started its job twice.
2. **Failover** (40 waits and a reschedule-mode sensor): once every wait has
   deferred, the Celery worker that ran the reschedule sensor's last poke is
   SIGKILLed between two pokes (the next poke runs on the other worker, same
   try), then the triggerer holding more triggers is SIGKILLed: the other one
   takes all of them over once the health-check threshold has passed, and
   polls them. Every run succeeds, every task's ``execute_complete`` acts once,
   and the XComs are read back through the REST API.

The whole run, servers and Airflow included, must take under 6 minutes.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from importlib.resources import files

import pytest
import requests

from tests.deployment.conftest import TRIGGERER_CAPACITY, TRIGGERER_HEALTH_CHECK_THRESHOLD, WAITING_STATUS
from tests.deployment.harness import ARTIFACTS, AirflowDeployment

pytestmark = [pytest.mark.deployment, pytest.mark.distributed]

VENDORS = tuple(WAITING_STATUS)
TOKEN_VENDORS = ("expertai", "smartdocumentor")
SCALE_PER_VENDOR = 16  # sensors, and as many operators, per vendor: 160 waits
FAILOVER_PER_VENDOR = 4  # 40 waits
WHOLE_RUN_SECONDS = 360
# A triggerer's triggers go to another once it has missed heartbeats for the threshold; the other one
# looks for them every loop (about a second), on a busy machine a little later.
TAKEOVER_BOUND = TRIGGERER_HEALTH_CHECK_THRESHOLD + 6
BUSY = ("scheduled", "queued", "running", "restarting", "up_for_retry")


def sim_get(deployment: AirflowDeployment, path: str) -> dict:
    answer = requests.get(f"{deployment.simulator.url}{path}", timeout=30)
    answer.raise_for_status()
    return answer.json()


def sim_post(deployment: AirflowDeployment, path: str, body: dict, expect: int = 201) -> dict:
    answer = requests.post(f"{deployment.simulator.url}{path}", json=body, timeout=30)
    assert answer.status_code == expect, f"POST {path}: {answer.status_code} {answer.text[:500]}"
    return answer.json()


def done_step(vendor: str) -> dict:
    """The last step of the vendor's shipped default script: the job succeeded."""
    shipped = json.loads(files("airflow_docstatus.simulator").joinpath("scenarios/default.json").read_text())
    return shipped[vendor]["scripts"]["default"][-1]


def sensor_kwargs(vendor: str, doc_id: str) -> dict:
    if vendor == "azure_translation":
        batch_id, document_id = doc_id.split(":")
        return {"batch_id": batch_id, "document_id": document_id}
    name = {"leadtools": "file_id", "expertai": "extract_task_id", "smartdocumentor": "sd_task_id",
            "cora": "master_workflow_instance_id"}[vendor]
    return {name: doc_id}


@dataclass
class Phase:
    """One run of a dist_waits DAG (``per_vendor`` sensors and operators per vendor) and its sensors' documents."""

    dag_id: str
    per_vendor: int
    documents: dict[str, list[str]] = field(default_factory=dict)  # vendor -> the sensors' document ids, by map index
    run_id: str = ""

    def start(self, deployment: AirflowDeployment) -> None:
        """Create the sensors' documents (processing until ``finish_sensor_jobs``), then trigger the run."""
        body = {"documents": [{"vendor": vendor, "script": [{"status": WAITING_STATUS[vendor]}]}
                              for vendor in VENDORS for _ in range(self.per_vendor)]}
        for entry in sim_post(deployment, "/_sim/documents/bulk", body)["documents"]:
            self.documents.setdefault(entry["vendor"], []).append(entry["id"])
        self.run_id = deployment.trigger(self.dag_id, self.documents)

    def finish_sensor_jobs(self, deployment: AirflowDeployment) -> None:
        """Every sensor's document succeeds now (the same ids, replaced with a finished script)."""
        body = {"documents": [{"vendor": vendor, "id": doc, "script": [done_step(vendor)]}
                              for vendor, docs in self.documents.items() for doc in docs]}
        sim_post(deployment, "/_sim/documents/bulk", body)

    def all_polled(self, deployment: AirflowDeployment, times: int) -> bool:
        """Every sensor's document was asked for its status at least ``times`` times."""
        return all(deployment.simulator.document(vendor, doc)["status_calls"] >= times
                   for vendor, docs in self.documents.items() for doc in docs)

    @property
    def waits(self) -> int:
        return 2 * self.per_vendor * len(VENDORS)


@dataclass
class Watcher:
    """What the metadata database showed, sampled: task instance states, triggers and their triggerers."""

    deployment: AirflowDeployment
    tis: dict[tuple, dict] = field(default_factory=dict)  # (dag_id, run_id, task_id, map_index) -> latest row
    deferred: set[tuple] = field(default_factory=set)  # task instances seen deferred with a triggerer
    peak_held: int = 0  # most triggers held by triggerers at once
    peak_by_triggerer: Counter = field(default_factory=Counter)

    def sample(self) -> None:
        rows = self.deployment.database.query(
            "SELECT ti.dag_id, ti.run_id, ti.task_id, ti.map_index, ti.state, ti.try_number, ti.hostname, "
            "t.id, t.triggerer_id FROM task_instance ti LEFT JOIN trigger t ON t.id = ti.trigger_id"
        )
        self.tis = {}  # a fresh snapshot: a mapped task's placeholder (map_index -1) becomes its first instance
        for dag_id, run_id, task_id, map_index, state, try_number, hostname, trigger_id, triggerer in rows:
            key = (dag_id, run_id, task_id, map_index)
            self.tis[key] = {"state": state, "try_number": try_number, "hostname": hostname,
                             "trigger": trigger_id, "triggerer": triggerer}
            if state == "deferred" and triggerer is not None:
                self.deferred.add(key)
        held = dict(self.deployment.database.query(
            "SELECT triggerer_id, count(*) FROM trigger WHERE triggerer_id IS NOT NULL GROUP BY triggerer_id"))
        self.peak_held = max(self.peak_held, sum(held.values()))
        for triggerer, count in held.items():
            self.peak_by_triggerer[triggerer] = max(self.peak_by_triggerer[triggerer], count)

    def of_run(self, run_id: str, prefix: str = "") -> dict[tuple, dict]:
        return {key: ti for key, ti in self.tis.items() if key[1] == run_id and key[2].startswith(prefix)}

    def waits_of(self, run_id: str) -> dict[tuple, dict]:
        """The run's mapped task instances (a placeholder's map index -1 before expansion is no wait)."""
        return {key: ti for key, ti in self.of_run(run_id).items() if key[3] >= 0}

    def until(self, condition, what: str, timeout: float, interval: float = 0.5):
        """Sample until ``condition()`` is truthy (fail with the components' logs after ``timeout``)."""

        def sampled():
            self.sample()
            return condition()

        return self.deployment.wait_for(sampled, what, time.monotonic() + timeout, interval=interval)


def triggerers_by_instance(deployment: AirflowDeployment) -> dict[str, int]:
    """Triggerer instance name -> its job id (each reports its own host name)."""
    rows = deployment.database.query("SELECT id, hostname FROM job WHERE job_type = 'TriggererJob'")
    by_host = {hostname: job_id for job_id, hostname in rows}
    return {name: by_host[deployment.hostname_of(name)] for name, component in deployment.instances.items()
            if component == "triggerer" and deployment.hostname_of(name) in by_host}


@dataclass
class TriggerLog:
    """One trigger log file: which triggerer ran a task's trigger, from its first poll to its end, and its token fetches."""

    task_id: str
    map_index: int
    job: int
    first: str  # its first and last poll: ISO timestamps (UTC, one format: they sort as text)
    last: str
    token_fetches: list[str]

    @property
    def vendor(self) -> str:
        return self.task_id.rsplit("_", 1)[0]


def trigger_logs(deployment: AirflowDeployment, dag_id: str, run_id: str) -> list[TriggerLog]:
    """The run's trigger logs (try 1), ``*.log.trigger.<triggerer job id>.log``: one per task and triggerer."""
    found = []
    root = deployment.home / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}"
    for path in sorted(root.glob("task_id=*/map_index=*/attempt=1.log.trigger.*.log")):
        lines = [json.loads(line) for line in path.read_text(errors="replace").splitlines() if line.startswith("{")]
        # its polls: each logs one line ("<vendor> <ids> status=...") once the answer is in
        stamps = sorted(line["timestamp"] for line in lines if " status=" in str(line.get("event")))
        fetches = [line["timestamp"] for line in lines if "obtained a token for connection" in str(line.get("event"))]
        found.append(TriggerLog(
            task_id=path.parts[-3].removeprefix("task_id="), map_index=int(path.parts[-2].removeprefix("map_index=")),
            job=int(re.search(r"\.trigger\.(\d+)\.log$", path.name).group(1)),
            first=stamps[0] if stamps else "", last=stamps[-1] if stamps else "", token_fetches=fetches,
        ))
    return found


def ran_on(logs: list[TriggerLog]) -> dict[tuple, set[int]]:
    """(task_id, map_index) -> the triggerer job ids that ran its trigger."""
    jobs: dict[tuple, set[int]] = defaultdict(set)
    for log in logs:
        jobs[(log.task_id, log.map_index)].add(log.job)
    return jobs


def token_fetches(logs: list[TriggerLog]) -> Counter:
    """(triggerer job id, vendor) -> token fetches, after checking that each was the only one of its time.

    A triggerer shares one token per connection among all the triggers of it that
    poll (one aiohttp session per connection in its event loop); it drops the two
    when the last of them ends, so a later trigger fetches again. A fetch while
    another trigger of the same vendor was polling in the same triggerer (between
    that one's first and last line) is one token per trigger: that fails here.
    """
    fetches: Counter = Counter()
    for log in logs:
        for at in log.token_fetches:
            fetches[(log.job, log.vendor)] += 1
            sharing = [f"{other.task_id}[{other.map_index}]" for other in logs
                       if other is not log and other.job == log.job and other.vendor == log.vendor
                       and other.first < at < other.last]
            assert not sharing, (f"{log.task_id}[{log.map_index}] fetched a token at {at} in triggerer {log.job} "
                                 f"while these triggers of the connection were polling there: {sharing}")
    return fetches


def token_requests(deployment: AirflowDeployment) -> dict[str, Counter]:
    return {vendor: Counter(sim_get(deployment, f"/_sim/tokens/{vendor}/clients")["by_client"])
            for vendor in TOKEN_VENDORS}


def starts(deployment: AirflowDeployment) -> dict[str, dict]:
    return {vendor: sim_get(deployment, f"/_sim/starts/{vendor}") for vendor in VENDORS}


def scheduler_events_for(deployment: AirflowDeployment, dag_id: str) -> int:
    """How many reports of a finished task of ``dag_id`` the scheduler has received from the executor so far."""
    text = deployment.log_path("scheduler").read_text(errors="replace")
    return len(re.findall(rf"Received executor event with state (?:success|failed) for task instance "
                          rf"TaskInstanceKey\(dag_id='{dag_id}'", text))


def test_distributed_deployment(distributed: AirflowDeployment):
    deployment = distributed
    watch = Watcher(deployment)
    context = deployment.component_logs  # called only to explain a failure
    triggerers = triggerers_by_instance(deployment)
    assert len(triggerers) == 2, f"expected two triggerer jobs, found {triggerers}"
    tokens_before = token_requests(deployment)

    # 1. scale -------------------------------------------------------------------------------------
    scale = Phase("dist_waits", SCALE_PER_VENDOR)
    scale.start(deployment)

    def scale_sensors_deferred() -> bool:
        waiting = {key for key in watch.waits_of(scale.run_id) if key[2].endswith("_sensor")}
        return len(waiting) == scale.waits // 2 and waiting <= watch.deferred

    watch.until(scale_sensors_deferred, "every sensor of the scale run to defer to a triggerer", timeout=240)
    # and every one polled by its triggerer (the worker polled once before deferring), so each triggerer's
    # sessions and tokens serve all its triggers until the documents are done
    watch.until(lambda: scale.all_polled(deployment, 2), "every sensor's trigger to poll", timeout=60, interval=1)
    scale.finish_sensor_jobs(deployment)
    watch.until(lambda: deployment.run_state(scale.dag_id, scale.run_id) in ("success", "failed"),
                "the scale run to finish", timeout=120, interval=1)
    scale_states = Counter(ti["state"] for ti in watch.of_run(scale.run_id).values())
    scale_seconds = time.monotonic() - deployment.started_at
    assert deployment.run_state(scale.dag_id, scale.run_id) == "success", (scale_states, context())
    assert scale_states == {"success": scale.waits}, scale_states

    scale_waits = watch.waits_of(scale.run_id)
    scale_logs = trigger_logs(deployment, scale.dag_id, scale.run_id)
    scale_ran_on = ran_on(scale_logs)
    never = sorted((key[2], key[3]) for key in scale_waits if not scale_ran_on.get((key[2], key[3])))
    assert not never, f"no trigger log, so no triggerer ran these: {never}"
    assert set().union(*scale_ran_on.values()) == set(triggerers.values()), (scale_ran_on, triggerers)
    per_triggerer = Counter(job for jobs in scale_ran_on.values() for job in jobs)
    # more waits at once than one triggerer may hold: both were needed
    assert watch.peak_held > TRIGGERER_CAPACITY, (watch.peak_held, dict(watch.peak_by_triggerer))
    assert max(watch.peak_by_triggerer.values()) <= TRIGGERER_CAPACITY, dict(watch.peak_by_triggerer)

    # tokens: one per connection per triggerer, shared by all its triggers of the connection, never one per trigger
    tokens_scale = token_requests(deployment)
    scale_fetches = token_fetches(scale_logs)
    for vendor in TOKEN_VENDORS:
        fetched = tokens_scale[vendor]["aiohttp"] - tokens_before[vendor]["aiohttp"]
        logged = sum(count for (_, of), count in scale_fetches.items() if of == vendor)
        assert fetched == logged, f"{vendor}: the simulator answered {fetched} token requests, the triggers logged " \
                                  f"{logged}: {dict(scale_fetches)}"
        running = sum(1 for log in scale_logs if log.vendor == vendor)
        assert fetched <= 2 * len(triggerers) < running, (vendor, fetched, running, dict(scale_fetches))

    # 2. failover ----------------------------------------------------------------------------------
    failover = Phase("dist_waits_failover", FAILOVER_PER_VENDOR)
    rescheduled = deployment.simulator.create("leadtools", [{"status": WAITING_STATUS["leadtools"]}])
    failover.start(deployment)
    reschedule_run = deployment.trigger("dist_reschedule", {"file_id": rescheduled})
    poke_key = ("dist_reschedule", reschedule_run, "wait", -1)

    def failover_settled() -> bool:
        waits = watch.waits_of(failover.run_id)
        sensors_deferred = [key for key in waits if key[2].endswith("_sensor") and key in watch.deferred
                            and waits[key]["state"] == "deferred"]
        operators_done = [key for key, ti in waits.items() if key[2].endswith("_operator")
                          and ti["state"] == "success"]
        return len(sensors_deferred) == failover.waits // 2 and len(operators_done) == failover.waits // 2

    watch.until(failover_settled, "the failover run's sensors to defer and its operators to succeed", timeout=150)
    assert all(ti["try_number"] == 1 for ti in watch.waits_of(failover.run_id).values())

    # SIGKILL the Celery worker that ran the reschedule sensor's last poke, right after it reported that poke
    # (so no task of it is in flight) and well before the next one is due.
    watch.until(lambda: watch.tis.get(poke_key, {}).get("state") == "running", "a poke of the reschedule sensor",
                timeout=60, interval=0.25)
    events_before = scheduler_events_for(deployment, "dist_reschedule")  # every earlier poke's report is in
    watch.until(lambda: watch.tis[poke_key]["state"] == "up_for_reschedule"
                and scheduler_events_for(deployment, "dist_reschedule") > events_before,
                "the poke to end and its worker's report to reach the scheduler", timeout=60, interval=0.25)
    busy = {key: ti["state"] for key, ti in watch.tis.items() if ti["state"] in BUSY}
    assert not busy, f"a task is in flight, so a worker kill would lose it: {busy}"
    poked_on = watch.tis[poke_key]["hostname"]
    workers = {deployment.hostname_of(name): name for name, component in deployment.instances.items()
               if component == "celery-worker"}
    assert poked_on in workers, (poked_on, workers)
    killed_worker = workers[poked_on]
    (survivor_host,) = set(workers) - {poked_on}
    calls_before_worker_kill = deployment.simulator.document("leadtools", rescheduled)["status_calls"]
    deployment.kill(killed_worker)
    worker_killed_at = time.time()

    # SIGKILL the triggerer holding more of the failover run's triggers; the other one must take them all over.
    watch.sample()
    held = Counter(ti["triggerer"] for ti in watch.waits_of(failover.run_id).values() if ti["state"] == "deferred")
    victim_job, victim_count = held.most_common(1)[0]
    victim = next(name for name, job in triggerers.items() if job == victim_job)
    survivor_job = next(job for job in triggerers.values() if job != victim_job)
    victim_keys = {key for key, ti in watch.waits_of(failover.run_id).items() if ti["triggerer"] == victim_job}
    deployment.kill(victim)
    killed_at = time.monotonic()
    triggerer_killed_at = time.time()
    watch.until(lambda: all(watch.tis[key]["triggerer"] == survivor_job for key in victim_keys),
                f"triggerer {survivor_job} to take over the {victim_count} triggers of the killed one",
                timeout=TAKEOVER_BOUND + 30, interval=0.2)
    takeover = time.monotonic() - killed_at
    assert takeover <= TAKEOVER_BOUND, f"takeover took {takeover:.1f} s"
    assert len(watch.waits_of(failover.run_id)) == failover.waits

    # the survivor really polls what it took over, then the jobs finish
    taken_sensors = [(key[2].removesuffix("_sensor"), key[3]) for key in victim_keys if key[2].endswith("_sensor")]
    assert taken_sensors, f"the killed triggerer held no sensor: {victim_keys}"

    def polled_since_kill() -> bool:
        for vendor, index in taken_sensors:
            calls = deployment.simulator.document(vendor, failover.documents[vendor][index])["calls"]
            if not any(call["t"] > triggerer_killed_at for call in calls):
                return False
        return True

    watch.until(polled_since_kill, "the survivor to poll every trigger it took over", timeout=30, interval=1)
    failover.finish_sensor_jobs(deployment)

    # the reschedule-mode wait goes on, on the other worker, in the same try
    watch.until(lambda: deployment.simulator.document("leadtools", rescheduled)["status_calls"]
                > calls_before_worker_kill and watch.tis[poke_key]["hostname"] == survivor_host,
                "a poke of the reschedule sensor on the surviving worker", timeout=60, interval=0.5)
    sim_post(deployment, "/_sim/documents", {"vendor": "leadtools", "id": rescheduled,
                                                  "script": [done_step("leadtools")]}, expect=201)
    watch.until(lambda: {deployment.run_state(failover.dag_id, failover.run_id),
                         deployment.run_state("dist_reschedule", reschedule_run)} <= {"success", "failed"},
                "the failover runs to finish", timeout=120, interval=1)
    assert deployment.run_state(failover.dag_id, failover.run_id) == "success", context()
    assert deployment.run_state("dist_reschedule", reschedule_run) == "success", context()
    rescheduled_ti = deployment.api("GET", f"/dags/dist_reschedule/dagRuns/{reschedule_run}/taskInstances/wait")
    assert rescheduled_ti["try_number"] == 1 and rescheduled_ti["hostname"] == survivor_host, rescheduled_ti
    assert deployment.xcom("dist_reschedule", reschedule_run, "wait", "docstatus")["ref"] == {"file_id": rescheduled}
    calls = deployment.simulator.document("leadtools", rescheduled)["calls"]
    assert any(call["t"] > worker_killed_at for call in calls)

    # every failover task: one try, its execute_complete acted once, its XComs through the REST API
    failover_logs = trigger_logs(deployment, failover.dag_id, failover.run_id)
    failover_ran_on = ran_on(failover_logs)
    for key, ti in sorted(watch.waits_of(failover.run_id).items()):
        dag_id, run_id, task_id, map_index = key
        vendor, kind = task_id.rsplit("_", 1)
        rest_ti = deployment.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/{map_index}")
        assert rest_ti["state"] == "success" and rest_ti["try_number"] == 1, rest_ti
        log = [str(line.get("event")) for line in deployment.task_log(dag_id, run_id, task_id, 1, map_index)]
        completions = [line for line in log if "; done, returning " in line]
        assert len(completions) == 1, (key, log)
        record = deployment.xcom(dag_id, run_id, task_id, "docstatus", map_index)
        assert record["state"] == "succeeded", (key, record)
        if kind == "sensor":
            ref = {name: str(value) for name, value in record["ref"].items()}  # Cora's and SmartDocumentor's are ints
            assert ref == sensor_kwargs(vendor, failover.documents[vendor][map_index]), (key, record)
        else:
            assert deployment.xcom(dag_id, run_id, task_id, "job_ref", map_index) == record["ref"], key
        if key in victim_keys:
            assert {victim_job, survivor_job} <= failover_ran_on[(task_id, map_index)], (key, failover_ran_on)

    # no operator started its job twice, in either run: one start per operator, each under a source of its own
    started = starts(deployment)
    for vendor in VENDORS:
        operators = scale.per_vendor + failover.per_vendor
        assert started[vendor]["start_calls"] == operators, (vendor, started[vendor])
        assert sorted(started[vendor]["by_source"].values()) == [1] * operators, (vendor, started[vendor])

    # tokens again: the survivor shares its token with the triggers it took over, if its own of the vendor still poll
    tokens_after = token_requests(deployment)
    failover_fetches = token_fetches(failover_logs)
    for vendor in TOKEN_VENDORS:
        fetched = tokens_after[vendor]["aiohttp"] - tokens_scale[vendor]["aiohttp"]
        logged = sum(count for (_, of), count in failover_fetches.items() if of == vendor)
        assert fetched == logged, (vendor, fetched, dict(failover_fetches))

    # what a poke in reschedule mode costs here (each one a task run on a worker), and a deferrable task's runs
    (pokes,) = deployment.database.query(
        "SELECT count(*) FROM task_reschedule tr JOIN task_instance ti ON ti.id = tr.ti_id "
        "WHERE ti.dag_id = 'dist_reschedule'")[0]
    workloads = sorted(float(seconds) for name in workers.values()
                       for seconds in re.findall(r"Workload finished .*?duration=([0-9.]+)",
                                                 deployment.log_path(name, 1).read_text(errors="replace")))
    whole = time.monotonic() - deployment.started_at
    report = {
        "waits": scale.waits + failover.waits, "scale_phase_done_at_s": round(scale_seconds, 1),
        "whole_run_s": round(whole, 1), "takeover_s": round(takeover, 1),
        "taken_over": len(victim_keys), "peak_triggers_held": watch.peak_held,
        "peak_by_triggerer": dict(watch.peak_by_triggerer), "scale_triggers_by_triggerer": dict(per_triggerer),
        "token_requests": {vendor: dict(tokens_after[vendor]) for vendor in TOKEN_VENDORS},
        "triggerer_token_fetches": {"scale": {f"{job}/{vendor}": n for (job, vendor), n in scale_fetches.items()},
                                    "failover": {f"{job}/{vendor}": n for (job, vendor), n in failover_fetches.items()}},
        "start_calls": {vendor: started[vendor]["start_calls"] for vendor in VENDORS},
        "killed": {"triggerer": victim, "celery_worker": killed_worker},
        "reschedule_pokes": pokes,  # each a task run on a worker, like those below
        "worker_task_runs": len(workloads),
        "worker_task_run_seconds_p50_p90": [round(workloads[len(workloads) // 2], 2),
                                            round(workloads[int(len(workloads) * 0.9)], 2)] if workloads else None,
        "load_average": [round(value, 2) for value in os.getloadavg()],
    }
    print("distributed deployment:", json.dumps(report))
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "distributed-report.json").write_text(json.dumps(report, indent=1))
    assert whole < WHOLE_RUN_SECONDS, f"the whole run took {whole:.0f} s: {report}"
