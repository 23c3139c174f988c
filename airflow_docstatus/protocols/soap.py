"""SOAP on the engine's transports: zeep builds the envelope and reads the reply; requests or aiohttp carry the bytes.

- ``SoapService`` is one WSDL binding (SOAP 1.1 or 1.2) as zeep parsed it. It
  turns an operation and its arguments into envelope bytes plus the HTTP
  headers the binding asks for (``SOAPAction``, or the ``action`` parameter of
  the SOAP 1.2 content type), and turns a reply into Python values. No I/O.
- ``SoapFault`` is a fault read from a reply, SOAP 1.1 or 1.2, with its
  ``faultstring``; ``permanent`` says whether asking again can help.
- ``WSDL_CACHE`` loads each WSDL once per process, the only I/O here: a file,
  or a URL fetched with the engine's sync transport, following imports only
  where a ``WsdlSource`` allows (see ``protocols/wsdl_fetch.py``) and within
  the connection's ``call_timeout`` and ``max_body_bytes``. No lock is held
  across I/O; ``aget`` never loads on the event loop: a WSDL not yet loaded
  is loaded in a worker thread, and concurrent callers share one load (and,
  for a few seconds, its failure).

zeep and lxml are imported when first needed, so importing this module stays cheap.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from airflow_docstatus._private_api import soap_envelope
from airflow_docstatus.engine.errors import (
    DocStatusError,
    InvalidInputError,
    PermanentError,
    TransientError,
    printable,
)
from airflow_docstatus.engine.policy import SharedFailure
from airflow_docstatus.engine.settings import ConnectionSettings, url_origin

SOAP_VERSIONS = ("1.1", "1.2")
SOAP_ENV_11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP_ENV_12 = "http://www.w3.org/2003/05/soap-envelope"
_ENVELOPE_NAMESPACES = {SOAP_ENV_11: "1.1", SOAP_ENV_12: "1.2"}

# Fault codes that say the request itself is wrong: asking again cannot help.
# Server (1.1) and Receiver (1.2) faults say the service failed while handling
# a good request (an .asmx service wraps every unhandled exception that way),
# so they are worth another try; any other code is treated the same way.
PERMANENT_FAULT_CODES = frozenset({"Client", "Sender", "VersionMismatch", "MustUnderstand", "DataEncodingUnknown"})
FAULT_MESSAGE_LIMIT = 500


def _local(qname: str | None) -> str:
    """``soap:Client.Authentication`` -> ``Client``: the code without its prefix and 1.1 dotted subcode."""
    text = (qname or "").strip()
    return text.rsplit(":", 1)[-1].split(".", 1)[0]


@dataclass(frozen=True)
class SoapFault:
    """A SOAP Fault read from a reply (1.1 ``faultcode``/``faultstring``, 1.2 ``Code``/``Reason``)."""

    version: str
    code: str
    message: str
    subcodes: tuple[str, ...] = ()

    @property
    def permanent(self) -> bool:
        """True for a fault about the request (Client/Sender...), False for a service failure (Server/Receiver)."""
        return _local(self.code) in PERMANENT_FAULT_CODES

    def describe(self) -> str:
        """``soap:Client: <faultstring>`` on one line, the faultstring cut at 500 characters."""
        text = " ".join((self.message or "(no faultstring)").split())
        if len(text) > FAULT_MESSAGE_LIMIT:
            text = text[: FAULT_MESSAGE_LIMIT - 1] + "…"
        codes = " / ".join([self.code or "(no code)", *self.subcodes])
        return f"{codes}: {text}"


def parse_envelope(body: bytes) -> Any:
    """The root element of an XML reply, parsed safely (no DTD, no entities, no network).

    Raises ``ValueError`` when the body is not well-formed XML.
    """
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True, huge_tree=False)
    try:
        root = etree.fromstring(body, parser=parser)
    except etree.XMLSyntaxError as exc:
        raise ValueError(f"not well-formed XML ({exc})") from None
    if root is None:
        raise ValueError("an empty XML document")
    if root.getroottree().docinfo.doctype:
        raise ValueError("XML with a DOCTYPE, refused")
    return root


def envelope_version(root: Any) -> str | None:
    """``"1.1"`` or ``"1.2"`` for a SOAP Envelope, None for any other document."""
    from lxml import etree

    qname = etree.QName(root)
    if qname.localname != "Envelope":
        return None
    return _ENVELOPE_NAMESPACES.get(qname.namespace or "")


def find_fault(root: Any) -> SoapFault | None:
    """The Fault in a SOAP Envelope's Body, whichever SOAP version, or None."""
    version = envelope_version(root)
    if version is None:
        return None
    env = SOAP_ENV_11 if version == "1.1" else SOAP_ENV_12
    fault = root.find(f"{{{env}}}Body/{{{env}}}Fault")
    if fault is None:
        return None
    if version == "1.1":
        # faultcode/faultstring are unqualified in SOAP 1.1; tolerate qualified ones too.
        code = fault.findtext("faultcode") or fault.findtext(f"{{{env}}}faultcode") or ""
        message = fault.findtext("faultstring") or fault.findtext(f"{{{env}}}faultstring") or ""
        return SoapFault(version, code.strip(), message.strip())
    code = fault.findtext(f"{{{env}}}Code/{{{env}}}Value") or ""
    message = fault.findtext(f"{{{env}}}Reason/{{{env}}}Text") or ""
    subcodes = []
    node = fault.find(f"{{{env}}}Code/{{{env}}}Subcode")
    while node is not None:
        subcodes.append((node.findtext(f"{{{env}}}Value") or "").strip())
        node = node.find(f"{{{env}}}Subcode")
    return SoapFault(version, code.strip(), message.strip(), tuple(subcodes))


