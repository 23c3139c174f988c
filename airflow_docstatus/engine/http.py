"""Plain HTTP request and response records, so protocols stay free of I/O."""

from __future__ import annotations

import json
import time
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

from airflow_docstatus.engine.errors import BodyTooLargeError, TransientError, basic_credentials

# What we tell vendors we can read: nothing we cannot inflate under a cap ourselves.
ACCEPT_ENCODING = "gzip, deflate"

# An error message quotes the start of a body; no more than this much of it is ever decoded.
EXCERPT_SCAN_BYTES = 64 * 1024

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

    def excerpt(self, limit: int = 200, redact: Callable[[str], str] | None = None) -> str:
        """The start of the body on one line, for an error message.

        Only the first ``EXCERPT_SCAN_BYTES`` are read (a 16 MB error page
        costs no more than a small one), and ``redact`` (text -> text) is
        applied before the text is cut, so a secret lying across the cut
        never shows its first characters.
        """
        scanned = self.body[:EXCERPT_SCAN_BYTES]
        text = scanned.decode("utf-8", errors="replace")
        if len(self.body) > len(scanned):
            # The scan may have cut a word (a token, a Basic value) that the redaction would know whole: drop it.
            words = text.rsplit(None, 1)
            text = words[0] if len(words) == 2 else text
        if redact is not None:
            text = redact(text)
        text = " ".join(text.split())
        return text if len(text) <= limit else text[: limit - 1] + "…"

    @property
    def retry_after(self) -> float | None:
        """``Retry-After`` in seconds from now: a number of seconds or an HTTP-date (RFC 9110, 10.2.3)."""
        return parse_retry_after(self.header("Retry-After"))


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from ``Retry-After``: delay-seconds or an HTTP-date; None when absent or unreadable."""
    if value is None:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:  # RFC 9110 dates are GMT
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if seconds != seconds or seconds in (float("inf"), float("-inf")):  # nan or inf: no usable hint
        return None
    return max(seconds, 0.0)


# A call made at (or past) the deadline, for one last look, still gets this long.
LAST_LOOK_SECONDS = 5.0


def call_budget(settings: Any, remaining: float | None) -> float:
    """Seconds one call may take: the connection's ``call_timeout``, cut to the time left before the deadline.

    A call with no time left (the last look at the deadline) still gets
    ``LAST_LOOK_SECONDS``, or the read timeout when that is shorter.
    """
    budget = float(settings.call_timeout)
    if remaining is not None:
        budget = min(budget, max(remaining, min(LAST_LOOK_SECONDS, settings.read_timeout)))
    return budget


class BoundedBody:
    """Collects a response body, inflating gzip or deflate itself, and stops at ``limit`` bytes.

    Both the bytes on the wire and the inflated bytes are counted, so neither
    an endless body nor a compression bomb can grow the process past the
    cap: the decompressor is asked for at most what is left of it. Past the
    cap, ``feed`` raises ``BodyTooLargeError`` naming the cap and where to
    raise it, and the caller drops the connection without reading the rest.
    """

    def __init__(self, limit: int, content_encoding: str | None, *, what: str) -> None:
        self.limit = limit
        self.what = what
        self.wire = 0
        self._chunks: list[bytes] = []
        self._size = 0
        encoding = (content_encoding or "identity").strip().lower()
        if encoding in ("", "identity"):
            self._wbits: int | None = None
        elif encoding in ("gzip", "x-gzip"):
            self._wbits = 16 + zlib.MAX_WBITS
        elif encoding == "deflate":
            self._wbits = zlib.MAX_WBITS  # zlib-wrapped; a raw deflate stream is retried below
        else:
            raise TransientError(f"{what}: the answer uses Content-Encoding {content_encoding!r}, which was not asked for")
        self._inflater = None if self._wbits is None else zlib.decompressobj(self._wbits)
        self._started = False

    def check_declared(self, content_length: str | None) -> None:
        """Refuse at once a body whose declared length is over the cap."""
        try:
            declared = int(content_length) if content_length is not None else None
        except ValueError:
            return
        if declared is not None and declared > self.limit:
            self._too_large(f"declares {declared} bytes")

    def _too_large(self, how: str) -> None:
        raise BodyTooLargeError(
            f"{self.what}: the answer {how}, over the cap of {self.limit} bytes "
            "(raise the connection's `max_body_bytes` extra if the vendor's answers are that large)"
        )

    def _keep(self, data: bytes) -> None:
        self._size += len(data)
        if self._size > self.limit:
            self._too_large(f"inflates past {self.limit} bytes")
        if data:
            self._chunks.append(data)

    def feed(self, chunk: bytes) -> None:
        self.wire += len(chunk)
        if self.wire > self.limit:
            self._too_large(f"runs past {self.limit} bytes on the wire")
        if self._inflater is None:
            self._keep(chunk)
            return
        data = chunk
        while data:
            try:
                out = self._inflater.decompress(data, self.limit - self._size + 1)
            except zlib.error:
                if self._wbits == zlib.MAX_WBITS and not self._started:  # "deflate" sent as a raw stream
                    self._wbits = -zlib.MAX_WBITS
                    self._inflater = zlib.decompressobj(self._wbits)
                    continue
                raise TransientError(f"{self.what}: the answer is not valid {self._name()} data") from None
            self._started = True
            self._keep(out)
            if self._inflater.eof and self._inflater.unused_data:  # another gzip member follows
                data = self._inflater.unused_data
                self._inflater = zlib.decompressobj(self._wbits)
                continue
            data = self._inflater.unconsumed_tail

    def _name(self) -> str:
        return "gzip" if self._wbits and self._wbits > zlib.MAX_WBITS else "deflate"

    def body(self) -> bytes:
        """The whole (inflated) body."""
        if self._inflater is not None:
            self._keep(self._inflater.flush(self.limit - self._size + 1))
        return b"".join(self._chunks)


def basic_auth_header(login: str | None, password: str | None) -> dict[str, str]:
    """An HTTP Basic ``Authorization`` header."""
    return {"Authorization": f"Basic {basic_credentials(login, password)}"}
