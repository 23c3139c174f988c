"""Turn a script step into an HTTP answer: the vendor's normal answer or a scripted fault.

Vendor modules build their normal answer; :func:`respond` decides whether it is
sent as is, late (``slow``), one byte at a time (``drip``), padded past any cap
(``oversized``), cut short (``garbled``) or replaced by a fault.
"""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import Callable

from aiohttp import web

from .documents import SOAP_FAULT_KINDS, Step

NormalAnswer = Callable[[], web.Response]
SoapFaultAnswer = Callable[[Step], web.Response]

_HTTP_ERROR_STATUS: dict[str, int] = {
    "http_500": 500,
    "http_502": 502,
    "http_503": 503,
    "http_429": 429,
    "http_400": 400,
    "http_403": 403,
    "http_404": 404,
    "http_405": 405,
    "http_413": 413,
}

_HTML_ERROR_PAGE = """<!DOCTYPE html>
<html><head><title>502 - Web server received an invalid response</title></head>
<body><h1>Server Error</h1>
<h2>502 - Web server received an invalid response while acting as a gateway or proxy server.</h2>
<p>docstatus simulator: scripted 'html' fault.</p>
</body></html>
"""

RESET_LOG_STATUS = 499
"""Status shown in the access log for a dropped connection (never sent to the client)."""


def reset_connection(request: web.Request) -> web.Response:
    """Drop the client's connection with a TCP reset and no HTTP answer."""
    transport = request.transport
    if transport is not None:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            try:
                # Linger 0: close() sends RST instead of a polite FIN.
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            except OSError:
                pass
        transport.abort()
    # aiohttp still wants a response object; nothing reaches the closed transport.
    return web.Response(status=RESET_LOG_STATUS, reason="Connection Reset By Simulator")


ECHOED_HEADERS = ("Authorization", "Ocp-Apim-Subscription-Key", "Proxy-Authorization")
"""The credential headers an ``echo_secret`` 401 quotes back, as a careless gateway does."""
_STREAM_PIECE = 64 * 1024


def _headers_of(normal: web.Response) -> dict[str, str]:
    """The normal answer's headers, without its length (the faults below send their own body)."""
    return {k: v for k, v in normal.headers.items() if k.lower() not in ("content-length", "transfer-encoding")}


async def _drip(request: web.Request, normal: web.Response, delay: float) -> web.StreamResponse:
    """The normal answer with its length declared, then its body one byte every ``delay`` seconds."""
    body = normal.body if isinstance(normal.body, bytes) else b""
    response = web.StreamResponse(status=normal.status, headers=_headers_of(normal))
    response.content_length = len(body)
    await response.prepare(request)
    try:
        for index in range(len(body)):
            await asyncio.sleep(delay)
            await response.write(body[index:index + 1])
        await response.write_eof()
    except (ConnectionError, RuntimeError):
        pass  # the client gave up waiting, as it should
    return response


async def _oversized(request: web.Request, normal: web.Response, size: int) -> web.StreamResponse:
    """The normal answer padded with spaces to ``size`` bytes (still valid JSON or XML), sent chunked."""
    body = normal.body if isinstance(normal.body, bytes) else b""
    response = web.StreamResponse(status=normal.status, headers=_headers_of(normal))
    response.enable_chunked_encoding()
    await response.prepare(request)
    padding = b" " * _STREAM_PIECE
    try:
        await response.write(body[:size])
        left = size - min(len(body), size)
        while left > 0:
            piece = padding[: min(left, _STREAM_PIECE)]
            await response.write(piece)
            left -= len(piece)
        await response.write_eof()
    except (ConnectionError, RuntimeError):
        pass  # the client stopped reading at its cap
    return response


def _echo_secret(request: web.Request) -> web.Response:
    """401 whose text body quotes the request's credential headers back."""
    quoted = [f"{name}: {request.headers[name]}" for name in ECHOED_HEADERS if name in request.headers]
    text = "Unauthorized. The request carried:\n" + ("\n".join(quoted) or "(no credentials)")
    return web.Response(status=401, text=text)


def _garbled(normal: web.Response) -> web.Response:
    body = normal.body if isinstance(normal.body, bytes) else b""
    cut = body[: max(1, len(body) // 2)] if body else b'{"'
    return web.Response(
        status=200, body=cut, content_type=normal.content_type or "application/json"
    )


async def respond(
    request: web.Request,
    step: Step,
    normal: NormalAnswer,
    http_error: Callable[[int], web.Response] | None = None,
    soap_fault: SoapFaultAnswer | None = None,
) -> web.Response:
    """Answer a status call with ``step``: its fault if it has one, else ``normal()``.

    ``http_error(status)``, if given, builds the vendor's own error answer for
    the ``http_*`` faults (``Retry-After`` is added to it for ``http_429``);
    without it they answer with a short text body. SOAP vendors pass
    ``soap_fault``, which builds their Fault envelope; for the others a SOAP
    fault step is a plain 500.
    """
    fault = step.fault
    if fault is None:
        return normal()
    if fault in SOAP_FAULT_KINDS:
        if soap_fault is not None:
            return soap_fault(step)
        return web.Response(status=500, text=f"simulated fault {fault}")
    if fault in _HTTP_ERROR_STATUS:
        status = _HTTP_ERROR_STATUS[fault]
        headers = {"Retry-After": str(step.retry_after)} if fault == "http_429" else {}
        if http_error is not None:
            response = http_error(status)
            response.headers.update(headers)
            return response
        return web.Response(
            status=status, text=f"simulated fault {fault}", headers=headers or None
        )
    if fault == "reset":
        return reset_connection(request)
    if fault == "slow":
        await asyncio.sleep(step.delay or 0.0)
        return normal()
    if fault == "html":
        return web.Response(status=502, text=_HTML_ERROR_PAGE, content_type="text/html")
    if fault == "garbled":
        return _garbled(normal())
    if fault == "drip":
        return await _drip(request, normal(), step.delay or 0.0)
    if fault == "oversized":
        return await _oversized(request, normal(), step.size or 1)
    if fault == "echo_secret":
        return _echo_secret(request)
    raise ValueError(f"unknown fault {fault!r}")  # parse_script keeps this unreachable
