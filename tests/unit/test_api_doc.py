"""docs/api.md against the code: every class, argument, connection type, extra and XCom key it names exists.

The doc is read as data: in the sections Hooks, Sensors, Triggers and
Operators, a table whose first column is ``class`` or ``method`` holds one
dotted path per row and an ``arguments`` column; a table whose first column
is ``argument`` lists arguments every class of that section takes. An
argument is accepted when a constructor in the class's MRO names it,
following ``**kwargs`` down the MRO (to ``BaseSensorOperator`` and
``BaseOperator``), never as "anything goes": a ``**kwargs`` only lets through
the names the code itself checks (a trigger's vendor ids and options).

The operators are being written on another branch: while a module
``airflow_docstatus.operators.*`` is missing, its rows are skipped, naming
the module, and checked as soon as it is merged.
"""

from __future__ import annotations

import sys

import ast
import importlib
import inspect
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
DOC = ROOT / "docs" / "api.md"
PACKAGE = ROOT / "airflow_docstatus"
CLASS_SECTIONS = ("Hooks", "Sensors", "Triggers", "Operators")
PENDING_MODULE_PREFIX = "airflow_docstatus.operators"
# Extras another branch is adding; checked like the others once the code reads them.
PENDING_EXTRAS: dict[str, str] = {}  # extra -> why it may not be read yet (none today)


# -- reading the doc ------------------------------------------------------------------


@dataclass(frozen=True)
class Table:
    section: str
    header: tuple[str, ...]
    rows: tuple[dict[str, str], ...]


def ticked(cell: str) -> list[str]:
    """The names written in backticks in a cell."""
    return re.findall(r"`([^`]+)`", cell)


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


@cache
def tables() -> tuple[Table, ...]:
    found: list[Table] = []
    section = ""
    lines = DOC.read_text().splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        if line.startswith("## "):
            section = line[3:].strip()
        if line.startswith("|") and index + 1 < len(lines) and set(lines[index + 1].replace("|", "").strip()) <= {"-", ":"}:
            header = tuple(cell.lower() for cell in _cells(line))
            rows = []
            index += 2
            while index < len(lines) and lines[index].startswith("|"):
                cells = _cells(lines[index])
                assert len(cells) == len(header), f"docs/api.md: a row of {len(cells)} cells under {header}: {lines[index]}"
                rows.append(dict(zip(header, cells)))
                index += 1
            found.append(Table(section, header, tuple(rows)))
            continue
        index += 1
    return tuple(found)


def section_of(table: Table) -> str | None:
    return next((name for name in CLASS_SECTIONS if table.section.startswith(name)), None)


@dataclass(frozen=True)
class Entry:
    """One row naming a class or a method, with the argument names the doc gives it."""

    section: str
    path: str
    arguments: tuple[str, ...]
    row: Any  # the row's cells, by column name

    def __repr__(self) -> str:  # the test id
        return self.path


@cache
def entries() -> tuple[Entry, ...]:
    common: dict[str, list[str]] = {}
    for table in tables():
        section = section_of(table)
        if section and table.header[0] == "argument":
            common.setdefault(section, []).extend(ticked(row["argument"])[0] for row in table.rows)
    found = []
    for table in tables():
        section = section_of(table)
        if not section or table.header[0] not in ("class", "method"):
            continue
        assert "arguments" in table.header, f"docs/api.md, {table.section}: a table of classes needs an arguments column"
        for row in table.rows:
            (path,) = ticked(row[table.header[0]])
            arguments = ticked(row["arguments"])
            if table.header[0] == "class":
                arguments += common.get(section, [])
            found.append(Entry(section, path, tuple(arguments), tuple(row.items())))
    return tuple(found)


def entries_in(section: str, kind: str = "class") -> list[Entry]:
    return [e for e in entries() if e.section == section and e.path.rsplit(".", 1)[-1][0].isupper() == (kind == "class")]


def table_with(first_column: str, section_prefix: str) -> Table:
    matches = [t for t in tables() if t.header[0] == first_column and t.section.startswith(section_prefix)]
    assert len(matches) == 1, f"docs/api.md: expected one table starting with {first_column!r} under {section_prefix!r}"
    return matches[0]


# -- reading the code -------------------------------------------------------------------


