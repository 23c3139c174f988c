"""Azure AI Document Translation: document and batch status, starting a batch, listing its documents.

Two API shapes, chosen by the connection's ``api_version`` extra:

- ``v1.1`` (default): ``{endpoint}/translator/text/batch/v1.1/batches/...``;
- a GA date (``2024-05-01`` or later): ``{endpoint}/translator/document/batches/...?api-version=DATE``.

Both send the subscription key (the connection's password) as ``Ocp-Apim-Subscription-Key``.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import re
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from airflow_docstatus.engine.errors import InvalidInputError, PermanentError
from airflow_docstatus.engine.http import HttpRequest, HttpResponse
from airflow_docstatus.engine.protocol import Ref, VendorProtocol
from airflow_docstatus.engine.settings import ConnectionSettings
from airflow_docstatus.engine.status import DocStatus, State, StatusTable

V1_1 = "v1.1"
DEFAULT_API_VERSION = V1_1
FIRST_GA_API_VERSION = "2024-05-01"
_GA_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
SUBSCRIPTION_KEY_HEADER = "Ocp-Apim-Subscription-Key"
MAX_INNER_ERRORS = 5
# The largest page of document statuses Azure serves (``$maxpagesize``; its default is 50).
DOCUMENTS_PAGE_SIZE = 100
SHARE_EXTRA = "share_status_calls"
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}

# The wire says Cancelled/Cancelling; some of Microsoft's pages say Canceled/Canceling. Accept both.
STATUSES = StatusTable.of(
    waiting={"NotStarted", "Running", "Cancelling", "Canceling"},
    success={"Succeeded"},
    failure={"Failed", "ValidationFailed", "Cancelled", "Canceled"},
    unknown=State.FAILED,
    case_sensitive=False,
)


def parse_api_version(value: Any, conn_id: str) -> str:
    """``v1.1`` or a GA date from ``2024-05-01`` on; anything else is ``InvalidInputError``."""
    text = DEFAULT_API_VERSION if value is None or str(value).strip() == "" else str(value).strip()
    if text.lower() == V1_1:
        return V1_1
    if _GA_DATE.match(text) and text >= FIRST_GA_API_VERSION:
        try:
            datetime.date.fromisoformat(text)
        except ValueError:
            pass
        else:
            return text
    raise InvalidInputError(
        f"connection {conn_id!r}: extra 'api_version' must be 'v1.1' or a GA date such as "
        f"'{FIRST_GA_API_VERSION}' (from {FIRST_GA_API_VERSION} on), got {value!r}"
    )


def parse_share_status_calls(value: Any, conn_id: str) -> bool:
    """The ``share_status_calls`` extra: true (default, also when null or blank) or false."""
    if value is None or isinstance(value, bool):
        return value is not False
    text = str(value).strip().lower()
    if text in _TRUE or text == "":
        return True
    if text in _FALSE:
        return False
    raise InvalidInputError(f"connection {conn_id!r}: extra {SHARE_EXTRA!r} must be true or false, got {value!r}")


def describe_error(error: Mapping[str, Any]) -> str:
    """Azure's error object on one line: ``Code: message (target T); inner error Code: message...``."""
    parts: list[str] = []
    current: Any = error
    while isinstance(current, Mapping) and len(parts) <= MAX_INNER_ERRORS:
        text = ": ".join(str(current[key]) for key in ("code", "message") if current.get(key))
        if current.get("target"):
            text += f" (target {current['target']})"
        parts.append(text if not parts else f"inner error {text}")
        current = current.get("innerError")
    return "; ".join(part for part in parts if part)


def _count(summary: Mapping[str, Any], key: str) -> int:
    value = summary.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


