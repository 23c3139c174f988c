"""`mypy` is clean, with the configuration in pyproject.toml ([tool.mypy]): strict on airflow_docstatus.engine,
the default checks on the rest of the package, the example DAGs, the benchmarks and the scripts."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _pinned_airflow() -> str:
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line.startswith("apache-airflow=="):
            return line.split("==", 1)[1].strip()
    raise AssertionError("constraints.txt pins no apache-airflow")


def _installed_airflow() -> str:
    from importlib.metadata import version

    return version("apache-airflow")


# The types are checked against the Airflow we develop on (constraints.txt); the older legs of the
# version matrix (make compat) run the behaviour tests, not the type checker against their stubs.
pytestmark = pytest.mark.skipif(
    _installed_airflow() != _pinned_airflow(),
    reason="mypy checks against the Airflow constraints.txt pins; this is another leg of the version matrix",
)


def test_mypy_is_clean():
    mypy = Path(sys.executable).with_name("mypy")
    command = str(mypy) if mypy.exists() else shutil.which("mypy")
    if command is None:
        pytest.skip("mypy is not installed (it comes with the test extra)")
    # The files, the strict modules and the cache (.mypy_cache/, ignored by git) come from pyproject.toml.
    done = subprocess.run([command, "--no-error-summary"], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_engine_is_checked_strictly():
    """The strict flags are on for the engine's modules only (an override's `strict` would leak to every module)."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]
    engine = [o for o in config["overrides"] if o["module"] == ["airflow_docstatus.engine.*"]]
    assert len(engine) == 1
    strict_flags = {
        "disallow_any_generics", "disallow_subclassing_any", "disallow_untyped_calls", "disallow_untyped_defs",
        "disallow_incomplete_defs", "check_untyped_defs", "disallow_untyped_decorators", "warn_return_any",
        "no_implicit_reexport", "strict_equality", "extra_checks",
    }
    assert {flag for flag in strict_flags if engine[0].get(flag) is True} == strict_flags
    assert "strict" not in config and all("strict" not in o for o in config["overrides"])
    assert config["warn_unused_ignores"] is True


PROBE = '''
from airflow_docstatus.operators.smartdocumentor import SmartDocumentorProcessTaskOperator
from airflow_docstatus.sensors.leadtools import LeadtoolsQuerySensor
from airflow_docstatus.hooks.azure_translation import AzureTranslationBatchHook
from airflow_docstatus.hooks.cora import CoraSequenceOcrHook
from airflow_docstatus.triggers.cora import CoraOcrStatusTrigger

sensor = LeadtoolsQuerySensor(task_id="t", file_id="x")
reveal_type(sensor.hook)
reveal_type(sensor.hook.protocol)
reveal_type(AzureTranslationBatchHook().protocol)
reveal_type(CoraOcrStatusTrigger.hook_class)
reveal_type(SmartDocumentorProcessTaskOperator.find_started_job)
sensor.hook.protocol.extract_text_request("https://example.com/a.pdf", 1, -1)
sensor.hook.protocol.no_such_call()

class Wrong(SmartDocumentorProcessTaskOperator):
    def start_job(self, hook: CoraSequenceOcrHook) -> dict[str, object]:
        return {}
'''


def test_the_type_parameters_type_each_vendors_hook_and_protocol(tmp_path):
    """What the generics are for: a vendor's hook and protocol are typed as themselves, with no narrowing."""
    mypy = Path(sys.executable).with_name("mypy")
    command = str(mypy) if mypy.exists() else shutil.which("mypy")
    if command is None:
        pytest.skip("mypy is not installed (it comes with the test extra)")
    probe = tmp_path / "docstatus_typing_probe.py"
    probe.write_text(PROBE)
    done = subprocess.run([command, "--no-error-summary", str(probe)], capture_output=True, text=True, cwd=ROOT)
    # By file name, not path: mypy's cache may replay the lines of an earlier, identical probe with its path.
    found = [line.split(": ", 1)[1] for line in done.stdout.splitlines() if f"{probe.name}:" in line]
    revealed = [line.removeprefix('note: Revealed type is "')[:-1] for line in found if "Revealed type" in line]
    assert revealed == [
        "airflow_docstatus.hooks.leadtools.LeadtoolsHook",
        "airflow_docstatus.protocols.leadtools.LeadtoolsProtocol",
        "airflow_docstatus.protocols.azure_translation.AzureTranslationProtocol",
        "def (cora_conn_id: str =, activity_metadata: typing.Mapping[str, Any] | None =)"
        " -> airflow_docstatus.hooks.cora.CoraSequenceOcrHook",
        "def (self: airflow_docstatus.operators.smartdocumentor.SmartDocumentorProcessTaskOperator,"
        " hook: airflow_docstatus.hooks.smartdocumentor.SmartDocumentorHook) -> dict[str, Any] | None",
    ], done.stdout + done.stderr
    errors = [line for line in found if line.startswith("error:")]
    assert errors[0] == 'error: "LeadtoolsProtocol" has no attribute "no_such_call"  [attr-defined]', errors
    # a start_job that takes another vendor's hook than the class's parameter
    assert errors[1:] and all(
        'Argument 1 of "start_job" is incompatible' in e and '"SmartDocumentorHook"  [override]' in e for e in errors[1:]
    ), errors
    assert done.returncode == 1
