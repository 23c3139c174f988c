"""Registration with Airflow and the cost of importing a sensor module."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import entry_points
from importlib.resources import files
from pathlib import Path

import pytest

from airflow_docstatus.connection_forms import CONNECTION_FORMS
from airflow_docstatus.get_provider_info import get_provider_info
from airflow_docstatus.vendors import VENDORS

PACKAGE = Path(__file__).resolve().parents[2] / "airflow_docstatus"
SENSOR_MODULES = sorted(vendor.module_path(kind) for kind in ("sensors", "operators") for vendor in VENDORS.values())


def test_provider_info_matches_airflows_schema():
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(files("airflow").joinpath("provider_info.schema.json").read_text())
    jsonschema.validate(get_provider_info(), schema)


def test_entry_point_is_registered():
    found = [ep for ep in entry_points(group="apache_airflow_provider") if ep.value.startswith("airflow_docstatus")]
    assert [ep.value for ep in found] == ["airflow_docstatus.get_provider_info:get_provider_info"]


def test_every_listed_module_and_hook_class_imports():
    from airflow_docstatus._compat import import_string

    info = get_provider_info()
    for section in ("hooks", "operators", "sensors", "triggers"):
        for entry in info[section]:
            for module in entry["python-modules"]:
                __import__(module)
    for conn in info["connection-types"]:
        hook = import_string(conn["hook-class-name"])
        assert hook.conn_type == conn["connection-type"]
        assert hook.hook_name == conn["hook-name"]


def test_hook_form_methods_follow_the_provider_info():
    from airflow_docstatus.hooks.leadtools import LeadtoolsHook

    behaviour = CONNECTION_FORMS["leadtools"]["ui-field-behaviour"]
    derived = LeadtoolsHook.get_ui_field_behaviour()
    assert derived["hidden_fields"] == behaviour["hidden-fields"]
    assert derived["relabeling"] == behaviour["relabeling"]
    assert derived["relabeling"]["login"] == "Application ID"
    assert "get_ui_field_behaviour" in LeadtoolsHook.__dict__  # old Airflow reads only the class's own dict


@pytest.mark.parametrize("module", SENSOR_MODULES)
def test_importing_a_sensor_or_operator_module_leaves_http_clients_unloaded(module):
    probe = (
        f"import sys, airflow.sdk; import {module}; "
        "print(sorted(m for m in ('requests', 'aiohttp', 'zeep') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_airflow_lists_the_provider_and_its_connection_type():
    airflow = Path(sys.executable).with_name("airflow")
    listed = subprocess.run([str(airflow), "providers", "list", "-o", "json"], capture_output=True, text=True)
    assert listed.returncode == 0, listed.stderr
    assert "airflow-provider-docstatus" in listed.stdout
    hooks = subprocess.run([str(airflow), "providers", "hooks", "-o", "json"], capture_output=True, text=True)
    assert hooks.returncode == 0, hooks.stderr
    for conn_type in CONNECTION_FORMS:
        assert f'"{conn_type}"' in hooks.stdout


def test_provider_code_never_imports_the_simulator():
    package = Path(__file__).resolve().parents[2] / "airflow_docstatus"
    offenders = [
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if "simulator" not in path.relative_to(package).parts
        and ("airflow_docstatus.simulator" in path.read_text() or "from .simulator" in path.read_text())
    ]
    assert offenders == []
