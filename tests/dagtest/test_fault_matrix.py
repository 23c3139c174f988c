"""The fault matrix: every fault the simulator can inject, in every mode, with the outcome users rely on.

One ``airflow dags test`` run of ``fault_matrix`` (tests/dags/fault_matrix.py)
waits on one scripted expert.ai document per cell; each cell is then checked
by its own test. ``MATRIX`` is the table docs/fault-matrix.md shows, and a
test keeps the two the same.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests._compat import HAS_TASK_STATE_STORE
from tests.dagtest.support import dags_test, last_run, output_of

pytestmark = pytest.mark.dagtest

MODES = ("poke", "reschedule", "deferrable")
WAIT = {"status": "PENDING", "polls": 1}
DONE = {"status": "SUCCESS", "payload": {"header": {}, "layout": [], "words": []}}
DOC = Path(__file__).resolve().parents[2] / "docs" / "fault-matrix.md"


def once(**fault) -> list[dict]:
    """Waiting, then one poll meets the fault, then done."""
    return [WAIT, {**fault, "polls": 1}, DONE]


RECOVERS = "retried with backoff; succeeds"
# fault -> (script, outcome, what the log must say about the cell, status calls made)
MATRIX = {
    "http_500": (once(fault="http_500"), RECOVERS, "HTTP 500", 3),
    "http_502": (once(fault="http_502"), RECOVERS, "HTTP 502", 3),
    "http_503": (once(fault="http_503"), RECOVERS, "HTTP 503", 3),
    "http_429": (once(fault="http_429", retry_after=1), RECOVERS + " (Retry-After honoured)", "HTTP 429", 3),
    "reset": (once(fault="reset"), RECOVERS, "failed", 3),
    "slow": (once(status="PROGRESS", fault="slow", delay=3), RECOVERS + " (read timeout 1 s)", "timed out", 3),
    "html": (once(fault="html"), RECOVERS, "HTTP 502", 3),
    "garbled": (once(status="PROGRESS", fault="garbled"), RECOVERS, "not valid JSON", 3),
    "five_in_a_row": (
        [WAIT, *({"fault": f, "polls": 1} for f in ("http_500", "reset", "http_503", "html")),
         {"status": "PROGRESS", "fault": "garbled", "polls": 1}, DONE],
        RECOVERS, "HTTP 503", 7,
    ),
    "endless_500": ([WAIT, {"fault": "http_500"}], "fails after max_consecutive_errors (3), naming the last error",
                    "gave up after 3 transient errors in a row; the last: ", 4),
    "http_400": (once(fault="http_400"), "fails at once, no retry", "HTTP 400", 2),
    "http_403": (once(fault="http_403"), "fails at once (authentication), no retry", "HTTP 403", 2),
    "http_404": (once(fault="http_404"), "fails at once, no retry", "HTTP 404", 2),
    "http_405": (once(fault="http_405"), "fails at once, no retry", "HTTP 405", 2),
    "http_413": (once(fault="http_413"), "fails at once, no retry", "HTTP 413", 2),
    "unknown_status": ([WAIT, {"status": "REVOKED"}], "fails at once, naming the status", "unexpected state REVOKED", 2),
    # hostile vendors: the connection caps a call at CALL_TIMEOUT s and a body at MAX_BODY_BYTES
    "drip": (once(status="PROGRESS", fault="drip", delay=0.4), RECOVERS + " (call_timeout 2 s)", "call_timeout", 3),
    "oversized": (once(status="PROGRESS", fault="oversized", size=1024 * 1024),
                  "fails at once, naming the cap", "over the cap of 65536 bytes", 2),
    "echo_secret": ([WAIT, {"fault": "echo_secret"}], "fails at once (authentication), no secret in the log",
                    "HTTP 401", 3),
}
# Before Airflow 3.3 (no task state store) a reschedule-mode sensor warns at its first transient error that
# in a deployment, where each reschedule is a new process, its count of errors restarts with every reschedule.
# `airflow dags test` runs every reschedule in one process on the same operator object, so the count
# survives there and the cell ends as on 3.3; tests/unit/test_leadtools_sensor.py proves the restart.
NO_STORE_WARNING = "this Airflow has no task state store (Airflow 3.3+)"
CALL_TIMEOUT = 2
MAX_BODY_BYTES = 64 * 1024
SECRET_FAULTS = {"echo_secret"}


@pytest.fixture(scope="module")
def matrix_run(simulator, airflow_db, dags_folder):
    """Run the fault matrix once: every cell's document, its task state and its status calls."""
    import json
    import os

    from airflow_docstatus.simulator.sandbox import SIMULATOR_CONNECTIONS, simulator_connection

    spec = SIMULATOR_CONNECTIONS["expertai_extract_default"]
    conn = simulator_connection(simulator.url, spec)
    conn["extra"] = {**conn["extra"], "connect_timeout": 1, "read_timeout": 1, "call_timeout": CALL_TIMEOUT,
                     "max_body_bytes": MAX_BODY_BYTES}
    os.environ["AIRFLOW_CONN_EX_FAULTS"] = json.dumps(conn)
    try:
        ids = {f"{fault}__{mode}": simulator.create("expertai", script)
               for fault, (script, *_rest) in MATRIX.items() for mode in MODES}
        # the cells' timeout is a 900 s cap (tests/dags/fault_matrix.py): the run takes 2 to 15 minutes
        done = dags_test("fault_matrix", {"ids": ids, "conn_id": "ex_faults"}, timeout=1800)
    finally:
        del os.environ["AIRFLOW_CONN_EX_FAULTS"]
    Path(airflow_db, "fault_matrix.log").write_text(output_of(done))
    run = last_run("fault_matrix")
    calls = {cell: simulator.document("expertai", doc)["status_calls"] for cell, doc in ids.items()}
    return {"ids": ids, "run": run, "log": output_of(done), "calls": calls}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("fault", list(MATRIX))
