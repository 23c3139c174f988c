"""The connection forms of every vendor, as data: the one source for the provider info and the hooks.

Airflow 3.2+ reads ``conn-fields`` and ``ui-field-behaviour`` from the
provider info; older Airflow 3 releases ask the hook's
``get_connection_form_widgets`` and ``get_ui_field_behaviour``, which
``DocStatusHook`` derives from the same data. This module imports nothing.
"""

from __future__ import annotations

from typing import Any

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
}

CONNECTION_FORMS: dict[str, dict[str, Any]] = {
    "leadtools": {
        "hook-class-name": "airflow_docstatus.hooks.leadtools.LeadtoolsHook",
        "hook-name": "LEADTOOLS Cloud Services",
        "conn-fields": dict(COMMON_FIELDS),
        "ui-field-behaviour": {
            "hidden-fields": ["schema", "port", "extra"],
            "relabeling": {"host": "API base URL", "login": "Application ID", "password": "Application Password"},
            "placeholders": {
                "host": "https://azure.leadtools.com/api/ (empty: the public service)",
                "login": "your LEADTOOLS Application ID",
                "password": "your LEADTOOLS Application Password",
                "verify": "true",
                "connect_timeout": "10",
                "read_timeout": "30",
            },
        },
    },
}


def connection_types() -> list[dict[str, Any]]:
    """The ``connection-types`` list of the provider info."""
    return [{"connection-type": conn_type, **form} for conn_type, form in CONNECTION_FORMS.items()]
