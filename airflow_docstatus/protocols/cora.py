"""Genpact Cora SeQuence OCR: ``GetStatus`` and ``FileBatch`` over SOAP 1.1 or 1.2.

zeep builds the envelopes and reads the replies (see ``protocols/soap.py``);
the engine's transports carry them, so the same code runs in the hook
(requests) and in the trigger (aiohttp). The protocol itself does no I/O: the
hook binds it to a ``SoapService`` (a WSDL loaded once per process) first.
"""

from __future__ import annotations

import importlib.resources
import os
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urljoin, urlsplit

from airflow_docstatus.engine.errors import (
    InvalidInputError,
    PermanentError,
    TransientError,
)
from airflow_docstatus.engine.http import HttpRequest, HttpResponse, basic_auth_header
from airflow_docstatus.engine.protocol import AUTH_HTTP_STATUSES, Ref, VendorProtocol
from airflow_docstatus.engine.settings import ConnectionSettings, url_origin
from airflow_docstatus.engine.status import DocStatus, State, StatusTable
from airflow_docstatus.engine.values import structured
from airflow_docstatus.protocols.soap import SOAP_VERSIONS, SoapFault, find_fault, parse_envelope

if TYPE_CHECKING:
    from airflow_docstatus.protocols.soap import SoapService

NAMESPACE = "http://genpact.com/cora/orchestration/ocr/1.0.0/api/"
ACTIVITY_METADATA = f"{{{NAMESPACE}}}ActivityMetadata"
SERVICE_PATH = "SequenceServices/coraOcrIntegration_v1.0.0.asmx"
SHIPPED_WSDL = "coraOcrIntegration_v1.0.0.wsdl"
GET_STATUS = "GetStatus"
FILE_BATCH = "FileBatch"
AUTH_MODES = ("none", "basic", "ntlm")
MAX_LONG = 2**63 - 1
MAX_INT = 2**31 - 1

# The ActivityMetadata header fields besides MasterWorkflowInstanceId, in schema order, with their types.
ACTIVITY_METADATA_FIELDS: dict[str, str] = {
    "WorkflowSpaceId": "guid",
    "WorkflowSpaceName": "string",
    "WorkflowId": "guid",
    "WorkflowName": "string",
    "WorkflowInstanceId": "long",
    "ActivityId": "guid",
    "ActivityName": "string",
    "ActivityInstanceId": "long",
    "CallerId": "int",
}

# What a failure status means (keys case-folded, as the status table is case-insensitive).
STATUS_TEXT = {
    "aborted": "the OCR workflow was aborted",
    "failed": "the OCR workflow failed",
    "notfound": "the server knows no OCR workflow with this MasterWorkflowInstanceId",
}

ERROR_CODE_TEXT = {
    "NoError": "no error",
    "TimedOut": "the OCR robot timed out",
    "InputFileNotFound": "the input file was not found",
    "InputFileExists": "the input file already exists",
    "FailedToPutInputFile": "the input file could not be put in place",
    "OutputFileExists": "the output file already exists",
    "FailedToPutOutputFile": "the output file could not be written",
    "RobotProfileNotFound": "the OCR robot profile was not found",
    "InternalError": "internal error",
}


def shipped_wsdl_path() -> str:
    """The file path of the WSDL shipped in the package."""
    return str(importlib.resources.files("airflow_docstatus").joinpath("wsdl", SHIPPED_WSDL))


def _integer(value: Any, name: str, maximum: int) -> int:
    if isinstance(value, bool):
        raise InvalidInputError(f"Cora SeQuence OCR: `{name}` must be an integer, got {value!r}")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and re.fullmatch(r"\s*\+?\d+\s*", value):
        number = int(value)
    else:
        raise InvalidInputError(f"Cora SeQuence OCR: `{name}` must be an integer, got {value!r}")
    if not 1 <= number <= maximum:
        raise InvalidInputError(f"Cora SeQuence OCR: `{name}` must be between 1 and {maximum}, got {value!r}")
    return number


