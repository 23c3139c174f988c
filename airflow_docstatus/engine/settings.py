"""Connection settings, read once from an Airflow Connection and checked."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

from airflow_docstatus.engine.errors import InvalidInputError, basic_credentials

DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_READ_TIMEOUT = 30.0
# The longest one call (connect, send, every byte of the answer) may take, whatever the socket timeouts.
DEFAULT_CALL_TIMEOUT = 60.0
# No timeout may be longer than a day: a typo such as 1e12 is refused, not turned into a frozen timer.
MAX_SECONDS = 86400.0
# A cap on any answer's body when the vendor declares none (see VendorProtocol.max_body_bytes).
DEFAULT_MAX_BODY_BYTES = 1024 * 1024
MAX_BODY_BYTES_LIMIT = 1024 * 1024 * 1024
# The highest ``max_requests_per_second`` accepted: above it the ceiling would be no ceiling.
MAX_REQUESTS_PER_SECOND_LIMIT = 10000.0


class ConnectionLike(Protocol):
    """The attributes of an Airflow Connection the engine reads."""

    conn_id: str
    conn_type: str | None
    host: str | None
    schema: str | None
    port: int | None
    login: str | None
    password: str | None

    @property
    def extra_dejson(self) -> dict[str, Any]: ...


_TRUE = {"true", "1", "yes", "on", ""}
_FALSE = {"false", "0", "no", "off"}


def _parse_verify(value: Any, conn_id: str = "?") -> bool | str:
    """``verify`` extra: true (default), false, or a CA bundle path (checked when it is first used)."""
    if value is None:
        return True
    if isinstance(value, bool):
        return value
    text = str(value).strip()
    if text.lower() in _TRUE:
        return True
    if text.lower() in _FALSE:
        return False
    if any(ord(c) < 32 for c in text):
        raise InvalidInputError(f"connection {conn_id!r}: extra 'verify' must be true, false or a CA bundle path")
    return text  # a CA bundle path


def _parse_seconds(extra: Mapping[str, Any], key: str, default: float, conn_id: str) -> float:
    value = extra.get(key, default)
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise InvalidInputError(
            f"connection {conn_id!r}: extra {key!r} must be a number of seconds, got {value!r}"
        ) from None
    if not math.isfinite(seconds) or not 0 < seconds <= MAX_SECONDS:
        raise InvalidInputError(
            f"connection {conn_id!r}: extra {key!r} must be a number of seconds above 0 and at most "
            f"{MAX_SECONDS:.0f}, got {value!r}"
        )
    return seconds


def _parse_bytes(extra: Mapping[str, Any], key: str, default: int, conn_id: str) -> int:
    value = extra.get(key, default)
    try:
        count = int(str(value).strip()) if not isinstance(value, int) else value
    except ValueError:
        raise InvalidInputError(f"connection {conn_id!r}: extra {key!r} must be a number of bytes, got {value!r}") from None
    if isinstance(value, bool) or not 1024 <= count <= MAX_BODY_BYTES_LIMIT:
        raise InvalidInputError(
            f"connection {conn_id!r}: extra {key!r} must be a number of bytes from 1024 to "
            f"{MAX_BODY_BYTES_LIMIT}, got {value!r}"
        )
    return count


def _parse_rate(extra: Mapping[str, Any], key: str, conn_id: str) -> float | None:
    """A request ceiling in requests per second (above 0, at most the limit), or None when not set."""
    value = extra.get(key)
    if value is None:
        return None
    try:
        rate = float(value)
    except (TypeError, ValueError):
        rate = float("nan")
    if isinstance(value, bool) or not math.isfinite(rate) or not 0 < rate <= MAX_REQUESTS_PER_SECOND_LIMIT:
        raise InvalidInputError(
            f"connection {conn_id!r}: extra {key!r} must be a number of requests per second above 0 and at "
            f"most {MAX_REQUESTS_PER_SECOND_LIMIT:.0f} (e.g. 5 or 0.5), got {value!r}"
        )
    return rate


def base_url_of(conn: ConnectionLike, default: str) -> str:
    """The API base URL: ``host`` when it is a URL, else built from host, port and schema.

    An empty host means the vendor's public default. The result always ends in
    ``/``. Raises ``InvalidInputError`` (naming the connection and the field)
    for a scheme other than http(s), a query or fragment in the host, a
    ``port`` beside a full-URL host, or a malformed host or port.
    """
    conn_id = getattr(conn, "conn_id", "?")
    host = (conn.host or "").strip()
    if not host:
        url = default
    elif "://" in host:
        if conn.port:
            raise InvalidInputError(
                f"connection {conn_id!r}: `host` is a full URL, so give the port in it "
                f"(e.g. https://server:{conn.port}/...), not in the `port` field"
            )
        url = host
    else:
        scheme = str(conn.extra_dejson.get("scheme", "https"))
        port = f":{conn.port}" if conn.port else ""
        path = (conn.schema or "").strip("/")
        url = f"{scheme}://{host}{port}/{path}"
    if url:  # no host and no default: the vendor's protocol says the host is required
        check_url(url, conn_id, "host")
    return url if url.endswith("/") else url + "/"


def check_url(url: str, conn_id: str, field_name: str) -> None:
    """Raise ``InvalidInputError`` unless ``url`` is a plain http(s) URL with a host and no query or fragment."""
    if any(ord(c) < 33 or ord(c) == 127 for c in url):
        raise InvalidInputError(f"connection {conn_id!r}: `{field_name}` must not contain spaces or control characters")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as exc:
        raise InvalidInputError(f"connection {conn_id!r}: `{field_name}` is not a valid URL ({exc})") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise InvalidInputError(
            f"connection {conn_id!r}: `{field_name}` must be an http:// or https:// URL, got scheme {parts.scheme!r}"
        )
    if not parts.hostname:
        raise InvalidInputError(f"connection {conn_id!r}: `{field_name}` has no host name")
    if parts.query or parts.fragment or url.rstrip().endswith(("?", "#")):
        raise InvalidInputError(
            f"connection {conn_id!r}: `{field_name}` must not carry a query or fragment "
            "(the vendor's calls add their own query, which would drop yours)"
        )


@dataclass(frozen=True)
class ConnectionSettings:
    """What a protocol and a transport need from a connection. Its repr hides the password."""

    conn_id: str
    base_url: str
    login: str | None = None
    password: str | None = field(default=None, repr=False)
    extra: Mapping[str, Any] = field(default_factory=dict, repr=False)
    verify: bool | str = True
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    read_timeout: float = DEFAULT_READ_TIMEOUT
    call_timeout: float = DEFAULT_CALL_TIMEOUT
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_requests_per_second: float | None = None

    @classmethod
    def from_connection(
        cls,
        conn: ConnectionLike,
        *,
        default_host: str,
        expected_type: str | None = None,
        default_max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    ) -> ConnectionSettings:
        """Read and check a connection; raise ``InvalidInputError`` naming the connection and field.

        Extra fields common to every vendor: ``verify`` (true, false or a CA
        bundle path), ``connect_timeout`` (seconds, default 10), ``read_timeout``
        (seconds between two bytes, default 30), ``call_timeout`` (seconds for a
        whole call, default 60; a call is also cut at the wait's deadline) and
        ``max_body_bytes`` (the cap on any answer's body, compressed and
        inflated; default per vendor) and ``max_requests_per_second`` (a ceiling on the
        connection's requests, shared by every trigger of it in an event loop and by
        every sensor and hook of it in a process; default none, see ``engine/ceiling.py``).
        An extra that is null or blank counts as not set.
        """
        conn_id = conn.conn_id
        if expected_type and conn.conn_type and conn.conn_type != expected_type:
            raise InvalidInputError(
                f"connection {conn_id!r} has type {conn.conn_type!r}, expected {expected_type!r}"
            )
        prefix = f"extra__{conn.conn_type}__"
        # The UI's form saves every extra field it shows, an empty one as null (or ""): that means "not set".
        extra = {
            key.removeprefix(prefix): value
            for key, value in (conn.extra_dejson or {}).items()
            if value is not None and not (isinstance(value, str) and not value.strip())
        }
        return cls(
            conn_id=conn_id,
            base_url=base_url_of(conn, default_host),
            login=conn.login or None,
            password=conn.password or None,
            extra=extra,
            verify=_parse_verify(extra.get("verify"), conn_id),
            connect_timeout=_parse_seconds(extra, "connect_timeout", DEFAULT_CONNECT_TIMEOUT, conn_id),
            read_timeout=_parse_seconds(extra, "read_timeout", DEFAULT_READ_TIMEOUT, conn_id),
            call_timeout=_parse_seconds(extra, "call_timeout", DEFAULT_CALL_TIMEOUT, conn_id),
            max_body_bytes=_parse_bytes(extra, "max_body_bytes", default_max_body_bytes, conn_id),
            max_requests_per_second=_parse_rate(extra, "max_requests_per_second", conn_id),
        )

    @property
    def origin(self) -> tuple[str, str, int]:
        """(scheme, host, port) of ``base_url``: the only place the connection's credentials may go."""
        return url_origin(self.base_url)

    @property
    def secrets(self) -> tuple[str, ...]:
        """Values that must never reach a log, an XCom or an error message (the password, and its Basic form)."""
        if not self.password:
            return ()
        return (self.password, basic_credentials(self.login, self.password))


def url_origin(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of a URL, with the scheme's default port filled in."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or (443 if scheme == "https" else 80)
