"""Plain HTTP request and response records, so protocols stay free of I/O."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

_HIDDEN_HEADERS = frozenset({"authorization", "ocp-apim-subscription-key", "cookie", "proxy-authorization"})


def redacted_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Headers fit for a log line: credentials replaced by ``***``."""
    return {k: ("***" if k.lower() in _HIDDEN_HEADERS else v) for k, v in headers.items()}


@dataclass(frozen=True)
class HttpRequest:
    """What a protocol asks a transport to send. Its repr never shows credentials."""

    method: str
    url: str
    params: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    body: bytes | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        return (
            f"HttpRequest(method={self.method!r}, url={self.url!r}, params={dict(self.params)!r}, "
            f"headers={redacted_headers(self.headers)!r})"
        )


@dataclass(frozen=True)
class HttpResponse:
    """What a transport hands back to a protocol."""

    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        """A header by case-insensitive name."""
        wanted = name.lower()
        for key, value in self.headers.items():
            if key.lower() == wanted:
                return value
        return None

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body as JSON; raises ``ValueError`` on a garbled body."""
        return json.loads(self.body)

    def excerpt(self, limit: int = 200) -> str:
        """The start of the body on one line, for an error message."""
        text = " ".join(self.text.split())
        return text if len(text) <= limit else text[: limit - 1] + "…"

    @property
    def retry_after(self) -> float | None:
        """``Retry-After`` in seconds, when given as a number of seconds."""
        value = self.header("Retry-After")
        if value is None:
            return None
        try:
            seconds = float(value)
        except ValueError:
            return None  # an HTTP date: rare for these vendors, treated as no hint
        return max(seconds, 0.0)


def basic_auth_header(login: str | None, password: str | None) -> dict[str, str]:
    """An HTTP Basic ``Authorization`` header."""
    token = base64.b64encode(f"{login or ''}:{password or ''}".encode()).decode("ascii")
    return {"Authorization": f"Basic {token}"}
