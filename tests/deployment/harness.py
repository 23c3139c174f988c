"""A real Airflow deployment for tests: api-server, scheduler, dag-processor, triggerer(s), and workers.

``AirflowDeployment`` runs the components of the installed Airflow as
separate processes, as a user would, on a private AIRFLOW_HOME, on free
loopback ports. What runs is its ``Profile``: the executor, the metadata
database, which components and how many of each, and configuration on top.
``LOCAL_PROFILE`` (the default) is SQLite and the LocalExecutor with one of
each component; the distributed profile (tests/deployment/test_distributed.py)
is PostgreSQL and the CeleryExecutor with two Celery workers and two
triggerers. Each component instance runs in its own process group, so
``kill`` and ``stop`` reach the workers and subprocesses it started too, and
nothing outlives the test session.

The REST API (v2) needs no login: SimpleAuthManager runs with
``simple_auth_manager_all_admins``, which makes every request an admin's.
Airflow 3.3 accepts the LocalExecutor on SQLite (``airflow standalone``
does the same); SQLite serializes the writers, which is enough here.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from airflow_docstatus.simulator.sandbox import AirflowSandbox

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_DAGS = ROOT / "example_dags"
DEPLOYMENT_DAGS = Path(__file__).resolve().parent / "dags"
ARTIFACTS = ROOT / "test-artifacts"  # screenshots and logs (gitignored)
COMPONENTS = ("api-server", "dag-processor", "scheduler", "triggerer")
TERMINAL_RUN_STATES = {"success", "failed"}
# The airflow CLI arguments of each component (``celery-worker`` is ``airflow celery worker``).
COMPONENT_COMMANDS = {"celery-worker": ("celery", "worker")}
# A module on every component's sys.path naming the host each component instance reports (see Profile).
HOSTNAME_MODULE = '''"""[core] hostname_callable of the test deployment: each worker instance reports a host name of its own."""

import os
import socket


def hostname():
    return os.environ.get("DOCSTATUS_DEPLOY_HOSTNAME") or socket.getfqdn()
'''


@dataclass(frozen=True)
class Profile:
    """What a deployment runs: executor, metadata database, component instances, and configuration on top.

    ``components`` maps a component (``api-server``, ``scheduler``, ``dag-processor``,
    ``triggerer``, ``celery-worker``) to how many instances run. One instance is
    named after its component (``triggerer``); several are numbered (``triggerer-1``,
    ``triggerer-2``). ``database_url`` None means SQLite in the deployment's home.
    ``config`` is ``AIRFLOW__*`` variables (and the like) laid over the deployment's own.
    With ``distinct_hostnames``, each instance of a component that runs more than once
    reports the host name ``<instance>.deploy`` (``[core] hostname_callable``), as if
    on a machine of its own, so a task instance's ``hostname`` names its worker.
    """

    name: str = "local"
    executor: str = "LocalExecutor"
    database_url: str | None = None
    components: Mapping[str, int] = field(
        default_factory=lambda: {"api-server": 1, "dag-processor": 1, "scheduler": 1, "triggerer": 1}
    )
    config: Mapping[str, str] = field(default_factory=dict)
    distinct_hostnames: bool = False

    def instances(self) -> dict[str, str]:
        """Instance name -> component, in start order."""
        named = {}
        for component, count in self.components.items():
            for number in range(1, count + 1):
                named[component if count == 1 else f"{component}-{number}"] = component
        return named


LOCAL_PROFILE = Profile()


def free_port() -> int:
    """A TCP port that is free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class DeploymentError(AssertionError):
    """Something in the deployment did not happen in time; the message carries the components' logs."""


