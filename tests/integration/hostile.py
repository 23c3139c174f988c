"""A small malicious vendor on loopback, for the hostile-vendor tests.

``HostileServer(handler)`` runs an aiohttp server on 127.0.0.1 in its own
thread and event loop; ``handler(request)`` is an async function that
answers (or misbehaves). Every request is recorded with its arrival time,
method, path and headers, so a test can count calls and see when they came.
The streams it can send are generated lazily and stop when the client hangs
up, with a hard bound on what they would ever send.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

MIB = 1024 * 1024


@dataclass
class Seen:
    """One request the hostile server received."""

    t: float  # time.monotonic() on arrival
    method: str
    path_qs: str
    headers: dict[str, str]
    body: bytes


@dataclass
class HostileServer:
    handler: Handler
    requests: list[Seen] = field(default_factory=list)
    port: int = 0
    _loop: asyncio.AbstractEventLoop | None = None
    _runner: web.AppRunner | None = None
    _thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def calls(self, path_part: str = "") -> list[Seen]:
        return [seen for seen in self.requests if path_part in seen.path_qs]

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        self.requests.append(Seen(time.monotonic(), request.method, request.path_qs, dict(request.headers), body))
        return await self.handler(request)

    def __enter__(self) -> HostileServer:
        started = threading.Event()

        async def start() -> None:
            app = web.Application(client_max_size=4 * MIB)
            app.router.add_route("*", "/{tail:.*}", self._dispatch)
            self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
            await self._runner.setup()
            site = web.TCPSite(self._runner, "127.0.0.1", 0)
            await site.start()
            self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            self._loop.run_until_complete(start())
            started.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, name="hostile-vendor", daemon=True)
        self._thread.start()
        assert started.wait(10), "the hostile server did not start"
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._loop is not None and self._runner is not None
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        assert self._thread is not None
        self._thread.join(10)


# -- answers ----------------------------------------------------------------------------


async def stream(
    request: web.Request,
    chunks,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
    content_type: str = "application/json",
    pause: float = 0.0,
) -> web.StreamResponse:
    """Send ``chunks`` (an iterable of bytes) chunked, each ``pause`` apart, until done or the client leaves."""
    response = web.StreamResponse(status=status, headers={"Content-Type": content_type, **(headers or {})})
    response.enable_chunked_encoding()
    await response.prepare(request)
    try:
        for chunk in chunks:
            if pause:
                await asyncio.sleep(pause)
            if chunk:
                await response.write(chunk)
        await response.write_eof()
    except (ConnectionError, asyncio.CancelledError, RuntimeError):
        pass  # the client hung up, as it should
    return response


def gzip_of_zeros(total: int, piece: int = MIB):
    """A gzip stream of ``total`` zero bytes, compressed lazily (about 1 KB per MiB; never held whole)."""
    zeros = bytes(piece)
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    sent = 0
    while sent < total:
        yield packer.compress(zeros)
        sent += piece
    yield packer.flush()


def endless(piece: bytes, limit: int):
    """``piece`` again and again, up to ``limit`` bytes (a bound no client should reach)."""
    for _ in range(limit // len(piece)):
        yield piece


def json_answer(body: object, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(status=status, text=json.dumps(body), content_type="application/json", headers=headers)


class ForwardProxy:
    """A tiny HTTP forward proxy on loopback: absolute-form requests (``GET http://host:port/path``) are
    sent on to ``upstream`` (host, port) whatever their host says, one request per connection.
    ``seen`` lists each request line it forwarded."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        import socketserver

        self.upstream = upstream
        self.seen: list[str] = []
        proxy = self

        class Handler(socketserver.StreamRequestHandler):
            timeout = 30

            def handle(self) -> None:
                proxy._handle(self.rfile, self.wfile)

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self._server = Server(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _handle(self, rfile, wfile) -> None:
        import socket
        from urllib.parse import urlsplit

        line = rfile.readline(65536).decode("latin-1").rstrip("\r\n")
        if not line:
            return
        method, target, version = line.split(" ", 2)
        headers: list[tuple[str, str]] = []
        length = 0
        for _ in range(200):
            raw = rfile.readline(65536).decode("latin-1").rstrip("\r\n")
            if not raw:
                break
            name, _, value = raw.partition(":")
            if name.strip().lower() in ("connection", "proxy-connection", "keep-alive"):
                continue
            if name.strip().lower() == "content-length":
                length = int(value.strip())
            headers.append((name.strip(), value.strip()))
        body = rfile.read(length) if length else b""
        parts = urlsplit(target)
        if not parts.scheme:  # not absolute-form: not a proxy request
            wfile.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            return
        self.seen.append(f"{method} {target}")
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        head = [f"{method} {path} {version}", *(f"{k}: {v}" for k, v in headers), "Connection: close", "", ""]
        with socket.create_connection(self.upstream, timeout=30) as upstream:
            upstream.sendall("\r\n".join(head).encode("latin-1") + body)
            while True:
                chunk = upstream.recv(65536)
                if not chunk:
                    break
                wfile.write(chunk)

    def __enter__(self) -> ForwardProxy:
        threading.Thread(target=self._server.serve_forever, name="forward-proxy", daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
