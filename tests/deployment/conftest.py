"""One real Airflow deployment (and one simulator) for every test in this folder.

The deployment is package-scoped: the REST tests, the triggerer restart and
the browser check all share one api-server, scheduler, dag-processor and
triggerer, stopped once the last of them has run. Its dags folder holds every example DAG plus ``dags/*.py`` here.
The components are stopped when the session ends, also when pytest is
interrupted or sent SIGTERM; their logs and the task logs are then copied to
``test-artifacts/deployment/``.

The distributed profile (``distributed`` below, for test_distributed.py) is a
second deployment: PostgreSQL, Redis and the CeleryExecutor with two workers
and two triggerers. Its tests run before the others here, so that the two
deployments never load the machine at the same time; its logs go to
``test-artifacts/distributed/``.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import signal
import tempfile
import time
from collections.abc import Iterator
from importlib.resources import files
from pathlib import Path

import pytest

from airflow_docstatus.simulator.sandbox import running_simulator
from tests.conftest import SimulatorClient
from tests.deployment.harness import ARTIFACTS, DEPLOYMENT_DAGS, EXAMPLE_DAGS, AirflowDeployment, Profile

SCRIPT_SLOWDOWN = 4  # LEADTOOLS' default document: 12 s instead of 3 s

# A cluster policy of the test deployment: the example DAGs' sensors poll every 5 s at least.
# Airflow 3.3.2 fails a task when the executor reports the exit of the worker that rescheduled
# or deferred it only after the scheduler has queued the task again (same try number; see
# apache/airflow#66374 and #72716). A worker's supervisor can take up to
# [workers] min_heartbeat_interval (5 s by default; 1 s here) to notice that its task ended, and
# longer on a busy 2-core machine, so the examples' 2-s reschedules and quick triggers trip over it.
LOCAL_SETTINGS = '''"""Cluster policies of the docstatus test deployment (tests/deployment/conftest.py)."""

MIN_EXAMPLE_POKE_INTERVAL = 5.0


def task_policy(task):
    if type(task).__module__.startswith("airflow_docstatus.sensors.") and task.dag_id.startswith("example_"):
        task.poke_interval = max(float(task.poke_interval), MIN_EXAMPLE_POKE_INTERVAL)
'''


def slowed_scenario(factor: float) -> dict:
    """The shipped scenario with every timed step of every vendor's scripts ``factor`` times longer.

    The example DAGs start their documents with each vendor's default script,
    which takes a few seconds: on a busy machine a document could be done
    before its sensor's first poke, so nothing would wait, defer or poll.
    Longer scripts make every sensor really wait, whatever the vendor.
    """
    shipped = json.loads(files("airflow_docstatus.simulator").joinpath("scenarios/default.json").read_text())
    scenario = {}
    for vendor, section in shipped.items():
        if not isinstance(section, dict) or not isinstance(section.get("scripts"), dict):
            continue
        scenario[vendor] = {"scripts": {
            name: [{**step, "seconds": step["seconds"] * factor} if isinstance(step, dict) and "seconds" in step
                   else step for step in steps]
            for name, steps in section["scripts"].items() if isinstance(steps, list)
        }}
    return scenario


def keep_logs(airflow: AirflowDeployment, name: str = "deployment") -> None:
    """Copy the components' logs and the task logs to ``test-artifacts/<name>``."""
    target = ARTIFACTS / name
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    shutil.copytree(airflow.logs_folder, target / "components")
    if (airflow.home / "logs").is_dir():
        shutil.copytree(airflow.home / "logs", target / "task-logs")


def _raise_keyboard_interrupt(signum, frame):  # noqa: ARG001 - signal handler signature
    raise KeyboardInterrupt(f"signal {signum}")


@pytest.fixture(scope="package")
def deployment() -> Iterator[AirflowDeployment]:
    """api-server, scheduler, dag-processor and triggerer on SQLite + LocalExecutor, wired to a simulator."""
    previous = signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)  # so the teardown below runs
    try:
        with tempfile.TemporaryDirectory(prefix="docstatus-deploy-") as tmp:
            scenario = Path(tmp) / "scenario.json"
            scenario.write_text(json.dumps(slowed_scenario(SCRIPT_SLOWDOWN)))
            with running_simulator(scenario) as url:
                dag_files = sorted(EXAMPLE_DAGS.glob("example_*.py")) + sorted(DEPLOYMENT_DAGS.glob("*.py"))
                airflow = AirflowDeployment(Path(tmp) / "home", dag_files, url, local_settings=LOCAL_SETTINGS)
                airflow.simulator = SimulatorClient(url)
                atexit.register(airflow.stop)
                try:
                    airflow.start()
                    yield airflow
                finally:
                    airflow.stop()
                    atexit.unregister(airflow.stop)
                    keep_logs(airflow)
    finally:
        signal.signal(signal.SIGTERM, previous)


# -- the distributed profile ---------------------------------------------------------------------------