class AirflowDeployment:
    """Airflow's own components on a private home, wired to the vendor simulator."""

    def __init__(
        self, home: Path, dag_files: Iterable[Path], simulator_url: str, local_settings: str | None = None,
        profile: Profile = LOCAL_PROFILE,
    ) -> None:
        self.home = Path(home)
        self.profile = profile
        self.instances = profile.instances()  # instance name -> component
        self.local_settings = local_settings  # the source of an airflow_local_settings.py (cluster policies)
        self.dags_folder = self.home / "dags"
        self.logs_folder = self.home / "component-logs"
        self.dag_files = [Path(p) for p in dag_files]
        self.simulator_url = simulator_url
        self.simulator: Any = None  # the simulator's admin client, set by whoever starts the simulator
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.processes: dict[str, subprocess.Popen] = {}
        self.generations: dict[str, int] = {}
        self._secret = secrets.token_urlsafe(64)
        self.http = requests.Session()
        self.http.trust_env = False  # loopback only, never through a proxy

    # environment -------------------------------------------------------------------
    @property
    def sandbox(self) -> AirflowSandbox:
        """The demo's sandbox (home, SQLite, connections to the simulator), plus what a deployment adds."""
        return AirflowSandbox(self.home, self.dags_folder, self.simulator_url, extra_env=self._deployment_env())

    def _deployment_env(self) -> dict[str, str]:
        env = {
            "AIRFLOW__CORE__EXECUTOR": self.profile.executor,
            "AIRFLOW__CORE__PARALLELISM": "4",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.base_url}/execution/",
            "AIRFLOW__CORE__AUTH_MANAGER": (
                "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
            ),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            # the UI's Test Connection button (test_connection_forms_ui.py), off by default
            "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(self.port),
            "AIRFLOW__API__BASE_URL": self.base_url,
            "AIRFLOW__API__SECRET_KEY": self._secret,
            "AIRFLOW__API_AUTH__JWT_SECRET": self._secret,
            # fast enough for a test: heartbeats every second, a dead triggerer noticed in 6 s
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
            "AIRFLOW__SCHEDULER__JOB_HEARTBEAT_SEC": "1",
            "AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC": "1",
            "AIRFLOW__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD": "6",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            # The task supervisor notices a finished task within its select timeout (this interval):
            # 1 s instead of 5 s narrows Airflow's stale-executor-event race (see conftest.py).
            "AIRFLOW__WORKERS__MIN_HEARTBEAT_INTERVAL": "1",
            "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
        }
        if self.profile.database_url:
            env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = self.profile.database_url
        if self.profile.distinct_hostnames:
            env["AIRFLOW__CORE__HOSTNAME_CALLABLE"] = "docstatus_deploy_hostname.hostname"
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(self.home / "pythonpath"),
                                                              os.environ.get("PYTHONPATH")]))
        env.update(self.profile.config)
        return env

    @property
    def env(self) -> dict[str, str]:
        return self.sandbox.env

    def airflow(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """Run the ``airflow`` CLI of this interpreter's environment against the deployment's home."""
        return self.sandbox.airflow(*args, timeout=timeout)

    # life cycle --------------------------------------------------------------------
    def start(self, timeout: float = 180) -> None:
        """A fresh home and database, then every component, then wait until all are healthy and the DAGs parsed."""
        shutil.rmtree(self.home, ignore_errors=True)
        self.dags_folder.mkdir(parents=True)
        self.logs_folder.mkdir()
        for dag_file in self.dag_files:
            shutil.copy(dag_file, self.dags_folder)
        if self.local_settings:
            (self.home / "config").mkdir()
            (self.home / "config" / "airflow_local_settings.py").write_text(self.local_settings)
        if self.profile.distinct_hostnames:
            (self.home / "pythonpath").mkdir()
            (self.home / "pythonpath" / "docstatus_deploy_hostname.py").write_text(HOSTNAME_MODULE)
        done = self.airflow("db", "migrate")
        if done.returncode != 0:
            raise DeploymentError(f"airflow db migrate failed:\n{done.stdout}\n{done.stderr}")
        for instance in self.instances:
            self.start_component(instance)
        deadline = time.monotonic() + timeout
        self.wait_for(self._api_up, "the api-server to answer", deadline)
        triggerers = self.profile.components.get("triggerer", 0)
        self.wait_for(lambda: self.healthy("scheduler") and self.healthy("triggerer")
                      and (triggerers < 2 or self.alive_jobs("TriggererJob") >= triggerers),
                      f"the scheduler and {triggerers} triggerer(s) to report healthy", deadline)
        workers = [name for name, component in self.instances.items() if component == "celery-worker"]
        self.wait_for(lambda: all(self.worker_ready(name) for name in workers),
                      f"the Celery workers {workers} to be ready", deadline)
        expected = {path.stem for path in self.dag_files}  # every DAG file here holds a DAG of its own name
        self.wait_for(lambda: expected <= set(self.dag_ids()), f"the DAGs {sorted(expected)} to be parsed", deadline)

    def start_component(self, instance: str) -> subprocess.Popen:
        """Start one component instance (``airflow <component>``) in a process group of its own.

        ``instance`` is a name of ``self.instances`` (``triggerer``, or ``triggerer-2`` when there are several).
        """
        if instance in self.processes and self.processes[instance].poll() is None:
            raise RuntimeError(f"{instance} is already running")
        component = self.instances[instance]
        generation = self.generations.get(instance, 0) + 1
        self.generations[instance] = generation
        args = {"api-server": ["--port", str(self.port), "--host", "127.0.0.1", "--workers", "1"],
                "scheduler": ["--skip-serve-logs"], "triggerer": ["--skip-serve-logs"],
                # no log server (two workers on one host would want the same port), no chatter between workers
                "celery-worker": ["--skip-serve-logs", "--without-gossip", "--without-mingle",
                                  "--celery-hostname", f"{instance}@%h"]}.get(component, [])
        env = self.env
        if self.profile.distinct_hostnames and self.profile.components.get(component, 1) > 1:
            env["DOCSTATUS_DEPLOY_HOSTNAME"] = self.hostname_of(instance)
        log = open(self.log_path(instance, generation), "w")  # noqa: SIM115 - the child keeps it
        airflow = Path(sys.executable).with_name("airflow")
        process = subprocess.Popen(
            [str(airflow), *COMPONENT_COMMANDS.get(component, (component,)), *args], env=env, stdout=log,
            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True, cwd=self.home,
        )
        log.close()
        self.processes[instance] = process
        return process

    def log_path(self, instance: str, generation: int | None = None) -> Path:
        """The log file of an instance's ``generation``-th start (default: the latest)."""
        return self.logs_folder / f"{instance}.{generation or self.generations.get(instance, 1)}.log"

    @staticmethod
    def hostname_of(instance: str) -> str:
        """The host name an instance reports when the profile gives each its own (``distinct_hostnames``)."""
        return f"{instance}.deploy"

    def worker_ready(self, instance: str) -> bool:
        """A Celery worker said it is ready (``celery@... ready.`` in its log)."""
        return " ready." in self.log_path(instance).read_text(errors="replace")

    def kill(self, component: str, sig: int = signal.SIGKILL) -> None:
        """Send ``sig`` to the component's whole process group and reap it."""
        process = self.processes[component]
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            pass
        process.wait(timeout=30)

    def stop(self) -> None:
        """Stop every component this deployment started: SIGTERM to each group, SIGKILL to what is left.

        Safe to call more than once.
        """
        for process in self.processes.values():
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 20
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        for process in self.processes.values():
            try:  # the group may outlive its leader (workers, log servers): make sure it is gone
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            if process.poll() is None:
                process.wait(timeout=10)
        self.http.close()

    def component_logs(self, tail: int = 60) -> str:
        """The last lines of every component's log, for an assertion message."""
        parts = []
        for path in sorted(self.logs_folder.glob("*.log")):
            lines = path.read_text(errors="replace").splitlines()
            parts.append(f"----- {path.name} (last {min(tail, len(lines))} of {len(lines)} lines)\n"
                         + "\n".join(lines[-tail:]))
        return "\n".join(parts)

    def wait_for(self, condition: Callable[[], Any], what: str, deadline: float, interval: float = 0.5) -> Any:
        """Poll ``condition`` until it is truthy or the monotonic ``deadline`` passes (then fail with the logs)."""
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            for name, process in self.processes.items():
                if process.poll() is not None and name not in self._expected_dead:
                    raise DeploymentError(f"{name} exited with {process.returncode} while waiting for {what}\n"
                                          + self.component_logs())
            try:
                value = condition()
            except (requests.RequestException, ValueError, KeyError) as exc:
                last_error, value = exc, None
            if value:
                return value
            time.sleep(interval)
        raise DeploymentError(f"timed out waiting for {what} (last error: {last_error!r})\n" + self.component_logs())

    @property
    def _expected_dead(self) -> set[str]:
        return {name for name, process in self.processes.items() if process.returncode == -signal.SIGKILL}

    # REST API v2 -------------------------------------------------------------------
    def api(self, method: str, path: str, expect: int | tuple[int, ...] = (200,), **kwargs: Any) -> Any:
        """Call ``/api/v2{path}``; fail (with the answer) on an unexpected status; return the JSON body."""
        answer = self.http.request(method, f"{self.base_url}/api/v2{path}", timeout=30, **kwargs)
        expected = (expect,) if isinstance(expect, int) else expect
        if answer.status_code not in expected:
            raise DeploymentError(f"{method} {path} answered {answer.status_code}: {answer.text[:2000]}")
        return answer.json() if answer.content else None

    def _api_up(self) -> bool:
        return self.http.get(f"{self.base_url}/api/v2/monitor/health", timeout=5).status_code == 200

    def healthy(self, component: str) -> bool:
        health = self.api("GET", "/monitor/health")
        return health.get(component, {}).get("status") == "healthy"

    def alive_jobs(self, job_type: str) -> int:
        """How many jobs of ``job_type`` (``TriggererJob``, ``SchedulerJob``...) heartbeat in time."""
        return self.api("GET", "/jobs", params={"job_type": job_type, "is_alive": True, "limit": 100})["total_entries"]

    def dag_ids(self) -> list[str]:
        return [dag["dag_id"] for dag in self.api("GET", "/dags", params={"limit": 1000})["dags"]]

    def trigger(self, dag_id: str, conf: Mapping[str, Any] | None = None) -> str:
        """Unpause ``dag_id`` and start a run now; return its run id."""
        self.api("PATCH", f"/dags/{dag_id}", json={"is_paused": False})
        run = self.api("POST", f"/dags/{dag_id}/dagRuns", json={"logical_date": None, "conf": dict(conf or {})})
        return run["dag_run_id"]

    def run_state(self, dag_id: str, run_id: str) -> str:
        return self.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}")["state"]

    def task_instances(self, dag_id: str, run_id: str) -> dict[str, dict]:
        found = self.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances", params={"limit": 1000})
        return {ti["task_id"]: ti for ti in found["task_instances"]}

    def tasks(self, dag_id: str) -> dict[str, dict]:
        return {task["task_id"]: task for task in self.api("GET", f"/dags/{dag_id}/tasks")["tasks"]}

    def xcom(self, dag_id: str, run_id: str, task_id: str, key: str, map_index: int = -1) -> Any:
        entry = self.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/{key}",
                         params={"deserialize": True, "map_index": map_index})
        return entry["value"]

    def task_log(self, dag_id: str, run_id: str, task_id: str, try_number: int, map_index: int = -1) -> list[dict]:
        """The task's log as the UI shows it (the worker's and the triggerer's lines): one dict per line."""
        answer = self.http.get(
            f"{self.base_url}/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/logs/{try_number}",
            params={"full_content": True, "map_index": map_index}, headers={"Accept": "application/json"},
            timeout=30,
        )
        if answer.status_code != 200:
            raise DeploymentError(f"log of {dag_id}/{run_id}/{task_id} answered {answer.status_code}: {answer.text}")
        return [line for line in answer.json()["content"] if "timestamp" in line]  # drop the source headers