def to_python(value: Any) -> Any:
    """zeep's objects as plain dicts, lists and scalars (JSON-ready for XCom)."""
    from zeep.helpers import serialize_object

    def plain(item: Any) -> Any:
        if isinstance(item, Mapping):
            # _raw_elements: the elements the WSDL does not list, read leniently and dropped.
            return {str(key): plain(val) for key, val in item.items() if key != "_raw_elements"}
        if isinstance(item, list):
            return [plain(val) for val in item]
        return item

    return plain(serialize_object(value, dict))


class SoapService:
    """One binding of a loaded WSDL, for one SOAP version: builds envelopes, reads replies. No I/O."""

    def __init__(self, client: Any, binding: Any, version: str, location: str) -> None:
        self._client = client
        self._binding = binding
        self.version = version
        self.location = location

    def operation_names(self) -> list[str]:
        return sorted(self._binding.all())

    def header_value(self, element_qname: str, fields: Mapping[str, Any]) -> Any:
        """A SOAP header value of the WSDL's element ``element_qname``; ``ValueError`` if it has none."""
        from zeep.exceptions import LookupError as ZeepLookupError

        try:
            element = self._client.get_element(element_qname)
        except ZeepLookupError:
            raise ValueError(f"the WSDL defines no {element_qname} element for the SOAP header") from None
        try:
            return element(**fields)
        except TypeError as exc:
            raise ValueError(f"the WSDL's {element_qname} does not take these fields: {exc}") from None

    def envelope(
        self, operation: str, address: str, *, headers: list[Any] | None = None, **arguments: Any
    ) -> tuple[bytes, dict[str, str]]:
        """The envelope bytes and HTTP headers for ``operation``; ``ValueError`` on arguments the WSDL refuses."""
        from lxml import etree
        from zeep.exceptions import Error as ZeepError

        kwargs = dict(arguments)
        if headers:
            kwargs["_soapheaders"] = headers
        try:
            envelope, http_headers = soap_envelope(self._binding, operation, kwargs, client=self._client, address=address)
        except (ZeepError, TypeError, ValueError) as exc:
            raise ValueError(f"{operation}: {exc}") from None
        body = etree.tostring(envelope, xml_declaration=True, encoding="utf-8")
        if self.version == "1.2":
            # SOAP 1.2 carries the action in the content type; SOAPAction is a SOAP 1.1 header.
            http_headers.pop("SOAPAction", None)
        return body, dict(http_headers)

    def read(self, operation: str, root: Any) -> Any:
        """The values of ``operation``'s reply envelope, as plain Python; ``ValueError`` if it does not fit.

        Read as an .asmx client (XmlSerializer) reads: the elements the WSDL
        lists are taken wherever they stand among their siblings, and elements
        it does not list (a field the service added since the WSDL was
        written) are left out, not an error. A reply without the elements the
        caller needs is for the caller to refuse.
        """
        from zeep.exceptions import Error as ZeepError

        try:
            # strict=False keeps unknown elements aside (as _raw_elements) instead of failing;
            # the settings are thread-local, so the WSDL is still loaded strictly.
            with self._client.settings(strict=False, xsd_ignore_sequence_order=True):
                result = self._binding.get(operation).process_reply(root)
        except (ZeepError, ValueError, TypeError, AttributeError) as exc:
            raise ValueError(f"the {operation} reply does not fit the WSDL: {exc}") from None
        return to_python(result)