DISTRIBUTED_DAGS = Path(__file__).resolve().parent / "dags_distributed"
TRIGGERER_CAPACITY = 50  # below the distributed test's peak of waiting triggers, so both triggerers are needed
TRIGGERER_HEALTH_CHECK_THRESHOLD = 5  # seconds without a heartbeat before a triggerer's triggers go to another
OPERATOR_JOB_SECONDS = 8  # how long a job an operator starts runs at the simulator (then it succeeds)
# Each vendor's status while a job runs; its shipped default script's last step ends it.
WAITING_STATUS = {"leadtools": 100, "expertai": "PROGRESS", "smartdocumentor": "PreProcessingInProgress",
                  "azure_translation": "Running", "cora": "ProcessingInput"}


def pytest_collection_modifyitems(config, items):  # noqa: ARG001 - pytest's hook signature
    """The distributed profile's tests first among the deployment tests: one deployment at a time."""
    here = Path(__file__).resolve().parent
    mine = [index for index, item in enumerate(items) if here in Path(str(item.fspath)).resolve().parents]
    if not mine:
        return
    distributed = [item for item in items if item.get_closest_marker("distributed")]
    rest = [item for item in items if not item.get_closest_marker("distributed")]
    position = sum(1 for item in items[:mine[0]] if not item.get_closest_marker("distributed"))
    items[:] = rest[:position] + distributed + rest[position:]


def distributed_scenario() -> dict:
    """Every vendor's jobs (those the operators start) wait OPERATOR_JOB_SECONDS, then end as the shipped default."""
    shipped = json.loads(files("airflow_docstatus.simulator").joinpath("scenarios/default.json").read_text())
    return {
        vendor: {"default_script": "distributed",
                 "scripts": {"distributed": [{"status": status, "seconds": OPERATOR_JOB_SECONDS},
                                             shipped[vendor]["scripts"]["default"][-1]]}}
        for vendor, status in WAITING_STATUS.items()
    }


def distributed_profile(database_url: str, broker_url: str, result_backend: str) -> Profile:
    return Profile(
        name="distributed",
        executor="CeleryExecutor",
        database_url=database_url,
        components={"api-server": 1, "dag-processor": 1, "scheduler": 1, "triggerer": 2, "celery-worker": 2},
        distinct_hostnames=True,
        config={
            "AIRFLOW__CELERY__BROKER_URL": broker_url,
            "AIRFLOW__CELERY__RESULT_BACKEND": result_backend,
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": "6",
            "AIRFLOW__CELERY__OPERATION_TIMEOUT": "10",  # seconds to send a task to Redis; 1 s is short on 2 busy cores
            "AIRFLOW__CELERY__SYNC_PARALLELISM": "1",
            "AIRFLOW__CORE__PARALLELISM": "32",
            "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG": "512",
            "AIRFLOW__CORE__MAX_MAP_LENGTH": "1024",
            "AIRFLOW__SCHEDULER__MAX_TIS_PER_QUERY": "64",
            "AIRFLOW__API__MAXIMUM_PAGE_LIMIT": "1000",
            "AIRFLOW__TRIGGERER__CAPACITY": str(TRIGGERER_CAPACITY),
            "AIRFLOW__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD": str(TRIGGERER_HEALTH_CHECK_THRESHOLD),
            # a dead scheduler (and the tasks it queued) noticed as fast; not exercised, kept consistent
            "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_THRESHOLD": "10",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_POOL_SIZE": "3",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_MAX_OVERFLOW": "5",
        },
    )


def _unavailable(reason: str) -> None:
    """No PostgreSQL or Redis here: fail in CI (the test must run there), skip with the reason elsewhere."""
    message = (f"the distributed deployment test needs PostgreSQL and Redis: {reason}. "
               "Set CI=true to make this a failure locally too.")
    if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="module")
def distributed() -> Iterator[AirflowDeployment]:
    """PostgreSQL, Redis, api-server, scheduler, dag-processor, two Celery workers and two triggerers.

    The deployment carries ``database`` (the ``PostgresCluster``, for read-only
    queries of the metadata database) and ``started_at`` (monotonic, before any
    server started: the test's whole-run clock).
    """
    from tests.deployment.services import PostgresCluster, RedisServer, ServiceUnavailable

    started_at = time.monotonic()
    previous = signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    stops = []
    try:
        try:
            database = PostgresCluster()
            stops.append(database.stop)
            broker = RedisServer()
            stops.append(broker.stop)
            for stop in stops:
                atexit.register(stop)
            database.start()
            broker.start()
        except ServiceUnavailable as exc:
            _unavailable(str(exc))
        with tempfile.TemporaryDirectory(prefix="docstatus-dist-") as tmp:
            scenario = Path(tmp) / "scenario.json"
            scenario.write_text(json.dumps(distributed_scenario()))
            with running_simulator(scenario, quiet=True) as url:
                profile = distributed_profile(database.url, broker.url, database.celery_result_backend)
                airflow = AirflowDeployment(Path(tmp) / "home", sorted(DISTRIBUTED_DAGS.glob("*.py")), url,
                                            profile=profile)
                airflow.simulator = SimulatorClient(url)
                airflow.database = database
                airflow.started_at = started_at
                atexit.register(airflow.stop)
                try:
                    airflow.start(timeout=240)
                    yield airflow
                finally:
                    airflow.stop()
                    atexit.unregister(airflow.stop)
                    keep_logs(airflow, "distributed")
    finally:
        for stop in reversed(stops):
            stop()
            atexit.unregister(stop)
        signal.signal(signal.SIGTERM, previous)