class AzureTranslationProtocol(VendorProtocol):
    """What both Azure status calls share: the endpoint, the API version, the key, the ids and the errors.

    ``AzureDocumentStatusProtocol`` and ``AzureBatchStatusProtocol`` add the
    status call itself. The calls that start a batch and list its documents
    live here, so every hook of this connection type can make them.
    """

    vendor = "azure_translation"
    display_name = "Azure Document Translation"
    default_host = ""  # no public default: every resource has its own custom-domain endpoint
    statuses: StatusTable = STATUSES
    http_reasons = {
        400: "the request was refused",
        401: "the subscription key is wrong, or not for this resource",
        403: "access denied",
        404: "no such batch or document, or the host is not the resource's custom-domain endpoint",
        429: "too many requests",
        500: "internal error",
        503: "service unavailable",
    }

    def __init__(self, settings: ConnectionSettings) -> None:
        super().__init__(settings)
        endpoint = urlsplit(settings.base_url)
        if endpoint.scheme not in ("http", "https") or not endpoint.netloc:
            raise InvalidInputError(
                f"connection {settings.conn_id!r}: host must be the Translator resource's custom-domain "
                "endpoint, e.g. https://<resource>.cognitiveservices.azure.com"
            )
        if not settings.password:
            raise InvalidInputError(f"connection {settings.conn_id!r}: the subscription key (password) is empty")
        self.api_version = parse_api_version(settings.extra.get("api_version"), settings.conn_id)
        self.share_status_calls = parse_share_status_calls(settings.extra.get(SHARE_EXTRA), settings.conn_id)

    # ids -----------------------------------------------------------------
    @classmethod
    def validate_ref(cls, **ids: Any) -> dict[str, Any]:
        return {name: cls.guid(ids, name) for name in cls.id_fields}

    @classmethod
    def guid(cls, ids: Mapping[str, Any], name: str) -> str:
        """A required id in canonical GUID form (Azure's batch and document ids are GUIDs)."""
        value = cls.require(ids, name)
        try:
            return str(uuid.UUID(str(value)))
        except ValueError:
            raise InvalidInputError(f"{cls.display_name}: `{name}` must be a GUID, got {value!r}") from None

    # wire ----------------------------------------------------------------
    def batches_url(self, *path: str) -> str:
        """``.../batches[/path...]`` in the shape of this connection's API version."""
        root = "translator/text/batch/v1.1/batches" if self.api_version == V1_1 else "translator/document/batches"
        return self.url("/".join((root, *path)))

    @property
    def query(self) -> dict[str, str]:
        return {} if self.api_version == V1_1 else {"api-version": self.api_version}

    def _headers(self) -> dict[str, str]:
        return {SUBSCRIPTION_KEY_HEADER: self.settings.password or ""}

    def _get(self, *path: str) -> HttpRequest:
        return HttpRequest("GET", self.batches_url(*path), params=self.query, headers=self._headers())

    def error_detail(self, response: HttpResponse) -> str:
        """Azure's ``{"error": {code, message, target, innerError}}`` spelled out, else the body's start."""
        try:
            body = response.json()
        except ValueError:
            body = None
        error = body.get("error") if isinstance(body, Mapping) else None
        if isinstance(error, Mapping) and describe_error(error):
            return describe_error(error)
        return super().error_detail(response)

    def status_body(self, ref: Ref, response: HttpResponse) -> dict[str, Any]:
        """A status answer's JSON object; one without a ``status`` is refused."""
        body = self.json_body(ref, response)
        if not isinstance(body, dict) or not isinstance(body.get("status"), str):
            raise PermanentError(f"{self.where(ref)} answered without a status: {self.excerpt(response)!r}")
        return body

    def status_message(self, body: Mapping[str, Any]) -> str | None:
        """The service's error (code, message, inner error), or a note on a status Azure does not document."""
        vendor_status = body["status"]
        if isinstance(body.get("error"), Mapping) and describe_error(body["error"]):
            return describe_error(body["error"])
        if not self.statuses.is_known(vendor_status):
            return f"unexpected status {vendor_status!r}, not one Azure documents"
        return None

    # starting a batch and listing its documents -----------------------------
    def start_translation_request(
        self,
        source_url: str,
        target_url: str,
        target_language: str,
        *,
        source_language: str | None = None,
        storage_type: str | None = None,
    ) -> HttpRequest:
        """``POST .../batches``: translate what ``source_url`` holds into ``target_url``."""
        for name, value in (("source_url", source_url), ("target_url", target_url), ("target_language", target_language)):
            if not isinstance(value, str) or not value.strip():
                raise InvalidInputError(f"{self.display_name}: `{name}` is required")
        source: dict[str, Any] = {"sourceUrl": source_url}
        if source_language:
            source["language"] = source_language
        batch: dict[str, Any] = {"source": source, "targets": [{"targetUrl": target_url, "language": target_language}]}
        if storage_type:
            batch["storageType"] = storage_type
        return HttpRequest(
            "POST",
            self.batches_url(),
            params=self.query,
            headers={**self._headers(), "Content-Type": "application/json"},
            body=json.dumps({"inputs": [batch]}).encode(),
        )

    def parse_batch_id(self, ref: Ref, response: HttpResponse) -> str:
        """The new batch's id, the last path segment of the 202's ``Operation-Location``."""
        self.raise_for_http_error(ref, response)
        location = response.header("Operation-Location") or ""
        segment = urlsplit(location).path.rstrip("/").rsplit("/", 1)[-1]
        try:
            return str(uuid.UUID(segment))
        except ValueError:
            raise PermanentError(
                f"{self.where(ref)} answered HTTP {response.status} without a batch id in Operation-Location: "
                f"{location!r}"
            ) from None

    def cancel_request(self, batch_id: str) -> HttpRequest:
        """``DELETE .../batches/{id}``: cancel a batch (its documents not yet finished end Cancelled)."""
        guid = self.guid({"batch_id": batch_id}, "batch_id")
        return HttpRequest("DELETE", self.batches_url(guid), params=self.query, headers=self._headers())

    def list_documents_request(
        self, batch_id: str, next_link: str | None = None, page_size: int | None = None
    ) -> HttpRequest:
        """``GET .../batches/{id}/documents``, or the page a previous answer's ``@nextLink`` names.

        ``page_size`` asks for pages of that many documents at most (``$maxpagesize``;
        ``maxpagesize`` in the GA shape); a ``@nextLink`` carries it on.
        """
        if next_link is None:
            request = self._get(self.guid({"batch_id": batch_id}, "batch_id"), "documents")
            if page_size is None:
                return request
            name = "$maxpagesize" if self.api_version == V1_1 else "maxpagesize"
            return dataclasses.replace(request, params={**request.params, name: str(page_size)})
        if urlsplit(next_link)[:2] != urlsplit(self.settings.base_url)[:2]:
            # Never send the key anywhere but the connection's own endpoint.
            raise PermanentError(f"{self.display_name}: @nextLink {self.clean(next_link)[:200]!r} leaves the endpoint; not followed")
        return HttpRequest("GET", next_link, headers=self._headers())

    def parse_documents_page(self, ref: Ref, response: HttpResponse) -> tuple[list[dict[str, Any]], str | None]:
        """One page of document statuses, and the next page's link if there is one.

        An answer without a ``value`` list, or with a ``@nextLink`` that is not a string, is a ``PermanentError``.
        """
        self.raise_for_http_error(ref, response)
        body = self.json_body(ref, response)
        if not isinstance(body, dict) or not isinstance(body.get("value"), list):
            raise PermanentError(f"{self.where(ref)} answered without a document list: {self.excerpt(response)!r}")
        next_link = body.get("@nextLink")
        if next_link is not None and not isinstance(next_link, str):
            raise PermanentError(
                f"{self.where(ref)} answered a document list whose @nextLink is not a string "
                f"(a {type(next_link).__name__})"
            )
        return body["value"], next_link or None


    # connection test -----------------------------------------------------------
    def probe_request(self) -> HttpRequest:
        """Get Translations Status, one batch at most: ``GET .../batches`` with ``$top=1`` (v1.1) or ``top=1`` (GA).

        Read-only and free; it needs the subscription key, so its answer tells
        a good key (200) from a bad one (401). Microsoft's v1.1 reference names
        the parameter ``$top``; the GA API (2024-05-01, the SDKs built on it)
        sends ``top``. A server that ignores it answers one page, under the body cap.
        """
        top = "$top" if self.api_version == V1_1 else "top"
        return HttpRequest("GET", self.batches_url(), params={**self.query, top: "1"}, headers=self._headers())

    def interpret_probe(self, response: HttpResponse) -> str:
        """A 200 with a batch list (``{"value": [...]}``) proves endpoint and key; the rest raise.

        401: the key is wrong or not this resource's (``AuthenticationError``);
        404: not the custom-domain endpoint; 400: e.g. an API version the
        resource does not serve, with Azure's error spelled out.
        """
        self.raise_for_http_error({}, response)
        body = self.json_body({}, response)
        if not isinstance(body, dict) or not isinstance(body.get("value"), list):
            raise PermanentError(f"{self.where()} answered without a batch list: {self.excerpt(response)!r}")
        return (
            f"{self.where()}: the endpoint listed batches (API {self.api_version}) {self.transport_note()}, "
            "so the subscription key is good"
        )