def redact_url(location: str) -> str:
    """A URL without any ``user:password@`` part, for messages."""
    parts = urlsplit(location)
    if parts.username is None and parts.password is None:
        return location
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


def is_url(location: str) -> bool:
    return urlsplit(location).scheme.lower() in {"http", "https"}


@dataclass(frozen=True)
class WsdlSource:
    """Where a WSDL comes from and what loading it may do (see ``protocols/wsdl_fetch.py``).

    :param location: the WSDL: an http(s) URL (the server's ``?WSDL``), a ``file:`` URL or a path.
    :param settings: the connection's settings: its origin (the only one that gets
        credentials), TLS ``verify``, ``max_body_bytes`` and ``call_timeout`` (the
        time budget of the whole load, in seconds).
    :param where: the start of every error message (``Cora SeQuence OCR (connection 'x')``).
    :param auth_headers: headers with the connection's credentials (Basic), sent only to its origin.
    :param session_auth: a requests auth object (NTLM), used only for its origin.
    :param extra_origins: more (scheme, host, port) origins imports may come from, without credentials.
    :param redact: removes the connection's secrets from a message.
    """

    location: str
    settings: ConnectionSettings = field(repr=False)
    where: str
    auth_headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    session_auth: Any = field(default=None, repr=False, compare=False)
    extra_origins: tuple[tuple[str, str, int], ...] = ()
    redact: Callable[[str], str] = field(default=lambda text: text, repr=False, compare=False)

    @property
    def remote(self) -> bool:
        return is_url(self.location)

    @property
    def allowed_origins(self) -> frozenset[tuple[str, str, int]]:
        """The connection's origin, the ``wsdl`` URL's (when it is one) and ``extra_origins``."""
        origins = {self.settings.origin, *self.extra_origins}
        if self.remote:
            origins.add(url_origin(self.location))
        return frozenset(origins)

    @property
    def budget(self) -> float:
        """Seconds the whole load may take: the connection's ``call_timeout``."""
        return float(self.settings.call_timeout)

    @property
    def key(self) -> tuple[str, str]:
        """Whose load this is: a failed load is shared by the pollers of one connection, not across connections."""
        return (self.location, self.settings.conn_id)


# After a failed WSDL load, the pollers of the connection share the failure this
# long (seconds, doubling with each failure in a row up to the cap) instead of each loading again.
WSDL_FAILURE_BACKOFF = 2.0
WSDL_FAILURE_BACKOFF_CAP = 60.0


