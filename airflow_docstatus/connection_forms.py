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

# Each vendor's own fields and labels; the common ones are added below.
CONNECTION_FORMS: dict[str, dict[str, Any]] = {
    "leadtools": {
        "hook-class-name": "airflow_docstatus.hooks.leadtools.LeadtoolsHook",
        "hook-name": "LEADTOOLS Cloud Services",
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
    "azure_document_translation": {
        "hook-class-name": "airflow_docstatus.hooks.azure_translation.AzureDocumentTranslationHook",
        "hook-name": "Azure AI Document Translation",
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
    "expertai_extract": {
        "hook-class-name": "airflow_docstatus.hooks.expertai.ExpertAiExtractHook",
        "hook-name": "expert.ai Extract",
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
    "smartdocumentor": {
        "hook-class-name": "airflow_docstatus.hooks.smartdocumentor.SmartDocumentorHook",
        "hook-name": "SmartDocumentor Cloud",
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
    "cora_sequence": {
        "hook-class-name": "airflow_docstatus.hooks.cora.CoraSequenceOcrHook",
        "hook-name": "Genpact Cora SeQuence OCR",
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
}

for _form in CONNECTION_FORMS.values():
    _form["conn-fields"] = {**_form.get("conn-fields", {}), **COMMON_FIELDS}
    _form["ui-field-behaviour"]["placeholders"].update(COMMON_PLACEHOLDERS)


def connection_types() -> list[dict[str, Any]]:
    """The ``connection-types`` list of the provider info."""
    return [{"connection-type": conn_type, **form} for conn_type, form in CONNECTION_FORMS.items()]
