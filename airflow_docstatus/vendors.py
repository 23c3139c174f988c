"""Every vendor, once: the one table the provider info, the connection forms, the module lists,
the simulator's connections and the benchmark are derived from.

Keyed by connection type. A new vendor is one ``Vendor`` entry here plus its own modules
(``protocols/``, ``hooks/``, ``sensors/``, ``triggers/``, ``operators/`` and ``simulator/``,
each named ``module``). This module imports nothing, so reading it costs a DAG file nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

PACKAGE = "airflow_docstatus"


@dataclass(frozen=True)
class Simulated:
    """How the vendor simulator stands in for the vendor.

    :param path: appended to the simulator's URL to make the connection's host.
    :param login: the simulator's default login (see ``simulator/scenarios/default.json``), or None.
    :param password: its default password or key.
    :param extra: the connection's extra; ``{url}`` in a string value stands for the simulator's URL.
    :param waiting_status: a vendor status that keeps a document waiting (the benchmark's script).
    :param done_status: a status that ends it in success.
    :param done_payload: what the success carries, or None for the simulator's default.
    :param int_ids: the vendor's ids are whole numbers (the simulator's document ids are text).
    """

    path: str
    password: str
    waiting_status: Any
    done_status: Any
    login: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    done_payload: Any = None
    int_ids: bool = False


@dataclass(frozen=True)
class Vendor:
    """One vendor.

    :param conn_type: the Airflow connection type (the key of ``VENDORS``).
    :param name: the display name: the integration's and the hook's ``hook_name``.
    :param module: the module name under ``hooks``, ``sensors``, ``triggers``, ``operators``,
        ``protocols`` and ``simulator``; also the simulator's vendor name.
    :param doc_url: the vendor's API documentation.
    :param hook: the hook class name in ``hooks.{module}``.
    :param sensors: the sensor class names in ``sensors.{module}``.
    :param triggers: the trigger class names in ``triggers.{module}`` (the first is benchmarked).
    :param operator: the operator class name in ``operators.{module}``.
    :param form: the connection form's own ``conn-fields`` and ``ui-field-behaviour``
        (``connection_forms`` adds the fields every vendor has).
    :param simulator: how the simulator stands in for it.
    """

    conn_type: str
    name: str
    module: str
    doc_url: str
    hook: str
    sensors: tuple[str, ...]
    triggers: tuple[str, ...]
    operator: str
    form: Mapping[str, Any]
    simulator: Simulated

    @property
    def default_conn_id(self) -> str:
        """The hooks' ``default_conn_name``: ``{conn_type}_default``."""
        return f"{self.conn_type}_default"

    def module_path(self, kind: str) -> str:
        """``airflow_docstatus.{kind}.{module}``, kind one of hooks, sensors, triggers, operators, protocols."""
        return f"{PACKAGE}.{kind}.{self.module}"

    @property
    def hook_path(self) -> str:
        return f"{self.module_path('hooks')}.{self.hook}"

    @property
    def trigger_paths(self) -> tuple[str, ...]:
        return tuple(f"{self.module_path('triggers')}.{name}" for name in self.triggers)


