"""``make demo``: every example DAG, end to end, against the simulator, on SQLite.

Starts the simulator, prepares a throw-away AIRFLOW_HOME (``.demo/``), runs
``airflow dags test`` for each example DAG, prints each outcome, stops the
simulator, and exits non-zero if any run failed.
"""

from __future__ import annotations

import sys
from pathlib import Path

from airflow_docstatus.simulator.sandbox import AirflowSandbox, example_dag_ids, running_simulator

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    dags_folder = ROOT / "example_dags"
    dag_ids = example_dag_ids(dags_folder)
    results = []
    with running_simulator() as url:
        print(f"simulator listening on {url}")
        sandbox = AirflowSandbox(ROOT / ".demo" / "airflow-home", dags_folder, url)
        sandbox.prepare()
        print(f"AIRFLOW_HOME={sandbox.home} (SQLite)")
        for dag_id in dag_ids:
            print(f"--- airflow dags test {dag_id}", flush=True)
            result = sandbox.dags_test(dag_id)
            log_file = sandbox.home / f"{dag_id}.log"
            log_file.write_text(result.output)
            print(f"{dag_id}: {'success' if result.ok else 'FAILED'} in {result.seconds:.1f}s (log: {log_file})")
            if not result.ok:
                print(result.output[-4000:])
            results.append(result)
    failed = [r.dag_id for r in results if not r.ok]
    print(f"\n{len(results) - len(failed)} passed, {len(failed)} failed" + (f": {', '.join(failed)}" if failed else ""))
    return 1 if failed or not results else 0


if __name__ == "__main__":
    sys.exit(main())