class AzureDocumentStatusProtocol(AzureTranslationProtocol):
    """Get Document Status: ``GET .../batches/{batch_id}/documents/{document_id}``; the payload is ``path``.

    NotStarted, Running and Cancelling wait; Succeeded succeeds; Failed,
    ValidationFailed and Cancelled (or Canceled) fail, with the service's error
    code and message, inner error included. Statuses match in any case.
    """

    id_fields = ("batch_id", "document_id")
    max_body_bytes = 4 * 1024 * 1024  # a batch's document list pages are small; status answers smaller

    def status_request(self, ref: Ref) -> HttpRequest:
        return self._get(ref["batch_id"], "documents", ref["document_id"])

    def parse_status(self, ref: Ref, response: HttpResponse) -> DocStatus:
        return self.document_status(ref, self.status_body(ref, response), response.retry_after)

    def document_status(self, ref: Ref, body: Mapping[str, Any], retry_after: float | None) -> DocStatus:
        """The status in one document status object (Get Document Status's body, or an entry of the list)."""
        path = body.get("path")
        status = self.status(
            ref,
            body["status"],
            progress=_progress(body.get("progress")),
            message=self.status_message(body),
            payload=path,
            retry_after=retry_after,
        )
        if status.state is State.SUCCEEDED and not (isinstance(path, str) and path):
            raise PermanentError(f"{self.where(ref)} reports {body['status']} but no translated document path")
        return status

    # shared status calls (engine/coalesce.py): one list of the batch's documents for every waiting document
    def shared_call_key(self, ref: Ref) -> tuple[str, str] | None:
        """The batch's document list, unless the connection's ``share_status_calls`` extra is false."""
        return ("documents", ref["batch_id"]) if self.share_status_calls else None

    def shared_call_request(self, ref: Ref, cursor: str | None) -> HttpRequest:
        """``GET .../batches/{id}/documents`` in pages of ``DOCUMENTS_PAGE_SIZE``, or the ``@nextLink`` page."""
        return self.list_documents_request(ref["batch_id"], cursor, page_size=DOCUMENTS_PAGE_SIZE)

    def read_shared_page(
        self, ref: Ref, response: HttpResponse, answer: dict[str, Any] | None
    ) -> tuple[dict[str, Any], str | None]:
        """The documents listed so far by id (canonical GUID), this page's added; the next page's link."""
        batch = {"batch_id": ref["batch_id"]}
        documents, next_link = self.parse_documents_page(batch, response)
        answer = {} if answer is None else answer
        for document in documents:
            try:
                answer[str(uuid.UUID(str(document.get("id"))))] = document
            except (AttributeError, ValueError):
                continue  # not a document status object: it answers for no one
        return answer, next_link

    def status_from_shared(self, ref: Ref, answer: Mapping[str, Any], retry_after: float | None) -> DocStatus:
        """The document's entry in the list read as Get Document Status's answer would be.

        A document the list does not hold fails as that call's 404 does (``PermanentError``);
        an entry without a status as that call's body without one.
        """
        body = answer.get(ref["document_id"])
        if body is None:
            raise PermanentError(
                f"{self.where(ref)}: the batch's document list does not hold the document "
                f"(as HTTP 404: {self.http_reasons[404]})",
                http_status=404,
            )
        if not isinstance(body.get("status"), str):
            excerpt = self.clean(json.dumps(body))[:200]  # redacted before it is cut: no secret's start shows
            raise PermanentError(f"{self.where(ref)} listed the document without a status: {excerpt!r}")
        return self.document_status(ref, body, retry_after)


