"""The private names of Airflow and zeep in airflow_docstatus/_private_api.py, checked against what is installed.

When one of these fails, a release of Airflow or zeep moved a private name the
provider relies on: adapt ``_private_api.py`` (the only module that names them),
not the callers.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from airflow_docstatus import _private_api

PACKAGE = Path(_private_api.__file__).resolve().parent


def test_no_module_but_the_adapter_names_the_private_calls():
    modules = [p for p in PACKAGE.rglob("*.py") if p.name != "_private_api.py"]
    assert len(modules) > 30
    private = re.compile(r"_get_next_poke_interval\b|\._create\(|\._operations\b")
    assert [str(p.relative_to(PACKAGE)) for p in modules if private.search(p.read_text())] == []


# -- Airflow ---------------------------------------------------------------------------
def test_airflow_base_sensor_has_the_poke_interval_hook_with_its_signature():
    from airflow.sdk import BaseSensorOperator

    method = getattr(BaseSensorOperator, _private_api.AIRFLOW_POKE_INTERVAL, None)
    assert callable(method), f"BaseSensorOperator.{_private_api.AIRFLOW_POKE_INTERVAL} is gone"
    assert list(inspect.signature(method).parameters) == ["self", "started_at", "run_duration", "poke_count"]


def test_airflow_base_sensor_execute_still_asks_the_hook_for_each_interval():
    from airflow.sdk import BaseSensorOperator

    source = inspect.getsource(BaseSensorOperator.execute)
    assert f"self.{_private_api.AIRFLOW_POKE_INTERVAL}(" in source


def test_the_hook_reaches_next_poke_delay_with_airflows_own_interval():
    from airflow_docstatus.sensors.leadtools import LeadtoolsQuerySensor

    sensor = LeadtoolsQuerySensor(task_id="t", file_id="{{ x }}", poke_interval=7)
    seen = []
    sensor.next_poke_delay = lambda base, run_duration: seen.append((base, run_duration())) or 3.0
    assert sensor._get_next_poke_interval(0.0, lambda: 1.5, 1) == 3.0
    assert seen == [(7, 1.5)]


def test_the_sensor_routes_airflows_interval_through_its_poll_policy():
    from airflow_docstatus.sensors.leadtools import LeadtoolsQuerySensor

    sensor = LeadtoolsQuerySensor(task_id="t", file_id="{{ x }}", poke_interval=0.5, timeout=100)
    # LEADTOOLS polls at least 2 s apart, whatever Airflow's own interval says
    assert sensor._get_next_poke_interval(0.0, lambda: 0.0, 1) == pytest.approx(2.0)


# -- zeep ------------------------------------------------------------------------------
def test_zeep_is_below_its_next_major_and_its_binding_has_the_private_create():
    from importlib.metadata import version

    from zeep.wsdl.bindings.soap import Soap11Binding, Soap12Binding, SoapBinding

    assert int(version("zeep").split(".")[0]) < 5
    for binding in (SoapBinding, Soap11Binding, Soap12Binding):
        create = getattr(binding, _private_api.ZEEP_CREATE, None)
        assert callable(create), f"zeep {binding.__name__}.{_private_api.ZEEP_CREATE} is gone"
        assert list(inspect.signature(create).parameters)[:6] == [
            "self", "operation", "args", "kwargs", "client", "options"
        ]


def test_soap_envelope_builds_the_shipped_wsdls_getstatus_for_both_soap_versions():
    import zeep
    from zeep.wsdl.bindings.soap import Soap11Binding, Soap12Binding

    from airflow_docstatus.protocols.cora import shipped_wsdl_path

    client = zeep.Client(shipped_wsdl_path())
    found = {}
    for binding in client.wsdl.bindings.values():
        assert "GetStatus" in binding.all()  # public: Binding.all() is the operations by name
        envelope, headers = _private_api.soap_envelope(
            binding, "GetStatus", {}, client=client, address="http://127.0.0.1:9/x.asmx"
        )
        assert envelope.tag.endswith("}Envelope")
        if isinstance(binding, Soap12Binding):
            found["1.2"] = headers
        elif isinstance(binding, Soap11Binding):
            found["1.1"] = headers
    assert "SOAPAction" in found["1.1"]
    assert "action=" in found["1.2"]["Content-Type"]
