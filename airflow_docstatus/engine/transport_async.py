"""The async transport: aiohttp, with one ``ClientSession`` per connection per event loop.

Every trigger of the same connection in one triggerer loop shares the same
session (and so its keep-alive connections) and the same cached token. The
session and the token are dropped when the last trigger using them lets go,
so nothing outlives its event loop.
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import aiohttp

from airflow_docstatus.engine.errors import InvalidInputError, PermanentError, TransientError, ca_bundle_problem, tls_failure
from airflow_docstatus.engine.http import ACCEPT_ENCODING, BoundedBody, HttpRequest, HttpResponse, call_budget, slot_time
from airflow_docstatus.engine.settings import ConnectionSettings
from airflow_docstatus.engine.tokens import TokenSlot

if TYPE_CHECKING:
    from airflow_docstatus.engine.ceiling import RequestCeiling


@dataclass
class _Lease:
    session: aiohttp.ClientSession
    users: int = 0
    tokens: dict[str, TokenSlot] = field(default_factory=dict)


class SessionPool:
    """Shared ``ClientSession`` objects, keyed by event loop and connection id, counted by users."""

    def __init__(self) -> None:
        self._leases: dict[tuple[int, str], _Lease] = {}

    def acquire(self, conn_id: str) -> aiohttp.ClientSession:
        key = (id(asyncio.get_running_loop()), conn_id)
        lease = self._leases.get(key)
        if lease is None or lease.session.closed:
            connector = aiohttp.TCPConnector(limit=MAX_CONNECTIONS, limit_per_host=0, keepalive_timeout=60)
            # No trust_env: with it aiohttp looks up ~/.netrc and the proxy environment in a worker
            # thread on every request (two thread hops per poll). HTTP(S)_PROXY and NO_PROXY still
            # apply, as they do to requests in poke mode: AsyncTransport reads them once per origin.
            # auto_decompress off: BoundedBody inflates under the connection's cap itself.
            session = aiohttp.ClientSession(connector=connector, auto_decompress=False)
            lease = self._leases[key] = _Lease(session)
        lease.users += 1
        return lease.session

    def token_slot(self, conn_id: str, token_key: str) -> TokenSlot:
        """The token slot shared by the users of ``conn_id`` in this loop (the caller holds a lease)."""
        lease = self._leases[(id(asyncio.get_running_loop()), conn_id)]
        slot = lease.tokens.get(token_key)
        if slot is None:
            slot = lease.tokens[token_key] = TokenSlot(asyncio.Lock())
        return slot

    async def release(self, conn_id: str) -> None:
        key = (id(asyncio.get_running_loop()), conn_id)
        lease = self._leases.get(key)
        if lease is None:
            return
        lease.users -= 1
        if lease.users <= 0:
            del self._leases[key]
            await lease.session.close()

    def open_sessions(self) -> int:
        """How many sessions are open, in every loop (for tests and benchmarks)."""
        return sum(1 for lease in self._leases.values() if not lease.session.closed)

    def cached_tokens(self) -> int:
        """How many token slots are held, in every loop (for tests)."""
        return sum(len(lease.tokens) for lease in self._leases.values())


# Keep-alive connections one session may hold. Past it, a request waits for a
# free connection rather than opening one more: after an event-loop stall,
# thousands of overdue polls reuse a hundred sockets instead of opening
# thousands (and the garbage collector has fewer objects to walk).
MAX_CONNECTIONS = 100
SESSIONS = SessionPool()
_SSL_CONTEXTS: dict[str, ssl.SSLContext] = {}


async def _ssl_option(settings: ConnectionSettings) -> bool | ssl.SSLContext:
    verify = settings.verify
    if isinstance(verify, bool):
        return verify
    context = _SSL_CONTEXTS.get(verify)
    if context is None:
        # Reading the CA bundle is file I/O: keep it off the event loop, and do it once.
        try:
            context = await asyncio.to_thread(ssl.create_default_context, cafile=verify)
        except (OSError, ssl.SSLError) as exc:
            raise InvalidInputError(ca_bundle_problem(settings.conn_id, verify, exc)) from None
        _SSL_CONTEXTS[verify] = context
    return context


# A transport remembers the proxy of this many origins at most (a connection calls one or two).
MAX_PROXY_ORIGINS = 16


def _env_proxy(url: str) -> tuple[str | None, aiohttp.BasicAuth | None]:
    """The proxy ``HTTP(S)_PROXY``/``NO_PROXY`` give ``url`` (as aiohttp's ``trust_env`` reads them), or none."""
    from aiohttp.helpers import get_env_proxy_for_url
    from yarl import URL

    try:
        proxy, auth = get_env_proxy_for_url(URL(url))
    except LookupError:
        return None, None
    return str(proxy), auth


class AsyncTransport:
    """Sends ``HttpRequest`` records with aiohttp; connection trouble becomes ``TransientError``.

    The proxy environment (``HTTP_PROXY``, ``HTTPS_PROXY``, ``NO_PROXY``) is read
    once per origin by each transport, in a worker thread, and applied to its
    requests, as requests applies it in poke mode; a hook built later (a new
    wait) reads it afresh.
    """

    def __init__(self, settings: ConnectionSettings, pool: SessionPool = SESSIONS) -> None:
        self._settings = settings
        self._pool = pool
        self._session: aiohttp.ClientSession | None = None
        self._ceiling: RequestCeiling | None = None
        self._proxies: dict[str, tuple[str | None, aiohttp.BasicAuth | None]] = {}

    def _lease(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = self._pool.acquire(self._settings.conn_id)
        return self._session

    def token_slot(self, token_key: str) -> TokenSlot:
        """The token slot shared with every trigger of this connection in this loop."""
        self._lease()
        return self._pool.token_slot(self._settings.conn_id, token_key)

    async def _proxy(self, url: str) -> tuple[str | None, aiohttp.BasicAuth | None]:
        origin = "/".join(url.split("/", 3)[:3])  # scheme://host:port
        proxy = self._proxies.get(origin)
        if proxy is None:
            proxy = await asyncio.to_thread(_env_proxy, url)  # the environment, read off the loop
            if len(self._proxies) >= MAX_PROXY_ORIGINS:
                self._proxies.clear()
            self._proxies[origin] = proxy
        return proxy

    async def send(self, request: HttpRequest, remaining: float | None = None) -> HttpResponse:
        """Send ``request`` and read its answer, within the connection's ``call_timeout`` and ``remaining`` seconds.

        As ``SyncTransport.send``: the body is capped at ``max_body_bytes`` on
        the wire and inflated (``BodyTooLargeError``); with ``max_requests_per_second`` it
        first waits (without blocking the loop) for the connection's next request slot, or
        raises ``NoRequestSlotError`` when that lies past the deadline (``slot_time``); connection trouble and
        running out of time raise ``TransientError``; TLS failures ``PermanentError``.
        """
        session = self._lease()
        settings = self._settings
        if settings.max_requests_per_second is not None:  # the connection's ceiling, shared in this loop
            if self._ceiling is None:
                from airflow_docstatus.engine.ceiling import async_ceiling

                self._ceiling = async_ceiling(settings.conn_id, settings.max_requests_per_second)
            waited = await self._ceiling.wait_async(slot_time(settings, remaining))
            if remaining is not None:
                remaining -= waited
        budget = call_budget(settings, remaining)
        proxy, proxy_auth = await self._proxy(request.url)
        timeout = aiohttp.ClientTimeout(
            total=budget, sock_connect=settings.connect_timeout, sock_read=settings.read_timeout
        )
        try:
            async with session.request(
                request.method,
                request.url,
                params=dict(request.params) or None,
                headers={"Accept-Encoding": ACCEPT_ENCODING, **request.headers},
                data=request.body,
                timeout=timeout,
                ssl=await _ssl_option(settings),
                proxy=proxy,
                proxy_auth=proxy_auth,
                allow_redirects=False,
            ) as answer:
                body = BoundedBody(
                    settings.max_body_bytes,
                    answer.headers.get("Content-Encoding"),
                    what=f"{request.method} {request.url} (connection {settings.conn_id!r})",
                )
                body.check_declared(answer.headers.get("Content-Length"))
                async for chunk in answer.content.iter_any():
                    body.feed(chunk)
                return HttpResponse(status=answer.status, headers=dict(answer.headers), body=body.body())
        except aiohttp.ClientSSLError:
            raise PermanentError(tls_failure(request.method, request.url, self._settings.conn_id)) from None
        except asyncio.TimeoutError:
            raise TransientError(
                f"{request.method} {request.url} timed out (within {budget:.1f}s: `read_timeout`, "
                "`call_timeout`, or the time left before the deadline)"
            ) from None
        except aiohttp.ClientError as exc:
            raise TransientError(f"{request.method} {request.url} failed ({type(exc).__name__})") from None

    async def close(self) -> None:
        if self._session is not None:
            self._session = None
            await self._pool.release(self._settings.conn_id)
