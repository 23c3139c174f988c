"""``make demo``: every example DAG, end to end, against the simulator, on SQLite.

Starts the simulator, prepares a throw-away AIRFLOW_HOME (``.demo/``), runs
``airflow dags test`` for each example DAG, prints each outcome and what the
DAG produced (the return value of its last tasks, read back from the run's
XComs in the metadata database), stops the simulator, and exits non-zero if
any run failed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from airflow_docstatus.simulator.sandbox import AirflowSandbox, example_dag_ids, running_simulator

ROOT = Path(__file__).resolve().parent.parent

# The tasks whose return value shows what each example DAG produced (its consumers of the sensors' payloads).
RESULT_TASKS: dict[str, tuple[str, ...]] = {
    "example_leadtools": ("print_invoice_text", "print_contract_text"),
    "example_cora": ("read_output",),
    "example_expertai": ("list_titles",),
    "example_smartdocumentor": ("report",),
    "example_azure_translation": ("publish",),
}
WIDTH = 80


def shorten(value: Any, width: int = WIDTH) -> str:
    """A value on one line of at most ``width`` characters: newlines shown as `` | ``, cut with ``…``."""
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    text = " | ".join(line.strip() for line in text.splitlines() if line.strip())
    return text if len(text) <= width else text[: width - 1] + "…"


def result_lines(sandbox: AirflowSandbox, dag_id: str) -> list[str]:
    """What the newest run of ``dag_id`` produced: one line per result task, ``task_id: value``."""
    values = sandbox.xcoms(dag_id)
    tasks = RESULT_TASKS.get(dag_id)
    if tasks is None:  # an example without an entry above: every task that returned something
        tasks = tuple(values)
    return [
        f"{task_id}: {shorten(values[task_id])}" if task_id in values else f"{task_id}: (no return value)"
        for task_id in tasks
    ]


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
            if result.ok:
                for line in result_lines(sandbox, dag_id):
                    print(f"    {line}")
            else:
                print(result.output[-4000:])
            results.append(result)
    failed = [r.dag_id for r in results if not r.ok]
    print(f"\n{len(results) - len(failed)} passed, {len(failed)} failed" + (f": {', '.join(failed)}" if failed else ""))
    return 1 if failed or not results else 0


if __name__ == "__main__":
    sys.exit(main())
