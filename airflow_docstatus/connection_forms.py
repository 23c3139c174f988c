"""The connection forms of every vendor, as data: the one source for the provider info and the hooks.

Airflow 3.2+ reads ``conn-fields`` and ``ui-field-behaviour`` from the
provider info; older Airflow 3 releases ask the hook's
``get_connection_form_widgets`` and ``get_ui_field_behaviour``, which
``DocStatusHook`` derives from the same data. Each vendor's own fields are in
its entry of ``airflow_docstatus.vendors.VENDORS``. This module imports nothing else.
"""

from __future__ import annotations

import copy
from typing import Any

from airflow_docstatus.vendors import VENDORS

COMMON_FIELDS: dict[str, dict[str, Any]] = {
    "verify": {
        "label": "Verify TLS",
        "schema": {"type": ["string", "null"], "default": "true"},
        "description": "true (default), false, or the path of a CA bundle",
    },
    "connect_timeout": {
        "label": "Connect timeout (s)",
        "schema": {"type": ["number", "null"], "default": 10},
        "description": "seconds to wait for the vendor to accept a connection (default 10)",
    },
    "read_timeout": {
        "label": "Read timeout (s)",
        "schema": {"type": ["number", "null"], "default": 30},
        "description": "seconds to wait for each answer (default 30)",
    },
    "call_timeout": {
        "label": "Call timeout (s)",
        "schema": {"type": ["number", "null"], "default": 60},
        "description": "the longest one whole call may take, in seconds (default 60; also cut at the wait's deadline)",
    },
    "max_body_bytes": {
        "label": "Largest answer (bytes)",
        "schema": {"type": ["integer", "null"]},
        "description": (
            "the cap on any answer's body, on the wire and inflated (empty: the vendor's default: "
            "expert.ai 64 MiB, LEADTOOLS 16 MiB, Azure 4 MiB, Cora and SmartDocumentor 1 MiB)"
        ),
    },
}
COMMON_PLACEHOLDERS = {
    "verify": "true",
    "connect_timeout": "10",
    "read_timeout": "30",
    "call_timeout": "60",
    "max_body_bytes": "empty: the vendor's default",
}

# Each vendor's form (airflow_docstatus/vendors.py), its hook, and the common fields added below.
CONNECTION_FORMS: dict[str, dict[str, Any]] = {
    conn_type: {"hook-class-name": vendor.hook_path, "hook-name": vendor.name, **copy.deepcopy(dict(vendor.form))}
    for conn_type, vendor in VENDORS.items()
}

for _form in CONNECTION_FORMS.values():
    _form["conn-fields"] = {**_form.get("conn-fields", {}), **copy.deepcopy(COMMON_FIELDS)}
    _form["ui-field-behaviour"]["placeholders"].update(COMMON_PLACEHOLDERS)


def connection_types() -> list[dict[str, Any]]:
    """The ``connection-types`` list of the provider info."""
    return [{"connection-type": conn_type, **form} for conn_type, form in CONNECTION_FORMS.items()]