@dataclass
class WatchedRun:
    """One DAG run as the test saw it through the REST API."""

    dag_id: str
    run_id: str
    state: str = "queued"
    seconds: float = 0.0
    # task_id -> the distinct (state, trigger classpath, triggerer job id) seen, in order
    seen: dict[str, list[tuple]] = field(default_factory=dict)
    task_instances: dict[str, dict] = field(default_factory=dict)

    def note(self, task_instances: dict[str, dict]) -> None:
        self.task_instances = task_instances
        for task_id, ti in task_instances.items():
            sample = (ti["state"], (ti.get("trigger") or {}).get("classpath"), (ti.get("triggerer_job") or {}).get("id"))
            history = self.seen.setdefault(task_id, [])
            if not history or history[-1] != sample:
                history.append(sample)


def watch(deployment: AirflowDeployment, runs: list[WatchedRun], timeout: float = 300) -> None:
    """Poll every run's task instances until every run is terminal (or fail with the components' logs)."""
    started = time.monotonic()

    def all_done() -> bool:
        for run in runs:
            if run.state in TERMINAL_RUN_STATES:
                continue
            run.note(deployment.task_instances(run.dag_id, run.run_id))
            run.state = deployment.run_state(run.dag_id, run.run_id)
            if run.state in TERMINAL_RUN_STATES:
                run.note(deployment.task_instances(run.dag_id, run.run_id))
                run.seconds = time.monotonic() - started
        return all(run.state in TERMINAL_RUN_STATES for run in runs)

    deployment.wait_for(all_done, f"the runs of {[r.dag_id for r in runs]} to finish",
                        time.monotonic() + timeout, interval=0.5)
