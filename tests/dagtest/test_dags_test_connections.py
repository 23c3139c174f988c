"""Airflow 3.3.2's ``airflow dags test`` runs a deferred task's trigger in the CLI process, where only
connections from the environment (or a secrets backend) can be read: one saved in the metadata database
(as the UI and ``airflow connections add`` save it) is not found by the trigger's async lookup.

The cause is Airflow's: the in-process supervisor channel of ``dags test`` (``InProcessSupervisorComms``)
has ``send`` but no ``asend``, so ``BaseHook.aget_connection`` -> ``ExecutionAPISecretsBackend.aget_connection``
swallows the AttributeError and reports the connection missing. The worker's poke (sync ``send``) and a
real triggerer (whose channel has ``asend``) both read the same connection. README, "Connections", gives
the workaround, checked here too. When this test fails because the trigger found the connection, Airflow
has fixed it: drop the README note and this test.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from airflow_docstatus.simulator.sandbox import SIMULATOR_CONNECTIONS, simulator_connection
from tests.dagtest.support import dags_test, last_run, output_of

pytestmark = pytest.mark.dagtest

CONN_ID = "lt_saved_in_db"
TEXT = [{"ServiceType": "Recognition", "RecognitionType": "Text", "data": [{"PageNumber": 1, "Text": "db"}]}]
# The worker's poke sees 100 and defers; the trigger's first poll would see 200.
WAIT_THEN_DONE = [{"status": 100, "polls": 1}, {"status": 200, "payload": TEXT}]


def airflow(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(Path(sys.executable).with_name("airflow")), *args],
                          capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture
def connection_in_db(simulator, airflow_db, monkeypatch):
    """A leadtools connection to the simulator, saved in the metadata database only (no AIRFLOW_CONN_*)."""
    monkeypatch.delenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", raising=False)
    conn = simulator_connection(simulator.url, SIMULATOR_CONNECTIONS["leadtools_default"])
    added = airflow("connections", "add", CONN_ID, "--conn-type", conn["conn_type"], "--conn-host", conn["host"],
                    "--conn-login", conn["login"], "--conn-password", conn["password"])
    assert added.returncode == 0, added.stdout + added.stderr
    yield conn
    airflow("connections", "delete", CONN_ID)


def test_dags_test_trigger_cannot_read_a_connection_saved_in_the_database(simulator, dags_folder, connection_in_db,
                                                                          monkeypatch):
    from tests._compat import in_process_supervisor_comms

    file_id = simulator.create("leadtools", WAIT_THEN_DONE)
    done = dags_test("lt_deferrable", {"file_id": file_id, "conn_id": CONN_ID})
    log = output_of(done)
    if done.returncode == 0:
        pytest.fail("airflow dags test now reads database connections in the trigger: Airflow fixed it; "
                    "drop the README note ('airflow dags test' and connections) and this test")
    # the worker read the connection from the database and polled once; the inline trigger could not read it
    assert simulator.document("leadtools", file_id)["status_calls"] == 1
    assert "deferring to the triggerer (LeadtoolsQueryTrigger)" in log
    assert f"The conn_id `{CONN_ID}` isn't defined" in log
    assert "_run_inline_trigger" in log and "aget_connection" in log
    assert last_run("lt_deferrable")["tasks"]["wait"] == "failed"
    assert not hasattr(in_process_supervisor_comms(), "asend"), "the cause changed: see this module's docstring"

    # The workaround: the same connection in the environment (what the sandbox's eval line sets).
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", json.dumps(connection_in_db))
    file_id = simulator.create("leadtools", WAIT_THEN_DONE)
    done = dags_test("lt_deferrable", {"file_id": file_id, "conn_id": CONN_ID})
    assert done.returncode == 0, output_of(done)[-3000:]
    assert last_run("lt_deferrable")["xcom"][("wait", "return_value")] == TEXT
    assert simulator.document("leadtools", file_id)["status_calls"] == 2