def parse_activity_metadata(value: Any) -> dict[str, Any]:
    """The ``activity_metadata`` header fields, checked and in schema order.

    Takes a dict (or its JSON or Python-literal text, as a template renders it) of
    the ActivityMetadata fields other than MasterWorkflowInstanceId. None
    values are left out. Guids are normalized, longs and ints checked.
    """
    if value is None or value == "":
        return {}
    value = structured(value, name="activity_metadata", where="Cora SeQuence OCR", kind=dict)
    if not isinstance(value, Mapping):
        raise InvalidInputError(f"Cora SeQuence OCR: `activity_metadata` must be a dict, got {type(value).__name__}")
    if "MasterWorkflowInstanceId" in value:
        raise InvalidInputError(
            "Cora SeQuence OCR: give MasterWorkflowInstanceId as `master_workflow_instance_id`, "
            "not in `activity_metadata`"
        )
    unknown = sorted(str(key) for key in value if key not in ACTIVITY_METADATA_FIELDS)
    if unknown:
        raise InvalidInputError(
            f"Cora SeQuence OCR: unknown `activity_metadata` field(s) {unknown}; "
            f"the header takes {list(ACTIVITY_METADATA_FIELDS)}"
        )
    fields: dict[str, Any] = {}
    for name, kind in ACTIVITY_METADATA_FIELDS.items():
        raw = value.get(name)
        if raw is None:
            continue
        where = f"activity_metadata[{name!r}]"
        if kind == "guid":
            try:
                fields[name] = str(uuid.UUID(str(raw).strip()))
            except ValueError:
                raise InvalidInputError(f"Cora SeQuence OCR: `{where}` must be a GUID, got {raw!r}") from None
        elif kind == "long":
            fields[name] = _integer(raw, where, MAX_LONG)
        elif kind == "int":
            fields[name] = _integer(raw, where, MAX_INT)
        else:
            fields[name] = str(raw)
    return fields


def parse_soap_version(extra: Mapping[str, Any], conn_id: str) -> str:
    raw = extra.get("soap_version")
    if raw is None or raw == "":
        return "1.1"
    text = str(raw).strip().lower().removeprefix("soap").strip()
    text = {"11": "1.1", "12": "1.2"}.get(text, text)
    if text not in SOAP_VERSIONS:
        raise InvalidInputError(f"connection {conn_id!r}: extra 'soap_version' must be 1.1 or 1.2, got {raw!r}")
    return text


def parse_auth(settings: ConnectionSettings) -> str:
    raw = settings.extra.get("auth")
    mode = str(raw).strip().lower() if raw not in (None, "") else ("basic" if settings.login else "none")
    if mode not in AUTH_MODES:
        raise InvalidInputError(
            f"connection {settings.conn_id!r}: extra 'auth' must be one of {list(AUTH_MODES)}, got {raw!r}"
        )
    if mode in ("basic", "ntlm") and not settings.login:
        raise InvalidInputError(f"connection {settings.conn_id!r}: auth {mode!r} needs a login")
    return mode


def parse_wsdl_location(settings: ConnectionSettings) -> str:
    """The ``wsdl`` extra (an http(s) URL, a ``file:`` URL or a path), or the shipped WSDL's path."""
    raw = settings.extra.get("wsdl")
    if raw in (None, ""):
        return shipped_wsdl_path()
    text = str(raw).strip()
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise InvalidInputError(f"connection {settings.conn_id!r}: extra 'wsdl' must not contain control characters")
    scheme = urlsplit(text).scheme.lower()
    if scheme in ("http", "https"):
        if not urlsplit(text).hostname:
            raise InvalidInputError(f"connection {settings.conn_id!r}: extra 'wsdl' has no host name")
    elif scheme not in ("", "file") and not (len(scheme) == 1 and os.name == "nt"):
        raise InvalidInputError(
            f"connection {settings.conn_id!r}: extra 'wsdl' must be an http(s) URL, a file: URL or a file path, "
            f"got scheme {scheme!r}"
        )
    return text