def import_path(path: str) -> Any:
    """The class (``module.Class``) or method (``module.Class.method``) at a dotted path.

    A missing ``airflow_docstatus.operators`` module skips the test, naming it; any other
    import error fails it.
    """
    parts = path.split(".")
    first_class = next(i for i, part in enumerate(parts) if part[:1].isupper())
    module_name = ".".join(parts[:first_class])
    try:
        target = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if module_name.startswith(PENDING_MODULE_PREFIX) and exc.name and module_name.startswith(exc.name):
            pytest.skip(f"{module_name} is not on this branch yet (the operators are written on another branch)")
        raise
    for attribute in parts[first_class:]:
        target = getattr(target, attribute)
    return target


def dotted(obj: Any) -> str:
    return f"{obj.__module__}.{obj.__qualname__}"


_NAMED = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


def _parameters(function: Any) -> list[inspect.Parameter]:
    return list(inspect.signature(function).parameters.values())[1:]  # without self


def checked_kwargs(cls: type, function_name: str) -> set[str]:
    """Names a ``**kwargs`` of ``cls`` accepts because our code checks them itself (and rejects the rest)."""
    from airflow.triggers.base import BaseTrigger

    if function_name == "__init__" and issubclass(cls, BaseTrigger) and hasattr(cls, "hook_class"):
        hook = cls.hook_class  # DocStatusTrigger.__init__: the ids, options and connection argument of its protocol
        protocol = hook.protocol_class
        return {*protocol.id_fields, *protocol.option_fields, hook.conn_name_attr}
    if function_name in ("check_status", "acheck_status") and hasattr(cls, "protocol_class"):
        return set(cls.protocol_class.id_fields)  # validated by validate_ref before any call
    return set()


def _airflow_bases() -> tuple[type, ...]:
    """Airflow's base classes: they reject unknown keywords themselves, so the walk stops there."""
    from airflow.sdk import BaseHook, BaseOperator
    from airflow.triggers.base import BaseTrigger

    return (BaseOperator, BaseTrigger, BaseHook)


def accepted_arguments(cls: type) -> set[str]:
    """Every keyword a constructor of ``cls`` accepts, following ``**kwargs`` down the MRO to Airflow's bases.

    A ``**kwargs`` never accepts "anything": only the names the class checks itself (``checked_kwargs``).
    """
    names: set[str] = set()
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is not None:
            parameters = _parameters(init)
            names |= {p.name for p in parameters if p.kind in _NAMED}
            if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
                break
            names |= checked_kwargs(cls, "__init__")
        if klass in _airflow_bases():
            break
    return names


def accepted_by_method(cls: type, name: str) -> set[str]:
    parameters = _parameters(getattr(cls, name))
    names = {p.name for p in parameters if p.kind in _NAMED}
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        names |= checked_kwargs(cls, name)
    return names


@cache
def string_constants(module_name: str) -> frozenset[str]:
    source = inspect.getsource(importlib.import_module(module_name))
    return frozenset(
        node.value for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Constant) and isinstance(node.value, str)
    )


def package_string_constants(*relative_globs: str) -> set[str]:
    found: set[str] = set()
    for pattern in relative_globs:
        for path in PACKAGE.glob(pattern):
            module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found |= string_constants(module)
    return found


# -- classes and arguments ----------------------------------------------------------------


@pytest.mark.parametrize("entry", entries(), ids=repr)
def test_every_argument_named_exists(entry):
    target = import_path(entry.path)
    if inspect.isclass(target):
        accepted = accepted_arguments(target)
    else:
        owner = import_path(entry.path.rsplit(".", 1)[0])
        accepted = accepted_by_method(owner, entry.path.rsplit(".", 1)[1])
    missing = [name for name in entry.arguments if name not in accepted]
    assert not missing, f"{entry.path} does not take {missing}; it takes {sorted(accepted)}"


@pytest.mark.parametrize("entry", entries_in("Hooks"), ids=repr)
def test_hook_rows_match_the_hooks(entry):
    hook = import_path(entry.path)
    row = dict(entry.row)
    assert ticked(row["connection type"]) == [hook.conn_type]
    assert ticked(row["default conn id"]) == [hook.default_conn_name]


@pytest.mark.parametrize("entry", entries_in("Sensors"), ids=repr)
def test_sensor_rows_match_the_sensors(entry):
    sensor = import_path(entry.path)
    row = dict(entry.row)
    assert set(ticked(row["templated"])) == set(sensor.template_fields), "the templated column"
    (trigger_path,) = ticked(row["trigger"])
    assert sensor.trigger_class_path == trigger_path
    assert inspect.isclass(import_path(trigger_path))


