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

import aiohttp

from airflow_docstatus.engine.errors import InvalidInputError, PermanentError, TransientError, ca_bundle_problem, tls_failure
from airflow_docstatus.engine.http import ACCEPT_ENCODING, BoundedBody, HttpRequest, HttpResponse, call_budget
from airflow_docstatus.engine.settings import ConnectionSettings
from airflow_docstatus.engine.tokens import TokenSlot


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
            # trust_env: HTTP(S)_PROXY and NO_PROXY apply here as they do to requests in poke mode.
            # auto_decompress off: BoundedBody inflates under the connection's cap itself.
            session = aiohttp.ClientSession(connector=connector, trust_env=True, auto_decompress=False)
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


class AsyncTransport:
    """Sends ``HttpRequest`` records with aiohttp; connection trouble becomes ``TransientError``."""

    def __init__(self, settings: ConnectionSettings, pool: SessionPool = SESSIONS) -> None:
        self._settings = settings
        self._pool = pool
        self._session: aiohttp.ClientSession | None = None

    def _lease(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = self._pool.acquire(self._settings.conn_id)
        return self._session

    def token_slot(self, token_key: str) -> TokenSlot:
        """The token slot shared with every trigger of this connection in this loop."""
        self._lease()
        return self._pool.token_slot(self._settings.conn_id, token_key)

    async def send(self, request: HttpRequest, remaining: float | None = None) -> HttpResponse:
        """Send ``request`` and read its answer, within the connection's ``call_timeout`` and ``remaining`` seconds.

        As ``SyncTransport.send``: the body is capped at ``max_body_bytes`` on
        the wire and inflated (``BodyTooLargeError``); connection trouble and
        running out of time raise ``TransientError``; TLS failures ``PermanentError``.
        """
        session = self._lease()
        settings = self._settings
        budget = call_budget(settings, remaining)
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