def parse_wsdl_allowed_origins(settings: ConnectionSettings) -> tuple[tuple[str, str, int], ...]:
    """The ``wsdl_allowed_origins`` extra: more http(s) origins a remote WSDL may import from (no credentials).

    A list of URLs (or one string, comma- or space-separated); only each
    URL's scheme, host and port count. Empty by default: the connection's
    host and the ``wsdl`` URL's origin are always allowed.
    """
    raw = settings.extra.get("wsdl_allowed_origins")
    if raw in (None, "", []):
        return ()
    items = raw.replace(",", " ").split() if isinstance(raw, str) else raw
    if not isinstance(items, (list, tuple)):
        raise InvalidInputError(
            f"connection {settings.conn_id!r}: extra 'wsdl_allowed_origins' must be a list of http(s) URLs"
        )
    origins = []
    for item in items:
        text = str(item).strip()
        parts = urlsplit(text)
        try:
            parts.port  # noqa: B018 - raises ValueError for a bad port
        except ValueError:
            parts = urlsplit("")
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname or any(ord(c) < 33 for c in text):
            raise InvalidInputError(
                f"connection {settings.conn_id!r}: extra 'wsdl_allowed_origins' takes http(s) URLs such as "
                f"https://schemas.example.com, got {text!r}"
            )
        origins.append(url_origin(text))
    return tuple(origins)


def endpoint_of(settings: ConnectionSettings) -> str:
    """The .asmx URL: the connection's host with the service path appended (unless it already ends in .asmx)."""
    base = settings.base_url
    if "://" not in base:
        raise InvalidInputError(
            f"connection {settings.conn_id!r}: host is required, the Cora SeQuence server's base URL "
            "(e.g. https://cora.example.com)"
        )
    stripped = base.rstrip("/")
    if stripped.lower().endswith(".asmx"):
        return stripped
    return urljoin(base, SERVICE_PATH)


@dataclass(frozen=True)
class FileReference:
    """Where a FileBatch file lives: a Cora file connection, a folder relative to it, and a file name."""

    connection: str
    relative_location: str
    file_name: str

    @classmethod
    def of(cls, value: FileReference | Mapping[str, Any], name: str) -> FileReference:
        """From a ``FileReference`` or a dict with the vendor's keys (Connection, RelativeLocation, FileName)."""
        if isinstance(value, FileReference):
            return value
        if not isinstance(value, Mapping):
            raise InvalidInputError(
                f"Cora SeQuence OCR: `{name}` must be a FileReference or a dict with "
                f"Connection, RelativeLocation and FileName, got {type(value).__name__}"
            )
        unknown = sorted(set(value) - {"Connection", "RelativeLocation", "FileName"})
        if unknown or not value.get("FileName"):
            raise InvalidInputError(
                f"Cora SeQuence OCR: `{name}` takes Connection, RelativeLocation and FileName "
                f"(FileName required), got {sorted(value)}"
            )
        return cls(str(value.get("Connection") or ""), str(value.get("RelativeLocation") or ""), str(value["FileName"]))

    def to_soap(self) -> dict[str, str]:
        return {"Connection": self.connection, "RelativeLocation": self.relative_location, "FileName": self.file_name}


