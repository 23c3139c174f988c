"""Running test DAGs with ``airflow dags test`` and reading what they left in the metadata database.

Every DAG file in ``tests/dags`` is copied into the private dags folder. A
test creates scripted documents on the simulator, runs a DAG with
``dags_test(dag_id, conf)`` (triggers run inline), then reads task states,
tries and XComs with ``last_run(dag_id)``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def dags_test(dag_id: str, conf: dict, timeout: float = 300) -> subprocess.CompletedProcess:
    """``airflow dags test dag_id -c conf`` in the private Airflow home, killed after ``timeout`` seconds."""
    airflow = Path(sys.executable).with_name("airflow")
    return subprocess.run(
        [str(airflow), "dags", "test", dag_id, "-c", json.dumps(conf)],
        capture_output=True, text=True, timeout=timeout, check=False,
    )


def output_of(done: subprocess.CompletedProcess) -> str:
    return done.stdout + done.stderr


def last_run(dag_id: str) -> dict:
    """Run state, task states, tries, XComs and task history of the newest run of ``dag_id``."""
    from sqlalchemy import select

    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.taskinstancehistory import TaskInstanceHistory
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        run = session.scalars(
            select(DagRun).where(DagRun.dag_id == dag_id).order_by(DagRun.id.desc()).limit(1)
        ).one()
        tis = session.scalars(select(TaskInstance).where(TaskInstance.run_id == run.run_id,
                                                         TaskInstance.dag_id == dag_id)).all()
        xcoms = session.scalars(select(XComModel).where(XComModel.run_id == run.run_id,
                                                        XComModel.dag_id == dag_id)).all()
        history = session.scalars(select(TaskInstanceHistory).where(TaskInstanceHistory.run_id == run.run_id,
                                                                    TaskInstanceHistory.dag_id == dag_id)).all()
        return {
            "state": str(run.state),
            "tasks": {ti.task_id: str(ti.state) for ti in tis},
            "tries": {ti.task_id: ti.try_number for ti in tis},
            "xcom": {(x.task_id, x.key): XComModel.deserialize_value(x) for x in xcoms},
            "history": [(h.task_id, str(h.state)) for h in history],
        }
