"""One real Airflow deployment (and one simulator) for every test in this folder.

The deployment is package-scoped: the REST tests, the triggerer restart and
the browser check all share one api-server, scheduler, dag-processor and
triggerer, stopped once the last of them has run. Its dags folder holds every example DAG plus ``dags/*.py`` here.
The components are stopped when the session ends, also when pytest is
interrupted or sent SIGTERM; their logs and the task logs are then copied to
``test-artifacts/deployment/``.
"""

from __future__ import annotations

import atexit
import json
import shutil
import signal
import tempfile
from collections.abc import Iterator
from importlib.resources import files
from pathlib import Path

import pytest

from airflow_docstatus.simulator.sandbox import running_simulator
from tests.conftest import SimulatorClient
from tests.deployment.harness import ARTIFACTS, DEPLOYMENT_DAGS, EXAMPLE_DAGS, AirflowDeployment

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


def keep_logs(airflow: AirflowDeployment) -> None:
    """Copy the components' logs and the task logs to ``test-artifacts/deployment``."""
    target = ARTIFACTS / "deployment"
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
