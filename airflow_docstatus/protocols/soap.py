"""SOAP on the engine's transports: zeep builds the envelope and reads the reply; requests or aiohttp carry the bytes.

- ``SoapService`` is one WSDL binding (SOAP 1.1 or 1.2) as zeep parsed it. It
  turns an operation and its arguments into envelope bytes plus the HTTP
  headers the binding asks for (``SOAPAction``, or the ``action`` parameter of
  the SOAP 1.2 content type), and turns a reply into Python values. No I/O.
- ``SoapFault`` is a fault read from a reply, SOAP 1.1 or 1.2, with its
  ``faultstring``; ``permanent`` says whether asking again can help.
- ``WSDL_CACHE`` loads each WSDL once per process, the only I/O here: a file,
  or a URL fetched with a requests session the caller builds (auth, TLS
  verification). ``aget`` never loads on the event loop: a WSDL not yet
  loaded is loaded in a worker thread.

zeep and lxml are imported when first needed, so importing this module stays cheap.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from airflow_docstatus.engine.errors import (
    AuthenticationError,
    InvalidInputError,
    PermanentError,
    TransientError,
)

if TYPE_CHECKING:
    import requests

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
        return sorted(self._binding._operations)

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
            envelope, http_headers = self._binding._create(
                operation, (), kwargs, client=self._client, options={"address": address}
            )
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


SessionFactory = Callable[[], "requests.Session"]


class WsdlCache:
    """Each WSDL loaded once per process and kept: ``get`` (may do I/O) and ``aget`` (never on the loop).

    The zeep client is kept per location; the ``SoapService`` per location and
    SOAP version. ``loads`` counts WSDL loads, for tests. A failed load is not
    kept: the next call tries again.
    """

    def __init__(self) -> None:
        self._clients: dict[str, Any] = {}
        self._services: dict[tuple[str, str], SoapService] = {}
        self._lock = threading.Lock()
        self.loads = 0

    def cached(self, location: str, version: str) -> SoapService | None:
        return self._services.get((location, version))

    def get(
        self,
        location: str,
        version: str,
        *,
        operation: str,
        session_factory: SessionFactory,
        timeout: float,
        where: str,
    ) -> SoapService:
        """The service for ``location`` and ``version``, loading the WSDL if this process has not yet.

        ``operation`` must be in the chosen binding. ``where`` starts every error message.
        """
        service = self._services.get((location, version))
        if service is not None:
            return service
        with self._lock:
            service = self._services.get((location, version))
            if service is not None:
                return service
            client = self._clients.get(location)
            if client is None:
                client = self._clients[location] = self._load(location, session_factory, timeout, where)
            service = self._services[(location, version)] = _service_of(client, location, version, operation, where)
            return service

    async def aget(
        self,
        location: str,
        version: str,
        *,
        operation: str,
        session_factory: SessionFactory,
        timeout: float,
        where: str,
    ) -> SoapService:
        """Like ``get``; a WSDL not loaded yet is loaded in a worker thread, never on the event loop."""
        service = self._services.get((location, version))
        if service is not None:
            return service
        return await asyncio.to_thread(
            self.get,
            location,
            version,
            operation=operation,
            session_factory=session_factory,
            timeout=timeout,
            where=where,
        )

    def clear(self) -> None:
        """Forget every loaded WSDL (for tests)."""
        with self._lock:
            self._clients.clear()
            self._services.clear()
            self.loads = 0

    def _load(self, location: str, session_factory: SessionFactory, timeout: float, where: str) -> Any:
        import requests
        import zeep
        from zeep.exceptions import Error as ZeepError
        from zeep.transports import Transport

        shown = redact_url(location)
        session = session_factory()
        try:
            self.loads += 1
            return zeep.Client(
                location,
                transport=Transport(session=session, timeout=timeout, operation_timeout=timeout),
                settings=zeep.Settings(strict=True, forbid_dtd=True, forbid_entities=True),
            )
        except requests.HTTPError as exc:
            code = exc.response.status_code if exc.response is not None else None
            message = f"{where}: loading the WSDL {shown} failed with HTTP {code}"
            if code in (401, 403):
                raise AuthenticationError(message, http_status=code) from None
            if code is not None and (code >= 500 or code in (408, 429)):
                raise TransientError(message, http_status=code) from None
            raise PermanentError(message, http_status=code) from None
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise TransientError(f"{where}: loading the WSDL {shown} failed ({type(exc).__name__})") from None
        except OSError as exc:
            raise InvalidInputError(f"{where}: cannot read the WSDL {shown}: {exc.strerror or exc}") from None
        except (ZeepError, requests.RequestException, ValueError) as exc:
            raise PermanentError(f"{where}: {shown} is not a usable WSDL: {type(exc).__name__}: {exc}") from None
        finally:
            session.close()


def _service_of(client: Any, location: str, version: str, operation: str, where: str) -> SoapService:
    """The first binding of ``version`` in the WSDL that has ``operation``."""
    from zeep.wsdl.bindings.soap import Soap11Binding, Soap12Binding

    wanted = Soap11Binding if version == "1.1" else Soap12Binding
    for binding in client.wsdl.bindings.values():
        # Soap12Binding is not a subclass of Soap11Binding, so isinstance picks one version.
        if isinstance(binding, wanted) and operation in binding._operations:
            return SoapService(client, binding, version, location)
    raise PermanentError(
        f"{where}: the WSDL {redact_url(location)} has no SOAP {version} binding with the {operation} operation"
    )


WSDL_CACHE = WsdlCache()