class _LoadSlot(SharedFailure):
    """The load of one WSDL for one connection: under way (``pending``), or failed recently."""

    backoff = WSDL_FAILURE_BACKOFF
    backoff_cap = WSDL_FAILURE_BACKOFF_CAP

    def __init__(self) -> None:
        super().__init__()
        self.pending: concurrent.futures.Future | None = None


class WsdlCache:
    """Each WSDL loaded once per process and kept: ``get`` (may do I/O) and ``aget`` (never on the loop).

    The zeep client is kept per location (a WSDL loaded once serves every
    connection that names it); the ``SoapService`` per location and SOAP
    version. No lock is held across I/O: the first caller starts the load
    (``aget``: in a worker thread) and every other caller of the same
    connection waits for that same load. A failed load is shared for
    ``WSDL_FAILURE_BACKOFF`` seconds, doubling with each failure in a row up
    to ``WSDL_FAILURE_BACKOFF_CAP``: callers in that window get the same error
    at once (a ``TransientError`` with ``retry_after``) instead of loading
    again. ``loads`` counts loads started, for tests.
    """

    def __init__(self) -> None:
        self._clients: dict[str, Any] = {}
        self._services: dict[tuple[str, str], SoapService] = {}
        self._slots: dict[tuple[str, str], _LoadSlot] = {}
        self._lock = threading.Lock()  # guards the dicts above; never held across I/O
        self.loads = 0

    def cached(self, location: str, version: str) -> SoapService | None:
        return self._services.get((location, version))

    def _claim(self, source: WsdlSource) -> tuple[concurrent.futures.Future, bool]:
        """The load of ``source`` under way, and whether this caller must run it (it started it).

        Raises the recent failure of the connection's load while its backoff lasts.
        """
        with self._lock:
            client = self._clients.get(source.location)
            if client is not None:
                done: concurrent.futures.Future = concurrent.futures.Future()
                done.set_result(client)
                return done, False
            slot = self._slots.setdefault(source.key, _LoadSlot())
            if slot.pending is not None:
                return slot.pending, False
            slot.raise_recent_failure(time.monotonic())
            slot.pending = concurrent.futures.Future()
            slot.pending.set_running_or_notify_cancel()  # a waiter that gives up cannot cancel the others' load
            self.loads += 1
            return slot.pending, True

    def _run(self, source: WsdlSource, future: concurrent.futures.Future) -> None:
        """Load ``source`` and settle ``future`` (and the connection's slot) with the client or the error."""
        try:
            client = self._load(source)
        except DocStatusError as exc:
            with self._lock:
                slot = self._slots.setdefault(source.key, _LoadSlot())
                slot.failed(exc, time.monotonic())
                slot.pending = None
            future.set_exception(exc)
        except BaseException as exc:  # a bug, not the vendor: do not leave the waiters hanging
            with self._lock:
                self._slots.pop(source.key, None)
            future.set_exception(exc)
        else:
            with self._lock:
                self._clients[source.location] = client
                self._slots.pop(source.key, None)
            future.set_result(client)

    def _service(self, client: Any, source: WsdlSource, version: str, operation: str) -> SoapService:
        key = (source.location, version)
        service = self._services.get(key)
        if service is None:
            service = _service_of(client, source.location, version, operation, source.where)
            with self._lock:
                service = self._services.setdefault(key, service)
        return service

    def get(self, source: WsdlSource, version: str, *, operation: str) -> SoapService:
        """The service for ``source.location`` and ``version``, loading the WSDL if this process has not yet.

        ``operation`` must be in the chosen binding. Waits at most the load's
        budget for a load another thread started (``TransientError`` past it).
        Raises ``TransientError`` (the WSDL could not be fetched or parsed: worth
        another try), ``AuthenticationError`` (401/403), ``PermanentError`` (an
        import the connection does not allow, no binding of ``version`` with
        ``operation``, a body over ``max_body_bytes``), ``InvalidInputError``
        (a local WSDL file that cannot be read).
        """
        service = self._services.get((source.location, version))
        if service is not None:
            return service
        future, mine = self._claim(source)
        if mine:
            self._run(source, future)
        try:
            client = future.result(timeout=source.budget + LOAD_WAIT_MARGIN)
        except concurrent.futures.TimeoutError:
            raise TransientError(
                f"{source.where}: the WSDL {redact_url(source.location)} is still being loaded by another poller"
            ) from None
        return self._service(client, source, version, operation)

    async def aget(self, source: WsdlSource, version: str, *, operation: str) -> SoapService:
        """Like ``get``, never blocking the event loop: the load runs in a worker thread, and every
        caller (of any event loop or thread) awaits the same load."""
        service = self._services.get((source.location, version))
        if service is not None:
            return service
        future, mine = self._claim(source)
        if mine:
            asyncio.get_running_loop().run_in_executor(None, self._run, source, future)
        # shield: a waiter cancelled (its trigger ended) leaves the shared load running for the others
        client = await asyncio.shield(asyncio.wrap_future(future))
        return self._service(client, source, version, operation)

    def clear(self) -> None:
        """Forget every loaded WSDL and every recent failure (for tests)."""
        with self._lock:
            self._clients.clear()
            self._services.clear()
            self._slots.clear()
            self.loads = 0

    def _load(self, source: WsdlSource) -> Any:
        """A zeep client for ``source``, loaded through ``GuardedTransport`` within ``source.budget`` seconds."""
        import zeep
        from zeep.exceptions import Error as ZeepError
        from zeep.exceptions import XMLSyntaxError

        from airflow_docstatus.protocols.wsdl_fetch import GuardedTransport, local_path, shown

        where, what = source.where, shown(source.location)
        if not source.remote and local_path(source.location) is None:
            raise InvalidInputError(
                f"{where}: the WSDL {what} is neither an http(s) URL nor a file path (nor a file: URL)"
            )
        transport = GuardedTransport(source, time.monotonic() + source.budget)
        try:
            return zeep.Client(
                source.location,
                transport=transport,
                # force_https only for a remote WSDL: zeep would turn a local WSDL's file: imports into https:///...
                settings=zeep.Settings(strict=True, forbid_dtd=True, forbid_entities=True, force_https=source.remote),
            )
        except DocStatusError:
            raise
        except XMLSyntaxError as exc:  # an error page, a cut-off answer: worth another try
            raise TransientError(f"{where}: the WSDL {what} is not well-formed XML: {source.redact(str(exc))[:300]}") from None
        except OSError as exc:
            raise InvalidInputError(f"{where}: cannot read the WSDL {what}: {exc.strerror or exc}") from None
        except (ZeepError, ValueError) as exc:
            text = printable(source.redact(f"{type(exc).__name__}: {exc}"))[:500]
            raise PermanentError(f"{where}: {what} is not a usable WSDL: {text}") from None


# A waiter gives the load that another thread started this much longer than its budget (seconds).
LOAD_WAIT_MARGIN = 5.0


def _service_of(client: Any, location: str, version: str, operation: str, where: str) -> SoapService:
    """The first binding of ``version`` in the WSDL that has ``operation``."""
    from zeep.wsdl.bindings.soap import Soap11Binding, Soap12Binding

    wanted = Soap11Binding if version == "1.1" else Soap12Binding
    for binding in client.wsdl.bindings.values():
        # Soap12Binding is not a subclass of Soap11Binding, so isinstance picks one version.
        if isinstance(binding, wanted) and operation in binding.all():
            return SoapService(client, binding, version, location)
    raise PermanentError(
        f"{where}: the WSDL {redact_url(location)} has no SOAP {version} binding with the {operation} operation"
    )


WSDL_CACHE = WsdlCache()
