"""How zeep may fetch a WSDL and what it imports: only from allowed places, credentials only to their origin, bounded.

zeep follows every ``wsdl:import``, ``xsd:import`` and ``xsd:include`` it finds,
wherever it points (another host, ``file:///etc/...``, ``/dev/zero``), with the
session it was given, credentials included. ``GuardedTransport`` is the zeep
transport ``WsdlCache`` loads a WSDL with instead:

- a WSDL fetched over http(s) (the ``wsdl`` extra is a URL) may import only
  http(s) documents, from the origins ``WsdlSource.allowed_origins`` lists
  (the connection's host and the ``wsdl`` URL's own, plus any in the
  ``wsdl_allowed_origins`` extra); ``file:`` and local paths are refused;
- a local WSDL (the shipped one, or a path the admin gave as the ``wsdl``
  extra) may import local files in its own directory or below it (resolved,
  symlinks included), regular files only, and http(s) documents from the
  allowed origins;
- the connection's credentials (the Basic header, or the NTLM session auth)
  go only to the connection's own origin (``ConnectionSettings.origin``);
  other allowed origins are asked without any;
- every fetch goes through the engine's ``SyncTransport.send``: no redirect
  followed blindly (each hop is checked as above, at most
  ``MAX_REDIRECTS``), the body capped at ``max_body_bytes`` on the wire and
  inflated, and the whole load (the WSDL and all its imports) bounded by one
  time budget (``call_timeout``, in seconds);
- local files are read through the same ``BoundedBody`` cap.

A refused import raises ``PermanentError`` naming the document and how to
allow it; a fetch that times out, fails to connect or gets a 5xx raises
``TransientError``; a 401/403 raises ``AuthenticationError``.

This module imports zeep: ``protocols/soap.py`` imports it only when a WSDL is loaded.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import stat
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit
from urllib.request import url2pathname

from zeep.transports import Transport

from airflow_docstatus.engine.errors import (
    AuthenticationError,
    PermanentError,
    TransientError,
    printable,
)
from airflow_docstatus.engine.http import BoundedBody, HttpRequest
from airflow_docstatus.engine.protocol import TRANSIENT_HTTP_STATUSES
from airflow_docstatus.engine.settings import url_origin

if TYPE_CHECKING:
    from airflow_docstatus.protocols.soap import WsdlSource

MAX_REDIRECTS = 3
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
FILE_CHUNK = 64 * 1024
_URL_SHOWN = 300


def shown(location: str) -> str:
    """A location fit for a message: no ``user:password@``, control characters escaped, at most 300 characters."""
    from airflow_docstatus.protocols.soap import redact_url

    try:
        text = redact_url(location)
    except ValueError:
        text = location
    text = printable(text)
    return text if len(text) <= _URL_SHOWN else text[: _URL_SHOWN - 1] + "…"


def _origin_text(origin: tuple[str, str, int]) -> str:
    scheme, host, port = origin
    return f"{scheme}://{host}:{port}"


def local_path(location: str) -> str | None:
    """The file path a ``file:`` URL or a plain path stands for; None for any other URL."""
    parts = urlsplit(location)
    scheme = parts.scheme.lower()
    if scheme == "file":
        if parts.netloc not in ("", "localhost"):
            return None
        return url2pathname(parts.path)
    if scheme == "" or (len(scheme) == 1 and os.name == "nt"):  # a path (a drive letter on Windows)
        return os.path.expanduser(location)
    return None


class GuardedTransport(Transport):
    """A zeep transport that loads only what ``source`` allows, within ``give_up_at`` (a ``time.monotonic`` value).

    Only ``load`` (and ``_load_remote_data``) are used: the WSDL's operations
    are sent by the engine's transports, never by zeep, so ``get`` and
    ``post`` refuse.
    """

    def __init__(self, source: WsdlSource, give_up_at: float) -> None:
        # No super().__init__(): it makes a requests session that reads file:// URLs.
        self.cache = None
        self.load_timeout = source.settings.read_timeout
        self.operation_timeout = source.settings.read_timeout
        self.logger = logging.getLogger(__name__)
        self._close_session = False
        self.session = None
        self.source = source
        self.give_up_at = give_up_at
        root = local_path(source.location)
        self._root_file = os.path.realpath(root) if root is not None else None
        self._root_dir = os.path.dirname(self._root_file) if self._root_file is not None else None
        self.fetched: list[str] = []  # what was loaded, in order (for tests and messages)

    # zeep's entry points -------------------------------------------------------------
    def load(self, url: str) -> bytes:
        """The bytes of the document at ``url``, if the source allows it; see the module docstring."""
        if not url:
            raise PermanentError(f"{self.source.where}: the WSDL {shown(self.source.location)} names an empty location")
        scheme = urlsplit(url).scheme.lower()
        if scheme in ("http", "https"):
            return self._fetch(url)
        path = local_path(url)
        if path is None:
            self._refuse(url, f"its scheme {scheme!r} is not http or https")
        if self._root_file is None:
            self._refuse(url, "a WSDL fetched over HTTP may import only http(s) documents, never local files")
        assert path is not None and self._root_dir is not None
        real = os.path.realpath(path)
        if real != self._root_file and os.path.commonpath([real, self._root_dir]) != self._root_dir:
            self._refuse(
                url, f"a local WSDL may import only files in its own directory ({shown(self._root_dir)}) or below it"
            )
        return self._read_file(real, url)

    def _load_remote_data(self, url: str) -> bytes:
        return self.load(url)

    def get(self, address: str, params: Any, headers: Any) -> Any:
        raise RuntimeError("GuardedTransport only loads WSDL documents; calls go through the engine's transports")

    def post(self, address: str, message: Any, headers: Any) -> Any:
        raise RuntimeError("GuardedTransport only loads WSDL documents; calls go through the engine's transports")

    # checks --------------------------------------------------------------------------
    def _refuse(self, url: str, why: str) -> None:
        raise PermanentError(
            f"{self.source.where}: the WSDL {shown(self.source.location)} refers to {shown(url)}, which was "
            f"not loaded: {why}"
        )

    def _left(self, url: str) -> float:
        left = self.give_up_at - time.monotonic()
        if left <= 0:
            raise TransientError(
                f"{self.source.where}: loading the WSDL {shown(self.source.location)} took longer than "
                f"{self.source.budget:.1f}s (the connection's `call_timeout`), at {shown(url)}"
            )
        return left

    # http(s) -------------------------------------------------------------------------
    def _fetch(self, url: str) -> bytes:
        from airflow_docstatus.engine.transport_sync import SyncTransport

        source = self.source
        settings = source.settings
        for _hop in range(MAX_REDIRECTS + 1):
            origin = url_origin(url)
            if origin not in source.allowed_origins:
                allowed = ", ".join(sorted(_origin_text(o) for o in source.allowed_origins))
                self._refuse(
                    url,
                    f"its origin {_origin_text(origin)} is not one the connection allows ({allowed}); "
                    "add it to the connection's `wsdl_allowed_origins` extra if it is trusted",
                )
            own = origin == settings.origin
            # One budget for the whole load: each fetch gets what is left of it.
            bounded = dataclasses.replace(settings, call_timeout=self._left(url))
            transport = SyncTransport(bounded, auth=source.session_auth if own else None)
            headers = {"Accept": "text/xml, application/xml, */*;q=0.5"}
            if own:
                headers.update(source.auth_headers)
            try:
                answer = transport.send(HttpRequest("GET", url, headers=headers))
            except (TransientError, PermanentError) as exc:
                raise type(exc)(
                    f"{source.where}: loading the WSDL {shown(url)} failed: {printable(source.redact(str(exc)))[:500]}"
                ) from None
            finally:
                transport.close()
            location = answer.header("Location")
            if answer.status in REDIRECT_STATUSES and location:
                url = urljoin(url, location.strip())
                continue
            self._raise_for_status(url, answer.status, answer.retry_after)
            self.fetched.append(url)
            return answer.body
        raise PermanentError(
            f"{source.where}: loading the WSDL {shown(source.location)} was redirected more than {MAX_REDIRECTS} times"
        )

    def _raise_for_status(self, url: str, code: int, retry_after: float | None) -> None:
        if 200 <= code < 300:
            return
        message = f"{self.source.where}: loading the WSDL {shown(url)} failed with HTTP {code}"
        if code in (401, 403):
            raise AuthenticationError(message, http_status=code)
        if code in TRANSIENT_HTTP_STATUSES or code >= 500:
            raise TransientError(message, retry_after=retry_after, http_status=code)
        raise PermanentError(message, http_status=code)

    # files ---------------------------------------------------------------------------
    def _read_file(self, path: str, url: str) -> bytes:
        """A regular file's bytes, capped at ``max_body_bytes``; ``InvalidInputError`` if it cannot be read."""
        from airflow_docstatus.engine.errors import InvalidInputError

        limit = self.source.settings.max_body_bytes
        body = BoundedBody(limit, None, what=f"{self.source.where}: the WSDL document {shown(path)}")
        try:
            if not stat.S_ISREG(os.stat(path).st_mode):  # before open(): opening a FIFO would block
                self._refuse(url, "it is not a regular file")
            with open(path, "rb") as handle:
                if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                    self._refuse(url, "it is not a regular file")
                while True:
                    chunk = handle.read(FILE_CHUNK)
                    if not chunk:
                        break
                    body.feed(chunk)
        except OSError as exc:
            raise InvalidInputError(
                f"{self.source.where}: cannot read the WSDL {shown(path)}: {exc.strerror or type(exc).__name__}"
            ) from None
        self.fetched.append(path)
        return body.body()