VENDORS: dict[str, Vendor] = {
    vendor.conn_type: vendor
    for vendor in (
        Vendor(
            conn_type="leadtools",
            name="LEADTOOLS Cloud Services",
            module="leadtools",
            doc_url="https://services.leadtools.com/documentation/api-reference",
            hook="LeadtoolsHook",
            sensors=("LeadtoolsQuerySensor",),
            triggers=("LeadtoolsQueryTrigger",),
            operator="LeadtoolsExtractTextOperator",
            form={
                "ui-field-behaviour": {
                    "hidden-fields": ["schema", "port", "extra"],
                    "relabeling": {"host": "API base URL", "login": "Application ID", "password": "Application Password"},
                    "placeholders": {
                        "host": "https://azure.leadtools.com/api/ (empty: the public service)",
                        "login": "your LEADTOOLS Application ID",
                        "password": "your LEADTOOLS Application Password",
                    },
            },
            },
            simulator=Simulated(
                path="/leadtools/api/",
                login="sim-leadtools-app",
                password="sim-leadtools-secret",
                waiting_status=100,
                done_status=200,
                done_payload=[{"ServiceType": "Recognition", "RecognitionType": "Text",
                               "data": [{"PageNumber": 1, "Text": "INVOICE 2026-0042"}]}],
            ),
        ),
        Vendor(
            conn_type="expertai_extract",
            name="expert.ai Extract",
            module="expertai",
            doc_url="https://docs.expert.ai/extract/latest/reference/",
            hook="ExpertAiExtractHook",
            sensors=("ExpertAiExtractStatusSensor",),
            triggers=("ExpertAiExtractStatusTrigger",),
            operator="ExpertAiExtractLayoutOperator",
            form={
                "conn-fields": {
                    "auth_url": {
                        "label": "Token URL",
                        "schema": {"type": ["string", "null"]},
                        "description": "where the JWT comes from (empty: https://developer.expert.ai/oauth2/token)",
                    },
            },
            "ui-field-behaviour": {
                "hidden-fields": ["schema", "port", "extra"],
                "relabeling": {"host": "API base URL", "login": "Username", "password": "Password"},
                "placeholders": {
                    "host": "https://extract.expert.ai/beta (empty: the public service)",
                    "login": "your expert.ai developer account username",
                    "password": "your expert.ai developer account password",
                    "auth_url": "https://developer.expert.ai/oauth2/token",
                },
            },
            },
            simulator=Simulated(
                path="/expertai/beta",
                login="sim-expertai-user",
                password="sim-expertai-secret",
                extra={"auth_url": "{url}/expertai/oauth2/token"},
                waiting_status="PROGRESS",
                done_status="SUCCESS",
            ),
        ),
        Vendor(
            conn_type="smartdocumentor",
            name="SmartDocumentor Cloud",
            module="smartdocumentor",
            doc_url="https://docs.smartdocumentor.net/technical/",
            hook="SmartDocumentorHook",
            sensors=("SmartDocumentorTaskStatusSensor",),
            triggers=("SmartDocumentorTaskStatusTrigger",),
            operator="SmartDocumentorProcessTaskOperator",
            form={
                "conn-fields": {
                    "scope": {
                        "label": "Scope",
                        "schema": {"type": ["string", "null"], "default": "WebAPI"},
                        "description": "the OAuth scope of the client credentials (default WebAPI)",
                    },
                    "token_url": {
                        "label": "Token URL",
                        "schema": {"type": ["string", "null"]},
                        "description": "where the access token comes from (empty: {host}/connect/token)",
                    },
            },
            "ui-field-behaviour": {
                "hidden-fields": ["schema", "port", "extra"],
                "relabeling": {"host": "Base URL", "login": "Client ID", "password": "Client secret"},
                "placeholders": {
                    "host": "https://cloud.smartdocumentor.net (empty: the public service)",
                    "login": "your SmartDocumentor client_id",
                    "password": "your SmartDocumentor client_secret",
                    "scope": "WebAPI",
                    "token_url": "https://cloud.smartdocumentor.net/connect/token",
                },
            },
            },
            simulator=Simulated(
                path="/smartdocumentor",
                login="sim-sd-client",
                password="sim-sd-secret",
                extra={"scope": "WebAPI", "token_url": "{url}/smartdocumentor/connect/token"},
                waiting_status="PreProcessingInProgress",
                done_status="Processed",
                int_ids=True,
            ),
        ),
        Vendor(
            conn_type="azure_document_translation",
            name="Azure AI Document Translation",
            module="azure_translation",
            doc_url="https://learn.microsoft.com/azure/ai-services/translator/document-translation/overview",
            hook="AzureDocumentTranslationHook",
            sensors=("AzureDocumentTranslationStatusSensor", "AzureTranslationBatchStatusSensor",),
            triggers=("AzureDocumentTranslationStatusTrigger", "AzureTranslationBatchStatusTrigger",),
            operator="AzureDocumentTranslationOperator",
            form={
                "conn-fields": {
                    "api_version": {
                        "label": "API version",
                        "schema": {"type": ["string", "null"], "default": "v1.1"},
                        "description": "v1.1 (default) or a GA date such as 2024-05-01",
                    },
            },
            "ui-field-behaviour": {
                "hidden-fields": ["schema", "port", "login", "extra"],
                "relabeling": {"host": "Endpoint (custom domain)", "password": "Subscription key"},
                "placeholders": {
                    "host": "https://<resource>.cognitiveservices.azure.com",
                    "password": "the resource's subscription key",
                    "api_version": "v1.1",
                },
            },
            },
            simulator=Simulated(
                path="/azure/",
                password="sim-azure-translation-key",
                waiting_status="Running",
                done_status="Succeeded",
            ),
        ),
        Vendor(
            conn_type="cora_sequence",
            name="Genpact Cora SeQuence OCR",
            module="cora",
            doc_url="https://knowledgecenter.gcora.genpact.com/help/ocr-getstatus",
            hook="CoraSequenceOcrHook",
            sensors=("CoraOcrStatusSensor",),
            triggers=("CoraOcrStatusTrigger",),
            operator="CoraFileBatchOperator",
            form={
                "conn-fields": {
                    "auth": {
                        "label": "Authentication",
                        "schema": {"type": ["string", "null"]},
                        "description": "basic, ntlm (needs the [ntlm] extra; poke/reschedule mode only) or none; "
                        "default: basic when a login is given, else none",
                    },
                    "wsdl": {
                        "label": "WSDL",
                        "schema": {"type": ["string", "null"]},
                        "description": "URL (e.g. the server's ...asmx?WSDL) or file path; default: the WSDL shipped "
                        "with the provider",
                    },
                    "wsdl_allowed_origins": {
                        "label": "WSDL import origins",
                        "schema": {"type": ["string", "null"]},
                        "description": "more http(s) origins a WSDL may import schemas from, comma-separated URLs, asked "
                        "without credentials; the host's and the WSDL URL's are always allowed",
                    },
                    "soap_version": {
                        "label": "SOAP version",
                        "schema": {"type": ["string", "null"], "default": "1.1"},
                        "description": "1.1 (default) or 1.2",
                    },
            },
            "ui-field-behaviour": {
                "hidden-fields": ["schema", "port", "extra"],
                "relabeling": {"host": "Server base URL", "login": "User (optional)", "password": "Password (optional)"},
                "placeholders": {
                    "host": "https://cora.example.com (the .asmx path is appended)",
                    "login": "DOMAIN\\user for NTLM, user for Basic; empty for anonymous",
                    "password": "the user's password (Basic or NTLM); empty for anonymous",
                    "auth": "basic",
                    "wsdl": "empty: the shipped WSDL",
                    "wsdl_allowed_origins": "empty: only the host's and the WSDL URL's",
                    "soap_version": "1.1",
                },
            },
            },
            simulator=Simulated(
                path="/cora/",
                login="sim-cora-user",
                password="sim-cora-secret",
                extra={"auth": "basic", "soap_version": "1.1"},
                waiting_status="ProcessingInput",
                done_status="Completed",
                int_ids=True,
            ),
        ),
    )
}
