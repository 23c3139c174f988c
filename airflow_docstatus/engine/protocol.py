"""The base class of a vendor protocol: ids plus settings in, HTTP request out; HTTP response in, status out.

A protocol does no I/O, so the same code runs in the sync hook (requests),
in the async trigger (aiohttp) and in unit tests with no network at all.
"""

from __future__ import annotations

import abc
import dataclasses
import time
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import urljoin

from airflow_docstatus.engine.errors import (
    AuthenticationError,
    InvalidInputError,
    PermanentError,
    TransientError,
    printable,
    redact,
    secret_forms,
)
from airflow_docstatus.engine.http import HttpRequest, HttpResponse
from airflow_docstatus.engine.settings import DEFAULT_MAX_BODY_BYTES, ConnectionSettings
from airflow_docstatus.engine.status import DocStatus, State, StatusTable, format_ref
from airflow_docstatus.engine.tokens import Token, check_token

# Statuses that say "try again later" whatever the vendor.
TRANSIENT_HTTP_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
AUTH_HTTP_STATUSES = frozenset({401, 403})

Ref = Mapping[str, Any]


class VendorProtocol(abc.ABC):
    """How one vendor's status call looks on the wire.

    Subclasses declare their facts as class attributes (name, default host,
    ids, status table, what each HTTP status means) and implement
    ``validate_ref``, ``status_request`` and ``parse_status``.
    """

    vendor: ClassVar[str]
    display_name: ClassVar[str]
    default_host: ClassVar[str]
    id_fields: ClassVar[tuple[str, ...]]
    option_fields: ClassVar[tuple[str, ...]] = ()
    statuses: ClassVar[StatusTable]
    min_poll_interval: ClassVar[float] = 0.0
    http_reasons: ClassVar[Mapping[int, str]] = {}
    uses_tokens: ClassVar[bool] = False
    # The cap on any answer's body (status, token, start, WSDL), on the wire and inflated;
    # the connection's ``max_body_bytes`` extra overrides it.
    max_body_bytes: ClassVar[int] = DEFAULT_MAX_BODY_BYTES

    def __init__(self, settings: ConnectionSettings) -> None:
        self.settings = settings
        self._secrets: set[str] = set()
        for secret in settings.secrets:
            self.remember_secret(secret)

    # ids -----------------------------------------------------------------
    @classmethod
    @abc.abstractmethod
    def validate_ref(cls, **ids: Any) -> dict[str, Any]:
        """Check and normalize the vendor ids; raise ``InvalidInputError`` before any call."""

    @classmethod
    def checked_ref(cls, **ids: Any) -> dict[str, Any]:
        """``validate_ref``, then the checks every vendor's ids get: what the engine calls before any request.

        A text id may not hold control characters (they would forge log
        lines or headers) nor be a dot segment (``.``, ``..``), which would
        move a URL path to another resource.
        """
        ref = cls.validate_ref(**ids)
        for name, value in ref.items():
            if not isinstance(value, str):
                continue
            if any(ord(c) < 32 or ord(c) == 127 for c in value):
                raise InvalidInputError(f"{cls.display_name}: `{name}` must not contain control characters (newlines, tabs...)")
            if value.strip() in (".", ".."):
                raise InvalidInputError(f"{cls.display_name}: `{name}` must not be {value.strip()!r}")
        return ref

    @classmethod
    def require(cls, ids: Mapping[str, Any], name: str) -> Any:
        """An id that must be present and not empty."""
        value = ids.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            raise InvalidInputError(f"{cls.display_name}: `{name}` is required")
        return value.strip() if isinstance(value, str) else value

    # wire ----------------------------------------------------------------
    @abc.abstractmethod
    def status_request(self, ref: Ref) -> HttpRequest:
        """The request that asks for the status of ``ref``."""

    @abc.abstractmethod
    def parse_status(self, ref: Ref, response: HttpResponse) -> DocStatus:
        """The normalized status in a successful (2xx) answer."""

    def interpret(self, ref: Ref, response: HttpResponse) -> DocStatus:
        """Turn any answer into a status, or raise the typed error it stands for."""
        self.raise_for_http_error(ref, response)
        return self.parse_status(ref, response)

    def url(self, path: str) -> str:
        return urljoin(self.settings.base_url, path)

    # helpers for subclasses ------------------------------------------------
    def status(self, ref: Ref, vendor_status: Any, **fields: Any) -> DocStatus:
        """A ``DocStatus`` for this vendor, its state looked up in the status table.

        The vendor's texts (status, message, warning) are redacted of every
        secret the protocol knows and have their control characters escaped,
        so they can go into log lines, error messages and XCom as they are.
        """
        for name in ("message", "warning"):
            if fields.get(name) is not None:
                fields[name] = self.clean(str(fields[name]))
        return DocStatus(
            vendor=self.vendor,
            ref=dict(ref),
            state=self.state_of(str(vendor_status)),
            vendor_status=self.clean(str(vendor_status)),
            **fields,
        )

    def clean(self, text: str) -> str:
        """Vendor text fit for a log line: secrets redacted, control characters escaped."""
        return printable(self.redact(text))

    def state_of(self, vendor_status: str) -> State:
        return self.statuses.state_of(vendor_status)

    def json_body(self, ref: Ref, response: HttpResponse) -> Any:
        """The body as JSON; a garbled body is a transient error."""
        try:
            return response.json()
        except ValueError:
            raise TransientError(
                f"{self.where(ref)} sent a body that is not valid JSON: {self.excerpt(response)!r}",
                http_status=response.status,
            ) from None

    def where(self, ref: Ref | None = None) -> str:
        """``<vendor> (connection 'id', ids...)``: the prefix of every error message."""
        ids = f", {format_ref(ref)}" if ref else ""
        return f"{self.display_name} (connection {self.settings.conn_id!r}{ids})"

    def remember_secret(self, value: str) -> None:
        """Keep ``value`` (a token, say), in every encoding it travels in, out of every text this protocol writes."""
        if value not in self._secrets:
            self._secrets.update(secret_forms(value))

    def redact(self, text: str) -> str:
        """``text`` with every secret this protocol knows (password, tokens; raw, Basic, URL-, form- and
        JSON-escaped) replaced by ``***``."""
        return redact(text, self._secrets)

    def excerpt(self, response: HttpResponse) -> str:
        """The start of the answer's body for a message: redacted before it is cut, control characters escaped."""
        return printable(response.excerpt(redact=self.redact))

    def error_detail(self, response: HttpResponse) -> str:
        """What the vendor said in an error answer, for the error message.

        The start of the body by default; a vendor with a structured error body
        (code, message, inner error) overrides this to spell it out. The
        engine redacts secrets from whatever it returns.
        """
        return response.excerpt(redact=self.redact)

    def raise_for_http_error(self, ref: Ref, response: HttpResponse) -> None:
        """Raise the typed error a non-2xx answer stands for."""
        code = response.status
        if 200 <= code < 300:
            return
        reason = self.http_reasons.get(code, "")
        said = self.clean(self.error_detail(response))
        detail = f"HTTP {code}" + (f" ({reason})" if reason else "") + (f": {said}" if said else "")
        message = f"{self.where(ref)} answered {detail}"
        if code in AUTH_HTTP_STATUSES:
            raise AuthenticationError(message, http_status=code)
        if code in TRANSIENT_HTTP_STATUSES or code >= 500:
            raise TransientError(message, retry_after=response.retry_after, http_status=code)
        raise PermanentError(message, http_status=code)


    # connection test -----------------------------------------------------------
    # Whether a good answer to the probe proves the credentials (LEADTOOLS: it cannot).
    probe_proves_credentials: ClassVar[bool] = True

    def probe_request(self) -> HttpRequest:
        """The one cheap, read-only call of ``DocStatusHook.test_connection``: it starts no job and costs nothing.

        Each vendor picks the call whose answer tells good credentials from
        bad where it has one. Raises ``InvalidInputError`` for a field whose
        form is wrong before any call.
        """
        raise NotImplementedError(f"{type(self).__name__} has no connection test")

    def interpret_probe(self, response: HttpResponse) -> str:
        """What the probe's answer proves, on one line (the connection test's message).

        Raises the typed error a failed test stands for (``AuthenticationError``
        for refused credentials), its message redacted as every engine error is.
        """
        raise NotImplementedError(f"{type(self).__name__} has no connection test")

    def transport_note(self, url: str | None = None) -> str:
        """How a call to ``url`` (default: the API base) travels: plain HTTP, or TLS and whether it verifies the server."""
        if not (url or self.settings.base_url).lower().startswith("https:"):
            return "over plain HTTP (no TLS)"
        verify = self.settings.verify
        if verify is False:
            return "over TLS, the certificate NOT verified (extra verify=false)"
        bundle = " against the connection's CA bundle" if isinstance(verify, str) else ""
        return f"over TLS, the certificate verified{bundle}"