def test_cell(matrix_run, fault, mode):
    _script, outcome, said, calls = MATRIX[fault]
    cell = f"{fault}__{mode}"
    state = matrix_run["run"]["tasks"][cell]
    doc = matrix_run["ids"][cell]
    log = matrix_run["log"]
    assert state == ("success" if outcome.startswith(RECOVERS) else "failed"), (cell, state)
    assert matrix_run["run"]["tries"][cell] == 1
    assert matrix_run["calls"][cell] == calls, (cell, matrix_run["calls"][cell])
    lines = [line for line in log.splitlines() if doc in line]
    if (fault, mode) != ("reset", "deferrable"):
        # aiohttp itself resends a request once when the server resets a reused
        # keep-alive connection, so the trigger never sees that reset (3 calls made).
        assert any(said in line for line in lines), (cell, said, lines[-5:])
    if state == "failed" and fault != "unknown_status":  # a vendor failure names the ids, not the connection
        assert any("'ex_faults'" in line for line in lines), (cell, lines[-5:])
    if (fault, mode) == ("endless_500", "reschedule"):  # the one cell with max_consecutive_errors=3 that warns
        warned = any(NO_STORE_WARNING in line and "max_consecutive_errors (3)" in line for line in log.splitlines())
        assert warned is not HAS_TASK_STATE_STORE, cell
    if fault in SECRET_FAULTS:  # the vendor echoed the bearer token (a JWT: "eyJ..."): it is nowhere in the log
        assert any("Bearer ***" in line for line in lines), (cell, lines[-5:])
        assert "eyJ" not in log and "sim-expertai-secret" not in log, cell


def test_the_docs_show_this_matrix():
    rows = {}
    for line in DOC.read_text().splitlines():
        match = re.match(r"\| `(\w+)` \|(.*)\|\s*$", line)
        if match:
            rows[match.group(1)] = [cell.strip() for cell in match.group(2).split("|")]
    assert set(rows) == set(MATRIX)
    for fault, (_script, outcome, _said, _calls) in MATRIX.items():
        assert [cell.rstrip("¹") for cell in rows[fault][-3:]] == [outcome] * 3, fault


_EXCEPTION_LINE = re.compile(r"^(airflow\.\S*(?:Exception|Timeout)): (.*)$")


def _ending(matrix_run, cell: str) -> tuple:
    """How a cell ended: task state, tries, status calls, and the exception it failed with (ids masked)."""
    doc = matrix_run["ids"][cell]
    raised = [
        (match.group(1), match.group(2).replace(doc, "<doc>"))
        for line in matrix_run["log"].splitlines()
        if doc in line and (match := _EXCEPTION_LINE.match(line.strip()))
    ]
    run = matrix_run["run"]
    return run["tasks"][cell], run["tries"][cell], matrix_run["calls"][cell], raised[-1] if raised else None


@pytest.mark.parametrize("fault", list(MATRIX))
def test_every_mode_ends_the_same_way(matrix_run, fault):
    """Issue 12, item 8: one outcome per fault: same state, calls and exception (class and text) in every mode."""
    endings = {mode: _ending(matrix_run, f"{fault}__{mode}") for mode in MODES}
    assert len(set(endings.values())) == 1, endings
    state, *_rest, raised = endings["poke"]
    assert (raised is None) == (state == "success"), endings  # a failed cell names its exception
