"""The vendor table (airflow_docstatus/vendors.py) against the package: every vendor module is in it,
every name in it exists, and what is derived from it says the same."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from airflow_docstatus.vendors import VENDORS

PACKAGE = Path(__file__).resolve().parents[2] / "airflow_docstatus"
KINDS = ("protocols", "hooks", "sensors", "triggers", "operators")


@pytest.mark.parametrize("kind", [*KINDS, "simulator"])
def test_every_vendor_module_of_the_package_is_in_the_table(kind):
    shared = {"__init__", "soap", "wsdl_fetch", "app", "documents", "faults", "sandbox", "tokens", "__main__"}
    stems = {p.stem for p in (PACKAGE / kind).glob("*.py")} - shared
    assert stems == {vendor.module for vendor in VENDORS.values()}


@pytest.mark.parametrize("vendor", list(VENDORS.values()), ids=list(VENDORS))
def test_every_name_in_the_table_exists_and_agrees_with_its_class(vendor):
    hook_module, _, hook_name = vendor.hook_path.rpartition(".")
    hook = getattr(importlib.import_module(hook_module), hook_name)
    assert (hook.conn_type, hook.hook_name, hook.default_conn_name) == (vendor.conn_type, vendor.name,
                                                                        vendor.default_conn_id)
    sensors = importlib.import_module(vendor.module_path("sensors"))
    triggers = importlib.import_module(vendor.module_path("triggers"))
    operators = importlib.import_module(vendor.module_path("operators"))
    for name in vendor.sensors:
        assert issubclass(getattr(sensors, name).hook_class, hook)
    for path, name in zip(vendor.trigger_paths, vendor.triggers):
        assert getattr(triggers, name).__module__ + "." + name == path
    assert issubclass(getattr(operators, vendor.operator).hook_class, hook)
    simulator = importlib.import_module(f"airflow_docstatus.simulator.{vendor.module}")
    assert simulator.NAME == vendor.module


def test_provider_info_forms_and_simulator_connections_come_from_the_table():
    from airflow_docstatus.connection_forms import CONNECTION_FORMS
    from airflow_docstatus.get_provider_info import get_provider_info
    from airflow_docstatus.simulator.sandbox import SIMULATOR_CONNECTIONS

    info = get_provider_info()
    assert [i["integration-name"] for i in info["integrations"]] == [v.name for v in VENDORS.values()]
    for kind in ("hooks", "sensors", "triggers", "operators"):
        assert [m for entry in info[kind] for m in entry["python-modules"]] == [
            v.module_path(kind) for v in VENDORS.values()
        ]
    assert list(CONNECTION_FORMS) == list(VENDORS)
    assert {s["conn_type"] for s in SIMULATOR_CONNECTIONS.values()} == set(VENDORS)
    assert set(SIMULATOR_CONNECTIONS) == {v.default_conn_id for v in VENDORS.values()}


def test_the_benchmark_measures_every_vendor_of_the_table():
    root = PACKAGE.parent
    probe = (
        "import sys; sys.path.insert(0, 'benchmarks'); import triggerer_scale as t, import_cost as i; "
        "print(sorted(t.VENDORS)); print(len(i.sensor_modules()))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=root)
    names, count = done.stdout.strip().splitlines()[-2:]
    assert names == str(sorted(v.module for v in VENDORS.values()))
    assert int(count) == len(VENDORS)


def test_reading_the_table_imports_nothing_but_the_standard_library():
    probe = (
        "import sys; before = set(sys.modules); import airflow_docstatus.vendors; "
        "print(sorted(m for m in set(sys.modules) - before "
        "if m.split('.')[0] not in sys.stdlib_module_names and not m.startswith('airflow_docstatus')))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]"
