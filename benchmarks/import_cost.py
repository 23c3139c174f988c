"""Import cost of every ``airflow_docstatus.sensors.*`` module, on top of ``airflow.sdk``.

What a DAG file pays to use one of our sensors. Each measurement is a fresh
interpreter that imports ``airflow.sdk`` and resolves the names every DAG with
a sensor already uses (``DAG``, ``task``, ``BaseSensorOperator``), then imports
the sensor module; the difference is what the module adds. The median of
several runs is reported, with the bare ``import airflow.sdk`` for reference,
and the heavy HTTP clients (requests, aiohttp, zeep) that the import loaded:
there must be none.

Usage: ``python benchmarks/import_cost.py [--runs 7]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("requests", "aiohttp", "zeep")
TARGET_MS = 30.0

PROBE = """
import json, sys, time
t0 = time.perf_counter()
import airflow.sdk
t1 = time.perf_counter()
from airflow.sdk import DAG, task, BaseSensorOperator
t2 = time.perf_counter()
import {module}
t3 = time.perf_counter()
print(json.dumps({{"sdk_ms": (t1 - t0) * 1000, "sdk_names_ms": (t2 - t1) * 1000, "module_ms": (t3 - t2) * 1000,
                  "heavy": [m for m in {heavy!r} if m in sys.modules]}}))
"""


def sensor_modules() -> list[str]:
    """Every vendor's sensor module (airflow_docstatus/vendors.py)."""
    from airflow_docstatus.vendors import VENDORS

    return sorted(vendor.module_path("sensors") for vendor in VENDORS.values())


def probe(module: str) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-c", PROBE.format(module=module, heavy=HEAVY)],
                          capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(runs: int = 7) -> dict[str, Any]:
    """Median import times per sensor module over ``runs`` fresh interpreters (after one warm-up)."""
    modules: dict[str, Any] = {}
    for module in sensor_modules():
        probe(module)  # warm the file system cache and the bytecode
        samples = [probe(module) for _ in range(runs)]
        modules[module] = {
            "added_ms": statistics.median(s["module_ms"] for s in samples),
            "added_ms_over_bare_sdk": statistics.median(s["module_ms"] + s["sdk_names_ms"] for s in samples),
            "airflow_sdk_ms": statistics.median(s["sdk_ms"] + s["sdk_names_ms"] for s in samples),
            "heavy_modules": sorted({m for s in samples for m in s["heavy"]}),
        }
    return {"runs": runs, "target_ms": TARGET_MS, "modules": modules}


def markdown(result: dict[str, Any]) -> str:
    lines = [
        f"Import cost (median of {result['runs']} fresh interpreters; target ≤ {TARGET_MS:.0f} ms added):",
        "",
        "| sensor module | adds on top of airflow.sdk + DAG, task, BaseSensorOperator | adds on top of bare `import airflow.sdk` "
        "| airflow.sdk itself | requests/aiohttp/zeep loaded |",
        "|---|---:|---:|---:|---|",
    ]
    for module, m in result["modules"].items():
        lines.append(f"| `{module}` | {m['added_ms']:.1f} ms | {m['added_ms_over_bare_sdk']:.1f} ms "
                     f"| {m['airflow_sdk_ms']:.0f} ms | {', '.join(m['heavy_modules']) or 'none'} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    result = measure(args.runs)
    print(markdown(result))
    worst = max(m["added_ms"] for m in result["modules"].values())
    heavy = any(m["heavy_modules"] for m in result["modules"].values())
    return 0 if worst <= TARGET_MS and not heavy else 1


if __name__ == "__main__":
    raise SystemExit(main())