class AzureBatchStatusProtocol(AzureTranslationProtocol):
    """Get Translation Status: ``GET .../batches/{batch_id}``; the payload is the batch status object.

    The batch's own status decides as for a document. A batch that ends
    Succeeded with ``summary.failed > 0`` fails too, unless
    ``fail_on_document_failures=False``; while it still runs, such failures
    show as a warning on each progress line.
    """

    id_fields = ("batch_id",)
    option_fields = ("fail_on_document_failures",)

    def __init__(self, settings: ConnectionSettings, *, fail_on_document_failures: bool = True) -> None:
        super().__init__(settings)
        self.fail_on_document_failures = fail_on_document_failures

    def status_request(self, ref: Ref) -> HttpRequest:
        return self._get(ref["batch_id"])

    # shared status calls (engine/coalesce.py): one Get Translation Status for every wait on the batch
    def shared_call_key(self, ref: Ref) -> tuple[str, str] | None:
        """The batch's status call, unless the connection's ``share_status_calls`` extra is false."""
        return ("batch", ref["batch_id"]) if self.share_status_calls else None

    def shared_call_request(self, ref: Ref, cursor: None) -> HttpRequest:
        return self.status_request(ref)

    def read_shared_page(self, ref: Ref, response: HttpResponse, answer: None) -> tuple[HttpResponse, None]:
        """The answer itself (one page), once its HTTP status is known to be good."""
        self.raise_for_http_error(ref, response)
        return response, None

    def status_from_shared(self, ref: Ref, answer: HttpResponse, retry_after: float | None) -> DocStatus:
        """The batch status as this wait's own call reads it (its own ``fail_on_document_failures``)."""
        return self.parse_status(ref, answer)

    def parse_status(self, ref: Ref, response: HttpResponse) -> DocStatus:
        body = self.status_body(ref, response)
        summary: Any = body.get("summary") if isinstance(body.get("summary"), Mapping) else {}
        total, failed = _count(summary, "total"), _count(summary, "failed")
        done = failed + _count(summary, "success") + _count(summary, "cancelled")
        counts = (
            f"{total} document(s): {_count(summary, 'success')} succeeded, {failed} failed, "
            f"{_count(summary, 'inProgress')} running, {_count(summary, 'notYetStarted')} not started, "
            f"{_count(summary, 'cancelled')} cancelled"
        )
        error = self.status_message(body)
        status = self.status(
            ref,
            body["status"],
            progress=min(done / total, 1.0) if total else None,
            message=f"{error}; {counts}" if error else counts,
            payload=body,
            retry_after=response.retry_after,
        )
        if failed and self.fail_on_document_failures:
            if status.state is State.SUCCEEDED:
                return dataclasses.replace(
                    status,
                    state=State.FAILED,
                    message=f"{failed} of {total} document(s) failed ({counts}); "
                    "pass fail_on_document_failures=False to accept a partly failed batch",
                )
            if status.state is State.WAITING:
                return dataclasses.replace(status, warning=f"{failed} document(s) failed already")
        return status


def _progress(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return min(max(float(value), 0.0), 1.0)