class CoraProtocol(VendorProtocol):
    """Cora SeQuence OCR ``GetStatus``: the MasterWorkflowInstanceId goes in the ``ActivityMetadata`` SOAP header.

    Queued, ProcessingInput and WaitingForOutput wait; Completed succeeds with
    ``{"Status", "ErrorCode", "ExternalContext"}``; Aborted, Failed, NotFound and
    any status the vendor does not document fail with the ErrorCode in the
    message. A SOAP Fault is reported with its faultstring: a Client/Sender
    fault (the request is wrong) fails at once, a Server/Receiver fault (the
    service failed) is retried like any transient error.
    """

    vendor = "cora"
    display_name = "Cora SeQuence OCR"
    default_host = ""
    id_fields = ("master_workflow_instance_id",)
    option_fields = ("activity_metadata",)
    statuses: ClassVar[StatusTable] = StatusTable.of(
        waiting={"Queued", "ProcessingInput", "WaitingForOutput"},
        success={"Completed"},
        failure={"Aborted", "Failed", "NotFound"},
        unknown=State.FAILED,
        case_sensitive=False,
    )
    http_reasons = {
        401: "the server refused the credentials",
        403: "the account may not use this service",
        404: "no Cora OCR integration service at this URL",
        415: "the server does not take this SOAP version",
    }

    def __init__(self, settings: ConnectionSettings, *, activity_metadata: Any = None) -> None:
        super().__init__(settings)
        self.activity_metadata = parse_activity_metadata(activity_metadata)
        self.auth = parse_auth(settings)
        self.soap_version = parse_soap_version(settings.extra, settings.conn_id)
        self.endpoint = endpoint_of(settings)
        self.wsdl_location = parse_wsdl_location(settings)
        self.wsdl_allowed_origins = parse_wsdl_allowed_origins(settings)
        self.service: SoapService | None = None

    @classmethod
    def validate_ref(cls, **ids: Any) -> dict[str, Any]:
        value = cls.require(ids, "master_workflow_instance_id")
        try:
            return {"master_workflow_instance_id": _integer(value, "master_workflow_instance_id", MAX_LONG)}
        except InvalidInputError:
            raise InvalidInputError(
                "Cora SeQuence OCR: `master_workflow_instance_id` must be a positive integer "
                f"(the MasterWorkflowInstanceId FileBatch returned), got {value!r}"
            ) from None

    # the WSDL ------------------------------------------------------------------
    def bind(self, service: SoapService) -> None:
        """Use ``service`` (a loaded WSDL binding of this connection's SOAP version) to build and read messages."""
        self.service = service

    @property
    def soap(self) -> SoapService:
        if self.service is None:
            raise RuntimeError("CoraProtocol: bind() a loaded WSDL first (the hook does)")
        return self.service

    # requests --------------------------------------------------------------------
    def _auth_headers(self) -> dict[str, str]:
        if self.auth == "basic":
            return basic_auth_header(self.settings.login, self.settings.password)
        return {}  # none, or NTLM: the hook's requests session does the handshake

    def _request(self, operation: str, ref: Ref, header: Mapping[str, Any], **arguments: Any) -> HttpRequest:
        try:
            headers = [self.soap.header_value(ACTIVITY_METADATA, header)] if header else None
            body, http_headers = self.soap.envelope(operation, self.endpoint, headers=headers, **arguments)
        except ValueError as exc:
            raise InvalidInputError(f"{self.where(ref)}: cannot build the {operation} request: {exc}") from None
        return HttpRequest("POST", self.endpoint, headers={**http_headers, **self._auth_headers()}, body=body)

    def status_request(self, ref: Ref) -> HttpRequest:
        header = {**self.activity_metadata, "MasterWorkflowInstanceId": ref["master_workflow_instance_id"]}
        return self._request(GET_STATUS, ref, header)

    def file_batch_request(
        self,
        *,
        input_file: FileReference | Mapping[str, Any],
        output_file: FileReference | Mapping[str, Any],
        ocr_profile: str,
        timeout: int,
        external_context: str | None = None,
        put_model: bool = False,
    ) -> HttpRequest:
        """``FileBatch``: OCR ``input_file`` with ``ocr_profile`` into ``output_file``."""
        source = FileReference.of(input_file, "input_file")
        target = FileReference.of(output_file, "output_file")
        if not ocr_profile or not str(ocr_profile).strip():
            raise InvalidInputError("Cora SeQuence OCR: `ocr_profile` is required")
        seconds = _integer(timeout, "timeout", MAX_INT)
        return self._request(
            FILE_BATCH,
            {"FileName": source.file_name},
            self.activity_metadata,
            TimeOut=seconds,
            ExternalContext=external_context,
            InputFile=source.to_soap(),
            OCRProfile=str(ocr_profile),
            OutPutFile=target.to_soap(),
            PutModel=bool(put_model),
        )

    # replies ---------------------------------------------------------------------
    def read_reply(self, ref: Ref, response: HttpResponse, operation: str) -> Any:
        """The values in any answer to ``operation``, or the typed error it stands for.

        401/403 are authentication errors; a SOAP Fault (usually with HTTP 500)
        is permanent for Client/Sender faults and transient otherwise; another
        non-2xx answer follows the engine's HTTP rules (a 500 with no SOAP body is
        transient); a body that is not XML is transient; XML that is not the
        reply the WSDL describes is permanent.
        """
        if response.status in AUTH_HTTP_STATUSES:
            self.raise_for_http_error(ref, response)
        try:
            root = parse_envelope(response.body) if response.body.strip() else None
        except ValueError as exc:
            root, garbled = None, str(exc)
        else:
            garbled = "an empty body" if root is None else ""
        fault = find_fault(root) if root is not None else None
        if fault is not None:
            self._raise_fault(ref, response, fault)
        self.raise_for_http_error(ref, response)
        if root is None:
            raise TransientError(
                f"{self.where(ref)} sent a {operation} answer that is not SOAP ({garbled}): {self.excerpt(response)!r}",
                http_status=response.status,
            )
        try:
            return self.soap.read(operation, root)
        except ValueError as exc:
            raise PermanentError(
                f"{self.where(ref)}: {self.redact(str(exc))}; the answer: {self.excerpt(response)!r}",
                http_status=response.status,
            ) from None

    def _raise_fault(self, ref: Ref, response: HttpResponse, fault: SoapFault) -> None:
        message = f"{self.where(ref)} answered with a SOAP Fault (HTTP {response.status}): {self.redact(fault.describe())}"
        if fault.permanent:
            raise PermanentError(message, http_status=response.status)
        raise TransientError(message, retry_after=response.retry_after, http_status=response.status)

    def interpret(self, ref: Ref, response: HttpResponse) -> DocStatus:
        """The status in a GetStatus answer. Elements the WSDL does not list are ignored
        (see ``SoapService.read``); an answer without a Status is a ``PermanentError`` quoting it."""
        result = self.read_reply(ref, response, GET_STATUS)
        try:
            return self.status_of(ref, result)
        except PermanentError as exc:
            raise PermanentError(f"{exc}; the answer: {self.excerpt(response)!r}", http_status=response.status) from None

    def parse_status(self, ref: Ref, response: HttpResponse) -> DocStatus:
        return self.interpret(ref, response)

    def status_of(self, ref: Ref, result: Any) -> DocStatus:
        """The normalized status of a GetStatus result (``GetStatusResult``, or its fields unwrapped)."""
        record = result
        if isinstance(result, Mapping) and "Status" not in result and len(result) == 1:
            record = next(iter(result.values()))  # a reply with one more wrapper than the shipped WSDL
        if not isinstance(record, Mapping) or record.get("Status") in (None, ""):
            raise PermanentError(f"{self.where(ref)} answered GetStatus without a Status: {self.clean(repr(result))[:300]}")
        payload = {
            "Status": record.get("Status"),
            "ErrorCode": record.get("ErrorCode"),
            "ExternalContext": record.get("ExternalContext"),
        }
        vendor_status = str(payload["Status"])
        state = self.state_of(vendor_status)
        return self.status(
            ref,
            vendor_status,
            message=self._message(vendor_status, state, payload["ErrorCode"], payload["ExternalContext"]),
            payload=payload,
        )

    def _message(self, vendor_status: str, state: State, error_code: Any, context: Any) -> str | None:
        parts = []
        if not self.statuses.is_known(vendor_status):
            parts.append(f"unexpected Status {vendor_status}, not one the vendor documents")
        elif state is State.FAILED:
            parts.append(STATUS_TEXT.get(vendor_status.casefold(), ""))
        if error_code not in (None, "") and (state is State.FAILED or error_code != "NoError"):
            text = ERROR_CODE_TEXT.get(str(error_code))
            parts.append(f"ErrorCode {error_code}" + (f" ({text})" if text else ""))
        if state is State.FAILED and error_code in (None, ""):
            parts.append("no ErrorCode given")
        if state is State.FAILED and context:
            parts.append(f"ExternalContext {str(context)[:200]!r}")
        return "; ".join(part for part in parts if part) or None

    def parse_file_batch(self, ref: Ref, response: HttpResponse) -> int:
        """The MasterWorkflowInstanceId a FileBatch answer carries."""
        value = self.read_reply(ref, response, FILE_BATCH)
        if isinstance(value, Mapping) and len(value) == 1:
            value = next(iter(value.values()))
        if isinstance(value, bool) or not isinstance(value, int):
            raise PermanentError(f"{self.where(ref)} answered FileBatch without a MasterWorkflowInstanceId: {value!r}")
        return value

    # auth in the triggerer -----------------------------------------------------------
    def refuse_ntlm_in_triggerer(self) -> None:
        """NTLM cannot be polled from the triggerer: say so at once, before any call."""
        if self.auth == "ntlm":
            raise InvalidInputError(
                f"{self.where()} uses NTLM authentication, which cannot be polled in deferrable mode: "
                "the NTLM handshake needs several round trips on one kept-alive connection and is only "
                "done with requests, which would block the triggerer's event loop. Use mode='poke' or "
                "mode='reschedule' (deferrable=False) for this connection, or Basic authentication."
            )

    # connection test -----------------------------------------------------------
    # No workflow has this MasterWorkflowInstanceId: any SOAP answer to it shows the service, and the credentials.
    PROBE_INSTANCE_ID = 0
    # Faults that say the connection's own settings are wrong (its SOAP version), not the request's id.
    SETTINGS_FAULT_CODES = frozenset({"VersionMismatch", "MustUnderstand"})

    def probe_request(self) -> HttpRequest:
        """``GetStatus`` for MasterWorkflowInstanceId 0, built from the connection's WSDL (so the WSDL loaded).

        Read-only, starts nothing. 0 is outside the ids ``check_status`` takes,
        so no real workflow's status is read.
        """
        header = {**self.activity_metadata, "MasterWorkflowInstanceId": self.PROBE_INSTANCE_ID}
        return self._request(GET_STATUS, {}, header)

    def interpret_probe(self, response: HttpResponse) -> str:
        """Any GetStatus reply (NotFound, most likely) or SOAP Fault proves the service and the credentials.

        Raises for 401/403 (``AuthenticationError``: the credentials), 404 (no
        service at this URL), 415 and VersionMismatch/MustUnderstand faults (the
        ``soap_version`` extra), a 5xx without SOAP and a body that is not SOAP.
        """
        if response.status in AUTH_HTTP_STATUSES:
            self.raise_for_http_error({}, response)
        try:
            root = parse_envelope(response.body) if response.body.strip() else None
        except ValueError:
            root = None
        fault = find_fault(root) if root is not None else None
        code = (fault.code or "").strip().rsplit(":", 1)[-1].rsplit("}", 1)[-1].split(".", 1)[0] if fault else ""
        if fault is not None and code not in self.SETTINGS_FAULT_CODES:
            said = f"a SOAP Fault (HTTP {response.status}): {self.redact(fault.describe())}"
        else:
            status = self.interpret({}, response)
            said = f"Status {status.vendor_status}"
        credentials = {
            "none": "no credentials are configured (auth none), so none were checked",
            "basic": "so the service and the Basic credentials are good",
            "ntlm": "so the service and the NTLM credentials are good",
        }[self.auth]
        return (
            f"{self.where()}: the WSDL loaded and {self.endpoint} answered GetStatus for MasterWorkflowInstanceId "
            f"{self.PROBE_INSTANCE_ID} with {said} {self.transport_note(self.endpoint)}, {credentials}"
        )