@pytest.mark.parametrize("entry", entries_in("Triggers"), ids=repr)
def test_trigger_rows_match_the_triggers(entry):
    trigger = import_path(entry.path)
    assert ticked(dict(entry.row)["hook"]) == [dotted(trigger.hook_class)]


def test_every_public_class_of_the_package_is_documented():
    documented = {e.path for e in entries()}
    for kind in ("hooks", "sensors", "triggers"):
        for path in sorted((PACKAGE / kind).glob("*.py")):
            if path.stem == "__init__":
                continue
            module = importlib.import_module(f"airflow_docstatus.{kind}.{path.stem}")
            for name, obj in vars(module).items():
                if inspect.isclass(obj) and obj.__module__ == module.__name__ and not name.startswith("_"):
                    assert dotted(obj) in documented, f"{dotted(obj)} is public but not in docs/api.md"


# -- connections -----------------------------------------------------------------------------


@cache
def registered_forms() -> dict[str, dict]:
    from airflow_docstatus.get_provider_info import get_provider_info

    return {form["connection-type"]: form for form in get_provider_info()["connection-types"]}


def connection_rows() -> list[dict[str, str]]:
    return list(table_with("connection type", "Connections").rows)


def test_the_connection_types_are_exactly_the_registered_ones():
    documented = [ticked(row["connection type"])[0] for row in connection_rows()]
    assert sorted(documented) == sorted(registered_forms()), "docs/api.md connection types vs get_provider_info"


@pytest.mark.parametrize("row", connection_rows(), ids=lambda row: ticked(row["connection type"])[0])
def test_connection_row_matches_its_registration(row):
    (conn_type,) = ticked(row["connection type"])
    form = registered_forms()[conn_type]
    (hook_path,) = ticked(row["hook"])
    assert form["hook-class-name"] == hook_path
    hook = import_path(hook_path)
    assert (hook.conn_type, hook.default_conn_name) == (conn_type, ticked(row["default conn id"])[0])
    vendor_fields = set(form["conn-fields"]) - set(common_form_fields())
    assert set(ticked(row["extras"])) == vendor_fields, "the extras column vs the form's own fields"


def common_form_fields() -> dict:
    from airflow_docstatus.connection_forms import COMMON_FIELDS

    return COMMON_FIELDS


def test_vendor_extras_are_the_form_fields_and_the_code_reads_them():
    table = next(t for t in tables() if t.header[:2] == ("extra", "connection type"))
    read_by_code = package_string_constants("protocols/*.py", "engine/*.py", "hooks/*.py")
    documented: dict[str, set[str]] = {}
    for row in table.rows:
        (extra,) = ticked(row["extra"])
        (conn_type,) = ticked(row["connection type"])
        documented.setdefault(conn_type, set()).add(extra)
        assert extra in registered_forms()[conn_type]["conn-fields"], f"{extra} is no field of the {conn_type} form"
        assert extra in read_by_code, f"no code reads the {extra!r} extra"
    expected = {
        conn_type: set(form["conn-fields"]) - set(common_form_fields()) for conn_type, form in registered_forms().items()
    }
    assert documented == {k: v for k, v in expected.items() if v}


def common_extra_rows() -> list[dict[str, str]]:
    return list(next(t for t in tables() if t.header == ("extra", "default", "meaning")).rows)


@pytest.mark.parametrize("row", common_extra_rows(), ids=lambda row: ticked(row["extra"])[0])
def test_every_common_extra_exists(row):
    (extra,) = ticked(row["extra"])
    in_every_form = all(extra in form["conn-fields"] for form in registered_forms().values())
    read_by_engine = extra in package_string_constants("engine/*.py")
    if not (in_every_form or read_by_engine) and extra in PENDING_EXTRAS:
        pytest.skip(PENDING_EXTRAS[extra])
    assert in_every_form or read_by_engine, f"the {extra!r} extra is neither a form field of every type nor read by the engine"


def test_every_common_form_field_is_documented():
    documented = {ticked(row["extra"])[0] for row in common_extra_rows()}
    assert set(common_form_fields()) <= documented


# -- XComs ----------------------------------------------------------------------------------