class TokenAuthProtocol(VendorProtocol):
    """A vendor whose calls carry a bearer token obtained from a token endpoint.

    Subclasses build the token request and read the token out of a good
    answer; the hook caches the token per connection, shares it between
    pollers, renews it before it expires and once after a 401.
    """

    uses_tokens = True

    @abc.abstractmethod
    def token_request(self) -> HttpRequest:
        """The request that obtains a new token with the connection's credentials."""

    @abc.abstractmethod
    def parse_token(self, response: HttpResponse, now: float) -> Token:
        """The token in a successful (2xx) answer of the token endpoint."""

    def read_token(self, response: HttpResponse, now: float) -> Token:
        """The token in any answer of the token endpoint, or the typed error it stands for."""
        code = response.status
        if not 200 <= code < 300:
            said = self.excerpt(response)
            message = f"{self.where()} could not obtain a token: HTTP {code}" + (f": {said}" if said else "")
            if code in TRANSIENT_HTTP_STATUSES or code >= 500:
                raise TransientError(message, retry_after=response.retry_after, http_status=code)
            raise AuthenticationError(message + " (check the connection's credentials)", http_status=code)
        token = self.parse_token(response, now)
        check_token(token.value, self.where())
        return token

    def authorize(self, request: HttpRequest, token: Token) -> HttpRequest:
        """``request`` with the token in its ``Authorization`` header."""
        return dataclasses.replace(request, headers={**request.headers, "Authorization": f"Bearer {token.value}"})


    # connection test -----------------------------------------------------------
    def probe_request(self) -> HttpRequest:
        """The token call itself, sent without a bearer token: its answer tells good credentials from bad."""
        return self.token_request()

    def interpret_probe(self, response: HttpResponse) -> str:
        """A token obtained proves the credentials; any other answer raises as ``read_token`` does.

        The API host is not called: a wrong ``host`` shows on the first status call, not here.
        """
        token = self.read_token(response, time.time())
        self.remember_secret(token.value)
        return (
            f"{self.where()}: the token endpoint issued a token {self.transport_note(self.token_request().url)}, "
            "so the credentials are good (the API host itself was not called)"
        )
