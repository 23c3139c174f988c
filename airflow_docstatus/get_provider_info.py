"""Provider metadata for Airflow's providers manager (the ``apache_airflow_provider`` entry point)."""

from __future__ import annotations

from typing import Any

from airflow_docstatus import __version__
from airflow_docstatus.connection_forms import connection_types

_INTEGRATIONS = {
    "LEADTOOLS Cloud Services": ("leadtools", "https://services.leadtools.com/documentation/api-reference"),
    "expert.ai Extract": ("expertai", "https://docs.expert.ai/extract/latest/reference/"),
    "SmartDocumentor Cloud": ("smartdocumentor", "https://docs.smartdocumentor.net/technical/"),
    "Azure AI Document Translation": (
        "azure_translation",
        "https://learn.microsoft.com/azure/ai-services/translator/document-translation/overview",
    ),
    "Genpact Cora SeQuence OCR": ("cora", "https://knowledgecenter.gcora.genpact.com/help/ocr-getstatus"),
}


def get_provider_info() -> dict[str, Any]:
    """Everything Airflow needs to list this provider, its hooks, operators, sensors, triggers and connection forms."""
    modules = {name: module for name, (module, _) in _INTEGRATIONS.items()}
    return {
        "package-name": "airflow-provider-docstatus",
        "name": "Document status",
        "description": "Hooks, sensors and triggers that wait on document-processing vendors "
        "(OCR, extraction, translation), with a simulator of each vendor.",
        "versions": [__version__],
        "integrations": [
            {"integration-name": name, "external-doc-url": url, "tags": ["service"]}
            for name, (_, url) in _INTEGRATIONS.items()
        ],
        "hooks": [
            {"integration-name": name, "python-modules": [f"airflow_docstatus.hooks.{module}"]}
            for name, module in modules.items()
        ],
        "operators": [
            {"integration-name": name, "python-modules": [f"airflow_docstatus.operators.{module}"]}
            for name, module in modules.items()
        ],
        "sensors": [
            {"integration-name": name, "python-modules": [f"airflow_docstatus.sensors.{module}"]}
            for name, module in modules.items()
        ],
        "triggers": [
            {"integration-name": name, "python-modules": [f"airflow_docstatus.triggers.{module}"]}
            for name, module in modules.items()
        ],
        "connection-types": connection_types(),
    }