def xcom_rows() -> list[dict[str, str]]:
    return list(table_with("key", "XComs").rows)


@pytest.mark.parametrize("row", xcom_rows(), ids=lambda row: ticked(row["key"])[0])
def test_every_xcom_key_is_pushed_by_the_code(row):
    from airflow.sdk.bases.xcom import BaseXCom

    (key,) = ticked(row["key"])
    pushers = ticked(row["pushed by"])
    assert pushers, f"XCom {key}: the pushed-by column names no class"
    present, missing = [], []
    for path in pushers:
        try:
            present.append(import_path(path))
        except pytest.skip.Exception as skipped:
            missing.append(str(skipped))
    if not present:
        pytest.skip(f"XCom {key}: no class that pushes it is on this branch yet: {missing[0]}")
    for cls in present:
        if key == BaseXCom.XCOM_RETURN_KEY:
            assert callable(getattr(cls, "execute", None))  # Airflow pushes what execute returns
            continue
        ours = [k.__module__ for k in cls.__mro__ if k.__module__.startswith("airflow_docstatus")]
        constants = set().union(*(string_constants(module) for module in ours))
        # and string constants the modules import by name (e.g. engine.events.XCOM_DOCSTATUS_KEY)
        constants |= {v for module in ours for v in vars(sys.modules[module]).values() if isinstance(v, str)}
        assert key in constants, f"XCom {key!r}: no such string in the code of {dotted(cls)} or its bases"


# -- the checks are not vacuous -------------------------------------------------------------------


def test_the_doc_is_read_whole():
    counts = {section: len(entries_in(section)) for section in CLASS_SECTIONS}
    assert counts == {"Hooks": 6, "Sensors": 6, "Triggers": 6, "Operators": 5}, counts
    assert len(entries_in("Hooks", kind="method")) >= 15
    assert sum(len(e.arguments) for e in entries()) >= 200
    every_sensor = set(entries_in("Sensors")[0].arguments) & set(entries_in("Sensors")[-1].arguments)
    assert {"deferrable", "max_consecutive_errors", "poke_interval", "timeout", "mode", "soft_fail"} <= every_sensor
    assert {"poll_interval", "end_time"} <= set(entries_in("Triggers")[0].arguments)
    assert {"wait_for_completion", "cancel_on_kill"} <= set(entries_in("Operators")[0].arguments)
    assert len(connection_rows()) == 5
    assert {ticked(row["key"])[0] for row in xcom_rows()} == {"return_value", "docstatus", "job_ref"}
    assert len(common_extra_rows()) >= 5


def test_a_renamed_argument_would_fail():
    from airflow_docstatus.engine.sensor import DocStatusSensor
    from airflow_docstatus.hooks.leadtools import LeadtoolsHook
    from airflow_docstatus.sensors.leadtools import LeadtoolsQuerySensor
    from airflow_docstatus.triggers.leadtools import LeadtoolsQueryTrigger

    class RenamedSensor(DocStatusSensor):  # a vendor sensor whose file_id was renamed
        hook_class = LeadtoolsHook

        def __init__(self, *, guid: str, leadtools_conn_id: str = "leadtools_default", **kwargs: Any) -> None:
            super().__init__(ids={"file_id": guid}, conn_id=leadtools_conn_id, **kwargs)

    sensor_args = accepted_arguments(LeadtoolsQuerySensor)
    assert {"file_id", "poke_interval", "soft_fail", "task_id"} <= sensor_args  # down the MRO to BaseOperator
    assert "fileid" not in sensor_args
    renamed = accepted_arguments(RenamedSensor)
    assert "guid" in renamed and "file_id" not in renamed and "task_id" in renamed
    trigger_args = accepted_arguments(LeadtoolsQueryTrigger)
    assert {"file_id", "leadtools_conn_id", "fail_when_not_run", "poll_interval", "end_time"} <= trigger_args
    assert not {"poke_interval", "batch_id", "context"} & trigger_args
    hook = import_path("airflow_docstatus.hooks.leadtools.LeadtoolsHook")
    assert "file_id" not in accepted_by_method(hook, "extract_text")
    assert accepted_by_method(hook, "check_status") == {"file_id", "remaining"}


def test_readme_points_at_docs_api_md():
    readme = (ROOT / "README.md").read_text()
    assert "(docs/api.md)" in readme
    assert "`API.md`" not in readme
