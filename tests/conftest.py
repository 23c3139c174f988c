"""Shared fixtures: a private Airflow home on SQLite, the vendor simulator, and connections to it.

The Airflow environment is set here, before anything imports Airflow, so that
every test (and every ``airflow`` subprocess a test starts) uses a throw-away
home and never the developer's own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

_HOME = Path(tempfile.mkdtemp(prefix="docstatus-airflow-home-"))
os.environ.update(
    {
        "AIRFLOW_HOME": str(_HOME),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{_HOME / 'airflow.db'}",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(_HOME / "dags"),
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }
)
for _key in [k for k in os.environ if k.startswith("AIRFLOW_CONN_")]:
    del os.environ[_key]

import pytest  # noqa: E402
import requests  # noqa: E402

from airflow_docstatus.simulator.sandbox import (  # noqa: E402
    SIMULATOR_CONNECTIONS,
    connection_env,
    simulator_connection,
)

ROOT = Path(__file__).resolve().parent.parent


class SimulatorClient:
    """The simulator's admin API, as tests use it."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    def create(self, vendor: str, script, doc_id: str | None = None) -> str:
        body = {"vendor": vendor, "script": script}
        if doc_id:
            body["id"] = doc_id
        answer = requests.post(f"{self.url}/_sim/documents", json=body, timeout=10)
        assert answer.status_code == 201, answer.text
        return answer.json()["id"]

    def document(self, vendor: str, doc_id: str) -> dict:
        answer = requests.get(f"{self.url}/_sim/documents/{vendor}/{doc_id}", timeout=10)
        answer.raise_for_status()
        return answer.json()

    def stats(self) -> dict:
        return requests.get(f"{self.url}/_sim/stats", timeout=10).json()

    # starts and cancels (the operators) ---------------------------------------
    def start_calls(self, vendor: str, source: str | None = None) -> int:
        """Start calls that started a job at ``vendor``, in all or for one source (file URL or name, externalId)."""
        starts = requests.get(f"{self.url}/_sim/starts/{vendor}", timeout=10).json()
        return starts["start_calls"] if source is None else starts["by_source"].get(source, 0)

    def lose_next_start_answer(self, vendor: str, source: str | None = None, fault: str = "slow", **step) -> None:
        """The vendor's next start call (of ``source``) starts its job, then answers with ``fault``
        (e.g. ``slow`` with a ``delay`` past the client's read timeout)."""
        body = {"fault": fault, "source": source, **step}
        requests.post(f"{self.url}/_sim/start_faults/{vendor}", json=body, timeout=10).raise_for_status()

    def cancel_calls(self, vendor: str) -> int:
        return requests.get(f"{self.url}/_sim/starts/{vendor}", timeout=10).json()["cancel_calls"]

    # tokens (expert.ai, SmartDocumentor) ---------------------------------------
    def token_calls(self, vendor: str) -> int:
        """Token requests the vendor has answered so far (good and bad)."""
        return self.stats()[vendor]["token_calls"]

    def token_lifetime(self, vendor: str, seconds: float) -> None:
        """Tokens issued from now on live ``seconds``."""
        requests.put(f"{self.url}/_sim/tokens/{vendor}", json={"lifetime": seconds}, timeout=10).raise_for_status()

    def expire_tokens(self, vendor: str) -> None:
        """Every token issued so far is expired from now on."""
        requests.post(f"{self.url}/_sim/tokens/{vendor}/expire", timeout=10).raise_for_status()


@pytest.fixture(scope="session")
def simulator():
    """The vendor simulator on a free loopback port, for the whole session."""
    from airflow_docstatus.simulator import serve_in_thread

    with serve_in_thread() as server:
        yield SimulatorClient(server.url)


@pytest.fixture
def sim_connections(simulator, monkeypatch):
    """Every vendor's default connection, pointed at the simulator with its default credentials."""
    for key, value in connection_env(simulator.url).items():
        monkeypatch.setenv(key, value)
    return simulator


@pytest.fixture
def connection(simulator, monkeypatch):
    """Define a connection in the environment: ``connection("lt_bad", "leadtools", password="x")``.

    Fields not given come from the vendor's entry in ``SIMULATOR_CONNECTIONS``.
    """

    def define(conn_id: str, conn_type: str, **fields) -> str:
        spec = next(s for s in SIMULATOR_CONNECTIONS.values() if s["conn_type"] == conn_type)
        conn = simulator_connection(simulator.url, spec, **fields)
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))
        return conn_id

    return define


@pytest.fixture(scope="session")
def airflow_db():
    """The metadata database of the private Airflow home, migrated once."""
    airflow = Path(sys.executable).with_name("airflow")
    done = subprocess.run([str(airflow), "db", "migrate"], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return _HOME
