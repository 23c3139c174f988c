"""OpenLineage events from the operators, as the OpenLineage provider emits them under ``airflow dags test``.

The provider's file transport writes every event of ``docstatus_lineage`` (tests/dags/lineage.py)
to a file; each operator's COMPLETE event must name its inputs and outputs as docs/api.md says,
with no SAS token or other query string anywhere in it.
"""

from __future__ import annotations

import json
import uuid

import pytest

from tests.dagtest.support import dags_test, last_run, output_of

pytestmark = pytest.mark.dagtest


def test_each_operator_reports_its_inputs_and_outputs_in_its_complete_event(sim_connections, dags_folder, tmp_path,
                                                                             monkeypatch):
    pytest.importorskip("airflow.providers.openlineage")
    events_file = tmp_path / "openlineage.jsonl"
    monkeypatch.setenv("AIRFLOW__OPENLINEAGE__TRANSPORT",
                       json.dumps({"type": "file", "log_file_path": str(events_file), "append": True}))
    monkeypatch.setenv("AIRFLOW__OPENLINEAGE__NAMESPACE", "docstatus-test")
    run = uuid.uuid4().hex[:8]

    done = dags_test("docstatus_lineage", {"run": run})
    log = output_of(done)
    assert done.returncode == 0, log[-6000:]
    assert last_run("docstatus_lineage")["tasks"] == {t: "success" for t in ("lt", "cora", "xai", "azt")}, log[-6000:]

    text = events_file.read_text()
    assert "SECRETSIG" not in text and "sig=" not in text
    events = [json.loads(line) for line in text.splitlines() if line.strip()]
    complete = {
        e["job"]["name"].rsplit(".", 1)[-1]: e
        for e in events
        if e["eventType"] == "COMPLETE" and e["job"]["name"].startswith("docstatus_lineage.")
    }

    def io(task_id):
        event = complete[task_id]
        return ([(d["namespace"], d["name"]) for d in event["inputs"]],
                [(d["namespace"], d["name"]) for d in event["outputs"]])

    assert io("lt") == ([("https://files.example.com", f"/{run}/lt/barcode.pdf")], [])
    assert io("cora") == ([("cora://scans", f"{run}/in/{run}-cora/default.tif")], [("cora://results", f"out/{run}-cora.xml")])
    assert io("xai") == ([("expertai", f"{run}-xai/default.pdf")], [])
    assert io("azt") == ([("wasbs://" + f"{run}-azt@simstorage.dfs.core.windows.net", "default")],
                         [("wasbs://target@simstorage.dfs.core.windows.net", "/")])
    assert complete["azt"]["outputs"][0]["facets"]["docstatus_translation"]["language"] == "fr"
