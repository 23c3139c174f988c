"""Provider metadata for Airflow's providers manager (the ``apache_airflow_provider`` entry point)."""

from __future__ import annotations

from typing import Any

from airflow_docstatus import __version__
from airflow_docstatus.connection_forms import connection_types
from airflow_docstatus.vendors import VENDORS

def get_provider_info() -> dict[str, Any]:
    """Everything Airflow needs to list this provider, its hooks, operators, sensors, triggers and connection forms."""
    def modules(kind: str) -> list[dict[str, Any]]:
        return [
            {"integration-name": vendor.name, "python-modules": [vendor.module_path(kind)]} for vendor in VENDORS.values()
        ]

    return {
        "package-name": "airflow-provider-docstatus",
        "name": "Document status",
        "description": "Hooks, sensors and triggers that wait on document-processing vendors "
        "(OCR, extraction, translation), with a simulator of each vendor.",
        "versions": [__version__],
        "integrations": [
            {"integration-name": vendor.name, "external-doc-url": vendor.doc_url, "tags": ["service"]}
            for vendor in VENDORS.values()
        ],
        "hooks": modules("hooks"),
        "operators": modules("operators"),
        "sensors": modules("sensors"),
        "triggers": modules("triggers"),
        "connection-types": connection_types(),
    }
