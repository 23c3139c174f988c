"""Connection settings, read once from an Airflow Connection and checked."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from airflow_docstatus.engine.errors import InvalidInputError

DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_READ_TIMEOUT = 30.0


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


def _parse_verify(value: Any) -> bool | str:
    """``verify`` extra: true (default), false, or a CA bundle path."""
    if value is None:
        return True
    if isinstance(value, bool):
        return value
    text = str(value).strip()
    if text.lower() in {"true", "1", "yes", ""}:
        return True
    if text.lower() in {"false", "0", "no"}:
        return False
    return text  # a CA bundle path


def _parse_seconds(extra: Mapping[str, Any], key: str, default: float, conn_id: str) -> float:
    value = extra.get(key, default)
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise InvalidInputError(f"connection {conn_id!r}: extra {key!r} must be a number of seconds, got {value!r}")
    if seconds <= 0:
        raise InvalidInputError(f"connection {conn_id!r}: extra {key!r} must be positive, got {value!r}")
    return seconds


def base_url_of(conn: ConnectionLike, default: str) -> str:
    """The API base URL: ``host`` when it is a URL, else built from host, port and schema.

    An empty host means the vendor's public default. The result always ends in ``/``.
    """
    host = (conn.host or "").strip()
    if not host:
        url = default
    elif "://" in host:
        url = host
    else:
        scheme = str(conn.extra_dejson.get("scheme", "https"))
        port = f":{conn.port}" if conn.port else ""
        path = (conn.schema or "").strip("/")
        url = f"{scheme}://{host}{port}/{path}"
    return url if url.endswith("/") else url + "/"


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

    @classmethod
    def from_connection(
        cls, conn: ConnectionLike, *, default_host: str, expected_type: str | None = None
    ) -> ConnectionSettings:
        conn_id = conn.conn_id
        if expected_type and conn.conn_type and conn.conn_type != expected_type:
            raise InvalidInputError(
                f"connection {conn_id!r} has type {conn.conn_type!r}, expected {expected_type!r}"
            )
        prefix = f"extra__{conn.conn_type}__"
        extra = {key.removeprefix(prefix): value for key, value in (conn.extra_dejson or {}).items()}
        return cls(
            conn_id=conn_id,
            base_url=base_url_of(conn, default_host),
            login=conn.login or None,
            password=conn.password or None,
            extra=extra,
            verify=_parse_verify(extra.get("verify")),
            connect_timeout=_parse_seconds(extra, "connect_timeout", DEFAULT_CONNECT_TIMEOUT, conn_id),
            read_timeout=_parse_seconds(extra, "read_timeout", DEFAULT_READ_TIMEOUT, conn_id),
        )

    @property
    def secrets(self) -> tuple[str, ...]:
        """Values that must never reach a log, an XCom or an error message."""
        return tuple(s for s in (self.password,) if s)
