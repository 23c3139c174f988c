"""A throw-away Airflow wired to the simulator: what ``make demo`` and the end-to-end tests run.

- ``running_simulator()`` starts ``python -m airflow_docstatus.simulator`` on a free port;
- ``connection_env(url)`` gives the ``AIRFLOW_CONN_*`` variables that point every vendor at it;
- ``AirflowSandbox`` is an AIRFLOW_HOME on SQLite with those connections, where
  ``airflow dags test`` runs the example DAGs.

Run ``python -m airflow_docstatus.simulator.sandbox`` to print the connection
variables for a simulator already listening on ``--url``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from airflow_docstatus.vendors import VENDORS

# The simulator's default credentials (see scenarios/default.json), per connection id,
# from each vendor's entry in airflow_docstatus/vendors.py. ``path`` is appended to the
# simulator's URL to make the host; ``extra`` is optional, and ``{url}`` in an extra value
# stands for the simulator's URL (no trailing slash).
SIMULATOR_CONNECTIONS: dict[str, dict[str, Any]] = {
    vendor.default_conn_id: {
        "conn_type": vendor.conn_type,
        "path": vendor.simulator.path,
        **({"login": vendor.simulator.login} if vendor.simulator.login is not None else {}),
        "password": vendor.simulator.password,
        **({"extra": dict(vendor.simulator.extra)} if vendor.simulator.extra else {}),
    }
    for vendor in VENDORS.values()
}


def connection_env(simulator_url: str) -> dict[str, str]:
    """``AIRFLOW_CONN_<ID>`` variables (JSON form) pointing each vendor's default connection at the simulator."""
    return {
        f"AIRFLOW_CONN_{conn_id.upper()}": json.dumps(simulator_connection(simulator_url, spec))
        for conn_id, spec in SIMULATOR_CONNECTIONS.items()
    }


def simulator_connection(simulator_url: str, spec: Mapping[str, Any], **overrides: Any) -> dict[str, Any]:
    """A connection (Airflow's JSON form) for one entry of ``SIMULATOR_CONNECTIONS``, fields overridable.

    ``{url}`` inside a string value of ``extra`` becomes the simulator's URL, without a trailing slash.
    """
    base = simulator_url.rstrip("/")
    conn = {
        "conn_type": spec["conn_type"],
        "host": base + spec["path"],
        "login": spec.get("login"),
        "password": spec.get("password"),
    }
    if spec.get("extra"):
        conn["extra"] = {
            key: value.replace("{url}", base) if isinstance(value, str) else value
            for key, value in spec["extra"].items()
        }
    conn.update(overrides)
    return conn


@contextlib.contextmanager
def running_simulator(
    scenario: str | os.PathLike | None = None, timeout: float = 30.0, quiet: bool = False
) -> Iterator[str]:
    """Start the simulator in a child process on a free loopback port; yield its base URL.

    ``quiet`` turns off its per-request log lines (for load runs such as the benchmarks).
    """
    with tempfile.TemporaryDirectory(prefix="docstatus-sim-") as tmp:
        port_file = Path(tmp) / "port"
        command = [sys.executable, "-m", "airflow_docstatus.simulator", "--host", "127.0.0.1", "--port", "0",
                   "--port-file", str(port_file)]
        if scenario:
            command += ["--scenario", str(scenario)]
        if quiet:
            command.append("--quiet")
        log = open(Path(tmp) / "simulator.log", "w")  # noqa: SIM115 - closed below
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + timeout
            while not (port_file.exists() and port_file.read_text().strip()):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the simulator did not start: {(Path(tmp) / 'simulator.log').read_text()}")
                time.sleep(0.05)
            yield f"http://127.0.0.1:{int(port_file.read_text())}"
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
            log.close()


@dataclass
class DagTestResult:
    """The outcome of one ``airflow dags test`` run."""

    dag_id: str
    ok: bool
    seconds: float
    output: str = field(repr=False)


class AirflowSandbox:
    """An AIRFLOW_HOME on SQLite, with the example DAGs and connections to the simulator."""

    def __init__(self, home: Path, dags_folder: Path, simulator_url: str, extra_env: Mapping[str, str] = ()) -> None:
        self.home = Path(home)
        self.dags_folder = Path(dags_folder)
        self.simulator_url = simulator_url
        self.extra_env = dict(extra_env)

    @property
    def env(self) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if not key.startswith("AIRFLOW")}
        env.update(
            {
                "AIRFLOW_HOME": str(self.home),
                "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags_folder),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{self.home / 'airflow.db'}",
                "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
                "PYTHONUNBUFFERED": "1",
                "NO_PROXY": "127.0.0.1,localhost",
                "no_proxy": "127.0.0.1,localhost",
            }
        )
        env.update(connection_env(self.simulator_url))
        env.update(self.extra_env)
        return env

    def airflow(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        """Run the ``airflow`` CLI of this interpreter's environment in the sandbox."""
        airflow = Path(sys.executable).with_name("airflow")
        return subprocess.run(
            [str(airflow), *args], env=self.env, capture_output=True, text=True, timeout=timeout, check=False
        )

    def prepare(self) -> None:
        """A fresh home and database."""
        shutil.rmtree(self.home, ignore_errors=True)
        self.home.mkdir(parents=True)
        done = self.airflow("db", "migrate")
        if done.returncode != 0:
            raise RuntimeError(f"airflow db migrate failed:\n{done.stdout}\n{done.stderr}")

    def dags_test(self, dag_id: str, timeout: float = 600) -> DagTestResult:
        started = time.monotonic()
        done = self.airflow("dags", "test", dag_id, timeout=timeout)
        return DagTestResult(dag_id, done.returncode == 0, time.monotonic() - started, done.stdout + done.stderr)

    def xcoms(self, dag_id: str, key: str = "return_value") -> dict[str, Any]:
        """The XComs ``key`` of the newest run of ``dag_id``, by task id, read from the sandbox's SQLite database.

        A mapped task's values are keyed ``task_id[map_index]``. Values are decoded from the
        JSON Airflow's default XCom backend stores; an empty dict if the DAG never ran.
        """
        database = sqlite3.connect(f"file:{self.home / 'airflow.db'}?mode=ro", uri=True)
        try:
            rows = database.execute(
                "SELECT task_id, map_index, value FROM xcom WHERE key = ? AND dag_run_id = "
                "(SELECT id FROM dag_run WHERE dag_id = ? ORDER BY id DESC LIMIT 1) ORDER BY timestamp",
                (key, dag_id),
            ).fetchall()
        finally:
            database.close()
        # SQLite keeps a JSON number in the JSON column as a number (numeric affinity); the rest is JSON text.
        return {
            task_id if map_index < 0 else f"{task_id}[{map_index}]": json.loads(value)
            if isinstance(value, (str, bytes)) else value
            for task_id, map_index, value in rows
        }


def example_dag_ids(dags_folder: Path) -> list[str]:
    """The example DAG ids: one DAG per ``example_*.py`` file, named after it."""
    return sorted(path.stem for path in Path(dags_folder).glob("example_*.py"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8765", help="the simulator's base URL")
    args = parser.parse_args(argv)
    for key, value in connection_env(args.url).items():
        print(f"export {key}='{value}'")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
