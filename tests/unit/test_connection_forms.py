"""The connection forms and the provider info, checked for every vendor at once.

Airflow 3.3's runtime schema (``provider_info.schema.json``) does not
describe ``conn-fields`` and ``ui-field-behaviour``; its ``provider.yaml``
schema does, strictly, and Airflow drops (with only a log line) a field
behaviour that does not match it. So each connection type is validated
against that part of ``provider.yaml.schema.json`` too, then loaded by
Airflow's own ProvidersManager, as the api-server does.

In the Airflow 3 UI, standard fields show their relabeling and placeholder;
our extra fields show their label and description (not a placeholder), and a
``"format": "password"`` schema makes a password input that Airflow masks.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from importlib.resources import files
from pathlib import Path

import pytest

from airflow_docstatus.connection_forms import CONNECTION_FORMS
from airflow_docstatus.get_provider_info import get_provider_info
from tests._compat import form_widget_hook_name, form_widget_label

PACKAGE = Path(__file__).resolve().parents[2] / "airflow_docstatus"
STANDARD_FIELDS = ("host", "schema", "login", "password", "port")
# The five connection types API.md promises.
API_CONNECTION_TYPES = {"leadtools", "cora_sequence", "expertai_extract", "smartdocumentor", "azure_document_translation"}
SECRET_NAME = re.compile(r"secret|password|passwd|token|api_?key|subscription_?key|credential", re.IGNORECASE)
CONN_TYPES = sorted(CONNECTION_FORMS)


def connection_type_schema() -> dict:
    schema = json.loads(files("airflow").joinpath("provider.yaml.schema.json").read_text())
    return schema["properties"]["connection-types"]["items"]


@pytest.mark.parametrize("conn_type", CONN_TYPES)
def test_connection_type_matches_airflows_provider_yaml_schema(conn_type):
    jsonschema = pytest.importorskip("jsonschema")
    entry = next(c for c in get_provider_info()["connection-types"] if c["connection-type"] == conn_type)
    jsonschema.validate(entry, connection_type_schema())


@pytest.mark.parametrize("conn_type", CONN_TYPES)
def test_standard_fields_are_relabelled_with_placeholders(conn_type):
    form = CONNECTION_FORMS[conn_type]
    behaviour = form["ui-field-behaviour"]
    hidden = set(behaviour.get("hidden-fields", []))
    relabeling, placeholders = behaviour.get("relabeling", {}), behaviour.get("placeholders", {})
    assert form.get("hook-name"), "the UI lists the connection type by its hook name"
    for name in ("login", "password"):
        assert name in hidden or relabeling.get(name), f"{conn_type}: {name} is shown but not relabelled"
    for name in STANDARD_FIELDS:
        if name not in hidden:
            assert placeholders.get(name), f"{conn_type}: {name} is shown without a placeholder"
    assert not set(relabeling) & hidden, f"{conn_type}: relabels hidden fields {set(relabeling) & hidden}"


@pytest.mark.parametrize("conn_type", CONN_TYPES)
def test_extra_fields_have_labels_help_and_password_marking(conn_type):
    form = CONNECTION_FORMS[conn_type]
    placeholders = form["ui-field-behaviour"].get("placeholders", {})
    assert form["conn-fields"], f"{conn_type} has no extra fields"
    for name, field in form["conn-fields"].items():
        assert field.get("label"), f"{conn_type}.{name} has no label"
        assert field.get("description"), f"{conn_type}.{name}: the UI shows the description, not the placeholder"
        assert placeholders.get(name), f"{conn_type}.{name} has no placeholder"
        is_url = name.endswith("_url")  # a token URL says where a secret comes from; it is not one
        is_secret = not is_url and bool(SECRET_NAME.search(name) or SECRET_NAME.search(field["label"]))
        assert (field.get("schema", {}).get("format") == "password") == is_secret, (
            f"{conn_type}.{name}: a secret must be (and only a secret is) marked \"format\": \"password\""
        )


def test_airflow_loads_every_form_as_we_wrote_it():
    """ProvidersManager, as the api-server uses it: relabeling, placeholders, widgets, sensitivity."""
    from airflow.providers_manager import ProvidersManager

    manager = ProvidersManager()
    behaviours, widgets = manager.field_behaviours, manager.connection_form_widgets
    for conn_type, form in CONNECTION_FORMS.items():
        behaviour = form["ui-field-behaviour"]
        loaded = behaviours.get(conn_type)
        assert loaded, f"Airflow dropped the field behaviour of {conn_type}"
        assert loaded["hidden_fields"] == behaviour.get("hidden-fields", [])
        assert loaded["relabeling"] == behaviour.get("relabeling", {})
        for name, text in behaviour.get("placeholders", {}).items():
            key = name if name in STANDARD_FIELDS else f"extra__{conn_type}__{name}"
            assert loaded["placeholders"][key] == text
        for name, field in form["conn-fields"].items():
            widget = widgets[f"extra__{conn_type}__{name}"]
            assert widget.hook_class_name == form_widget_hook_name(form["hook-class-name"])
            assert form_widget_label(widget) == field["label"]
            assert widget.is_sensitive == (field.get("schema", {}).get("format") == "password")


def test_every_vendor_module_is_registered():
    """Each module in hooks/, sensors/ and triggers/ is listed, and each connection type has its hook listed."""
    info = get_provider_info()
    for section in ("hooks", "sensors", "triggers"):
        listed = {module for entry in info[section] for module in entry["python-modules"]}
        on_disk = {f"airflow_docstatus.{section}.{p.stem}" for p in (PACKAGE / section).glob("*.py")
                   if p.stem != "__init__"}
        assert on_disk == listed, f"{section}: on disk but not registered {on_disk - listed}, " \
                                  f"registered but missing {listed - on_disk}"
    integrations = {i["integration-name"] for i in info["integrations"]}
    for section in ("hooks", "sensors", "triggers"):
        assert {entry["integration-name"] for entry in info[section]} <= integrations
    hook_modules = {module for entry in info["hooks"] for module in entry["python-modules"]}
    for conn_type, form in CONNECTION_FORMS.items():
        assert form["hook-class-name"].rsplit(".", 1)[0] in hook_modules, conn_type


def test_airflow_providers_hooks_lists_every_connection_type():
    airflow = Path(sys.executable).with_name("airflow")
    done = subprocess.run([str(airflow), "providers", "hooks", "-o", "json"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    listed = {hook["connection_type"]: hook for hook in json.loads(done.stdout)}
    ours = {conn_type for conn_type, hook in listed.items() if hook["package_name"] == "airflow-provider-docstatus"}
    assert ours == API_CONNECTION_TYPES
    for conn_type, form in CONNECTION_FORMS.items():
        assert conn_type in listed, f"`airflow providers hooks` does not list {conn_type}"
        assert listed[conn_type]["class"] == form["hook-class-name"]
        assert listed[conn_type]["hook_name"] == form["hook-name"]
        assert listed[conn_type]["package_name"] == "airflow-provider-docstatus"
