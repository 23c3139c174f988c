"""The base Airflow Hook of every vendor: connection loading plus one status call, sync or async."""

from __future__ import annotations

import asyncio
import json
import time
import weakref
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar, cast

from airflow.sdk import BaseHook

from airflow_docstatus.engine.contract import check_parameter
from airflow_docstatus.engine.errors import DocStatusError
from airflow_docstatus.engine.protocol import VendorProtocol
from airflow_docstatus.engine.settings import ConnectionSettings
from airflow_docstatus.engine.tokens import Token, TokenSlot, sync_token_slot, token_key

if TYPE_CHECKING:
    from airflow_docstatus.engine.http import HttpRequest, HttpResponse
    from airflow_docstatus.engine.protocol import TokenAuthProtocol
    from airflow_docstatus.engine.status import DocStatus
    from airflow_docstatus.engine.transport_async import AsyncTransport
    from airflow_docstatus.engine.transport_sync import SyncTransport


# Connections loaded in an event loop, shared by every trigger of the same
# connection for a short while: a thousand triggers starting together make one
# lookup, not a thousand. Keyed by loop, so nothing crosses event loops.
CONNECTION_CACHE_SECONDS = 30.0
# Answers larger than this are parsed in a worker thread in the triggerer (bytes).
PARSE_OFF_LOOP_BYTES = 256 * 1024
# A connection test's probe call may take this long at most (seconds; less if the connection's call_timeout is less).
PROBE_SECONDS = 20.0
# A connection test's message is cut at this many characters (the UI shows it in a toast).
PROBE_MESSAGE_CHARS = 1000
_LOADED: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, tuple[float, asyncio.Future[Any]]]] = (
    weakref.WeakKeyDictionary()
)


async def _load_connection(conn_id: str) -> Any:
    native = getattr(BaseHook, "aget_connection", None)
    if native is not None:
        return await native(conn_id)
    from asgiref.sync import sync_to_async

    return await sync_to_async(BaseHook.get_connection)(conn_id)


async def aget_connection(conn_id: str) -> Any:
    """Fetch a connection without blocking the event loop (Airflow 3.0 lacks ``aget_connection``).

    A connection loaded in this event loop is reused for ``CONNECTION_CACHE_SECONDS``;
    a failed lookup is not kept, and ``forget_connection`` drops one (after an auth failure).
    """
    loop = asyncio.get_running_loop()
    loaded = _LOADED.setdefault(loop, {})
    entry = loaded.get(conn_id)
    if entry is None or loop.time() >= entry[0]:
        entry = loaded[conn_id] = (loop.time() + CONNECTION_CACHE_SECONDS, loop.create_task(_load_connection(conn_id)))
    try:
        return await asyncio.shield(entry[1])
    except Exception:
        if loaded.get(conn_id) is entry:
            del loaded[conn_id]
        raise


def forget_connection(conn_id: str) -> None:
    """Drop a connection loaded in this event loop, and the hooks shared on it, so the next user loads it afresh."""
    loop = asyncio.get_running_loop()
    loaded = _LOADED.get(loop)
    if loaded is not None:
        loaded.pop(conn_id, None)
    shared = _SHARED.get(loop)
    if shared is not None:
        for key in [key for key in shared if key[1] == conn_id]:
            del shared[key]  # its users keep it until they release it


# The protocol a hook speaks. Covariant: a LeadtoolsHook is a DocStatusHook[VendorProtocol] to the engine,
# which only reads the protocol.
P_co = TypeVar("P_co", bound=VendorProtocol, covariant=True)
# The hook a sensor, an operator or a trigger polls with (their type parameter).
H = TypeVar("H", bound="DocStatusHook[VendorProtocol]")


class _SharedHook:
    """One hook serving every trigger of a connection (and options) in an event loop, counted by users."""

    __slots__ = ("fresh_until", "hook", "key", "users")

    def __init__(self, hook: DocStatusHook[Any], key: tuple[Any, ...], fresh_until: float) -> None:
        self.hook, self.key, self.fresh_until, self.users = hook, key, fresh_until, 0


_SHARED: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[Any, ...], _SharedHook]] = (
    weakref.WeakKeyDictionary()
)


def acquire_shared_hook(hook_class: type[H], conn_id: str, options: Mapping[str, Any]) -> H:
    """The hook every trigger of ``conn_id`` (with these protocol options) shares in the running event loop.

    One hook means one set of connection settings, one protocol and one
    transport for all of them, instead of one each per waiting trigger (fewer
    objects for the garbage collector to walk). A trigger joining after
    ``CONNECTION_CACHE_SECONDS`` gets a hook built afresh (so a changed
    connection is read, as before), and ``forget_connection`` (after an
    authentication failure) makes the next one build afresh at once. Give it
    back with ``release_shared_hook``; the last user closes it.

    A vendor whose waits share status calls (``engine/coalesce.py``, Azure)
    keeps one hook per wait: its groups count their waiters by hook.
    """
    if hasattr(hook_class.protocol_class, "shared_call_key"):
        return hook_class(conn_id, **options)
    loop = asyncio.get_running_loop()
    table = _SHARED.setdefault(loop, {})
    key = (hook_class, conn_id, json.dumps(options, sort_keys=True, default=repr))
    entry = table.get(key)
    if entry is None or loop.time() >= entry.fresh_until:
        entry = table[key] = _SharedHook(hook_class(conn_id, **options), key, loop.time() + CONNECTION_CACHE_SECONDS)
    entry.users += 1
    entry.hook._shared = entry
    return cast(H, entry.hook)


async def release_shared_hook(hook: DocStatusHook[Any]) -> None:
    """Give back a hook of ``acquire_shared_hook``: the last user closes it (and so lets go of its session)."""
    entry = hook._shared
    if entry is None:
        await hook.aclose()
        return
    entry.users -= 1
    if entry.users > 0:
        return
    table = _SHARED.get(asyncio.get_running_loop())
    if table is not None and table.get(entry.key) is entry:
        del table[entry.key]
    hook._shared = None
    await hook.aclose()


class StatusCall:
    """A status call built once per wait: the checked ids (``ref``) and the request that asks for them.

    The URL, query and headers of a wait's status call do not change from
    poll to poll, so a trigger builds them once (``DocStatusHook.aprepare_status``)
    and sends the same request on every poll (``DocStatusHook.apoll``); a
    token, when the vendor uses one, is still put on each send.
    """

    __slots__ = ("ref", "request")

    def __init__(self, ref: dict[str, Any], request: HttpRequest) -> None:
        self.ref, self.request = ref, request


def _field_behaviour(hook_class: type[DocStatusHook[Any]]) -> dict[str, Any]:
    """``get_ui_field_behaviour`` of a vendor hook, from ``connection_forms``."""
    from airflow_docstatus.connection_forms import CONNECTION_FORMS

    behaviour = CONNECTION_FORMS[hook_class.conn_type]["ui-field-behaviour"]
    return {
        "hidden_fields": list(behaviour.get("hidden-fields", [])),
        "relabeling": dict(behaviour.get("relabeling", {})),
        "placeholders": dict(behaviour.get("placeholders", {})),
    }


def _form_widgets(hook_class: type[DocStatusHook[Any]]) -> dict[str, Any]:
    """``get_connection_form_widgets`` of a vendor hook, from ``connection_forms`` (needs wtforms)."""
    from wtforms import StringField

    from airflow_docstatus.connection_forms import CONNECTION_FORMS

    fields = CONNECTION_FORMS[hook_class.conn_type]["conn-fields"]
    return {
        name: StringField(field["label"], description=field.get("description", ""))
        for name, field in fields.items()
    }


class DocStatusHook(BaseHook, Generic[P_co]):
    """Talks to one vendor through its protocol: ``check_status`` (sync) and ``acheck_status`` (async).

    Subclasses name their protocol as the type parameter
    (``class LeadtoolsHook(DocStatusHook[LeadtoolsProtocol])``), so ``protocol``
    and ``aprotocol()`` are typed as it, and set the usual Airflow hook
    attributes and ``protocol_class`` (that protocol, or a subclass of it:
    checked when the class is created); they add the calls that start a job.
    The HTTP clients are imported only when a call is made, so importing a
    hook stays cheap.

    For a vendor with token auth (a ``TokenAuthProtocol``), ``send`` and
    ``asend`` put the connection's bearer token on every request. The token
    is fetched once and shared by every poller of the connection in the
    process (in the triggerer: in the event loop), renewed shortly before it
    expires, and renewed once more when the vendor answers 401; a second 401
    stands. Each token is masked in the logs the moment it is obtained.
    """

    conn_name_attr: ClassVar[str]
    default_conn_name: ClassVar[str]
    conn_type: ClassVar[str]
    hook_name: ClassVar[str]
    # Not a ClassVar, which cannot hold a type variable: set on the class all the same.
    protocol_class: type[P_co]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # Airflow before 3.2 reads the form from hook methods, and only from a
        # hook's own __dict__: give each vendor hook its own, derived from
        # ``connection_forms`` so the two can never drift apart.
        super().__init_subclass__(**kwargs)
        check_parameter(cls, DocStatusHook, "protocol_class")
        if "conn_type" in cls.__dict__:
            # Airflow annotates these as plain callables, not classmethods:
            cls.get_connection_form_widgets = classmethod(_form_widgets)  # type: ignore[method-assign,assignment]
            cls.get_ui_field_behaviour = classmethod(_field_behaviour)  # type: ignore[method-assign,assignment]

    def __init__(self, conn_id: str | None = None, **protocol_options: Any) -> None:
        super().__init__()
        self.conn_id = conn_id or self.default_conn_name
        self.protocol_options = protocol_options
        self._settings: ConnectionSettings | None = None
        self._protocol: P_co | None = None
        self._sync: SyncTransport | None = None
        self._async: AsyncTransport | None = None
        self._cached_token_key: str | None = None
        self._shared: _SharedHook | None = None  # set while shared by triggers (acquire_shared_hook)
        # Status calls shared with other waits (engine/coalesce.py): this hook's groups, and when it started.
        self._shared_groups: set[tuple[str, str, Any]] = set()
        self._started = time.monotonic()

    # connection --------------------------------------------------------------
    def _load(self, connection: Any) -> P_co:
        self._settings = ConnectionSettings.from_connection(
            connection,
            default_host=self.protocol_class.default_host,
            expected_type=self.conn_type,
            default_max_body_bytes=self.protocol_class.max_body_bytes,
        )
        self._protocol = self.protocol_class(self._settings, **self.protocol_options)
        return self._protocol

    def _derived_secrets(self) -> list[str]:
        """The encoded forms of the connection's secrets (Basic value, URL/JSON-escaped), for Airflow's masker."""
        assert self._settings is not None
        from airflow_docstatus.engine.errors import secret_forms

        forms: set[str] = set()
        for secret in self._settings.secrets:
            forms |= secret_forms(secret)
        return sorted(forms)

    @property
    def protocol(self) -> P_co:
        """The vendor protocol bound to this hook's connection (loaded on first use)."""
        if self._protocol is not None:
            return self._protocol
        protocol = self._load(self.get_connection(self.conn_id))
        from airflow_docstatus._compat import mask_secret

        for secret in self._derived_secrets():
            mask_secret(secret)
        return protocol

    async def aprotocol(self) -> P_co:
        """Like ``protocol``, loading the connection without blocking the event loop."""
        if self._protocol is not None:
            return self._protocol
        connection = await aget_connection(self.conn_id)
        if self._protocol is not None:  # another user of this (shared) hook loaded it meanwhile
            return self._protocol
        protocol = self._load(connection)
        from airflow_docstatus._compat import amask_secret

        for secret in self._derived_secrets():
            await amask_secret(secret)
        return protocol

    def check_deferrable(self) -> None:
        """Raise ``InvalidInputError`` if this connection cannot be polled from the triggerer.

        Every connection can, unless a vendor hook says otherwise (Cora with NTLM).
        """

    def get_conn(self) -> ConnectionSettings:
        """The checked connection settings."""
        self.protocol  # noqa: B018 - loads the settings
        assert self._settings is not None
        return self._settings

    # sync --------------------------------------------------------------------
    def _transport(self) -> SyncTransport:
        if self._sync is None:
            from airflow_docstatus.engine.transport_sync import SyncTransport

            self._sync = SyncTransport(self.get_conn())
        return self._sync

    def send(self, request: HttpRequest, remaining: float | None = None) -> HttpResponse:
        """Send one request with requests, within ``remaining`` seconds (see ``SyncTransport.send``).

        Connection trouble raises ``TransientError``. With token auth the
        connection's token goes on the request, renewed once after a 401.
        """
        protocol = self.protocol
        if not protocol.uses_tokens:
            return self._transport().send(request, remaining)
        tokens = self._token_auth()
        slot = sync_token_slot(self._token_key())
        token = self._token(slot, remaining)
        answer = self._transport().send(tokens.authorize(request, token), remaining)
        if answer.status == 401:  # expired or revoked early: renew once, and let a second 401 stand
            slot.discard(token)
            answer = self._transport().send(tokens.authorize(request, self._token(slot, remaining)), remaining)
        return answer

    def _token(self, slot: TokenSlot, remaining: float | None = None) -> Token:
        with slot.lock:
            now = time.time()
            token = slot.current(now)
            if token is None:
                slot.raise_recent_failure(now)
                try:
                    answer = self._transport().send(self._token_auth().token_request(), remaining)
                    token = self._obtained(answer)
                except DocStatusError as exc:
                    slot.failed(exc, time.time())
                    raise
                slot.obtained(token)
                from airflow_docstatus._compat import mask_secret

                mask_secret(token.value)
        self._token_auth().remember_secret(token.value)
        return token

    def _token_key(self) -> str:
        """Where this connection's token is cached: worked out once per hook, not on every poll."""
        if self._cached_token_key is None:
            self._cached_token_key = token_key(self.conn_id, self._token_auth().token_request())
        return self._cached_token_key

    def _token_auth(self) -> TokenAuthProtocol:
        return self.protocol  # type: ignore[return-value]  # uses_tokens is only set by TokenAuthProtocol

    def _obtained(self, answer: HttpResponse) -> Token:
        token = self._token_auth().read_token(answer, time.time())
        self.log.info("%s obtained a token for connection %r", self.protocol_class.display_name, self.conn_id)
        return token

    def check_status(self, *, remaining: float | None = None, **ids: Any) -> DocStatus:
        """Ask the vendor once for the status of a document.

        ``ids`` are the vendor's ids (checked before any call: ``InvalidInputError``);
        ``remaining`` is the time left before the wait's deadline, in seconds,
        which also bounds the call. Raises ``TransientError``, ``PermanentError``
        (``AuthenticationError`` for 401/403) as the answer says.
        """
        ref = self.protocol_class.checked_ref(**ids)
        protocol = self.protocol
        return protocol.interpret(ref, self.send(protocol.status_request(ref), remaining))

    # cancelling a job --------------------------------------------------------
    def cancel(self, **ids: Any) -> bool:
        """Ask the vendor to cancel a job; False when the vendor has no cancel call (the default).

        A vendor hook with a documented cancel call overrides this and ``acancel``;
        errors are the typed errors of a status call.
        """
        return False

    async def acancel(self, **ids: Any) -> bool:
        """``cancel`` without blocking the event loop (for a trigger's ``on_kill``)."""
        return False

    def close(self) -> None:
        if self._sync is not None:
            self._sync.close()
            self._sync = None

    # async -------------------------------------------------------------------
    async def _atransport(self) -> AsyncTransport:
        if self._async is None:
            from airflow_docstatus.engine.transport_async import AsyncTransport

            await self.aprotocol()
            assert self._settings is not None
            if self._async is None:  # no await between this test and the assignment: one transport per hook
                self._async = AsyncTransport(self._settings)
        return self._async

    async def asend(self, request: HttpRequest, remaining: float | None = None) -> HttpResponse:
        """Send one request with the shared aiohttp session of this connection (and its shared token)."""
        transport = await self._atransport()
        protocol = await self.aprotocol()
        if not protocol.uses_tokens:
            return await transport.send(request, remaining)
        tokens = self._token_auth()
        slot = transport.token_slot(self._token_key())
        token = await self._atoken(slot, remaining)
        answer = await transport.send(tokens.authorize(request, token), remaining)
        if answer.status == 401:  # expired or revoked early: renew once, and let a second 401 stand
            slot.discard(token)
            answer = await transport.send(tokens.authorize(request, await self._atoken(slot, remaining)), remaining)
        return answer

    async def _atoken(self, slot: TokenSlot, remaining: float | None = None) -> Token:
        """The connection's token: the pollers of one connection share a single fetch (no lock held across I/O)."""
        now = time.time()
        token = slot.current(now)
        if token is None:
            slot.raise_recent_failure(now)
            if slot.pending is None or slot.pending.done():
                slot.pending = asyncio.ensure_future(self._afetch_token(slot, remaining))
            token = await asyncio.shield(slot.pending)
        self._token_auth().remember_secret(token.value)
        return token

    async def _afetch_token(self, slot: TokenSlot, remaining: float | None) -> Token:
        transport = await self._atransport()
        try:
            token = self._obtained(await transport.send(self._token_auth().token_request(), remaining))
        except DocStatusError as exc:
            slot.failed(exc, time.time())
            raise
        slot.obtained(token)
        from airflow_docstatus._compat import amask_secret

        await amask_secret(token.value)
        return token

    async def acheck_status(
        self, *, remaining: float | None = None, share_interval: float | None = None, **ids: Any
    ) -> DocStatus:
        """Ask the vendor once for the status of a document, without blocking the event loop.

        As ``check_status``; an answer larger than ``PARSE_OFF_LOOP_BYTES`` is
        parsed in a worker thread, so a large result does not stall the loop.

        ``share_interval`` (seconds; the trigger passes its poll interval) lets this
        wait share the call with the other waits of its group in this event loop,
        when the protocol declares groups (``engine/coalesce.py``; Azure: the
        documents of a batch, or a batch): the status then comes from the
        group's call of at most ``share_interval`` ago, made after this hook was
        created, and ``aclose`` leaves the group. None (the default): its own call.
        """
        return await self.apoll(await self.aprepare_status(**ids), remaining, share_interval=share_interval)

    async def aprepare_status(self, **ids: Any) -> StatusCall:
        """The status call for ``ids``, built once for a wait of many polls (``InvalidInputError`` for bad ids)."""
        return await self.astatus_call(self.protocol_class.checked_ref(**ids))

    async def astatus_call(self, ref: dict[str, Any]) -> StatusCall:
        """The status call for ids already checked (``checked_ref``), as a trigger holds them."""
        protocol = await self.aprotocol()
        return StatusCall(ref, protocol.status_request(ref))

    async def apoll(
        self, call: StatusCall, remaining: float | None = None, *, share_interval: float | None = None
    ) -> DocStatus:
        """Send a prepared status call once and read its answer, as ``acheck_status`` does (``share_interval`` too)."""
        protocol = await self.aprotocol()
        if share_interval is not None and hasattr(protocol, "shared_call_key"):  # a SharedStatusProtocol
            from airflow_docstatus.engine.coalesce import SHARED_CALLS

            asked = time.monotonic()
            shared = await SHARED_CALLS.status(
                self, protocol, call.ref, interval=share_interval, since=self._started, remaining=remaining
            )
            if shared is not None:
                return shared
            if remaining is not None:  # our own call instead: the deadline came nearer while we waited
                remaining -= time.monotonic() - asked
        answer = await self.asend(call.request, remaining)
        if len(answer.body) > PARSE_OFF_LOOP_BYTES:
            return await asyncio.to_thread(protocol.interpret, call.ref, answer)
        return protocol.interpret(call.ref, answer)

    async def aclose(self) -> None:
        """Let go of the shared aiohttp session (the last user closes it) and of the shared status calls."""
        if self._shared_groups:
            from airflow_docstatus.engine.coalesce import SHARED_CALLS

            await SHARED_CALLS.leave(self)
        if self._async is not None:
            transport, self._async = self._async, None
            await transport.close()

    # connection test -----------------------------------------------------------
    def test_connection(self) -> tuple[bool, str]:
        """Airflow's connection test (the UI's Test button, ``airflow connections test``, a worker's test).

        Makes the vendor's probe call (``VendorProtocol.probe_request``) with
        ``send``, so the connection's TLS settings, timeouts (at most
        ``PROBE_SECONDS``) and body cap apply. Returns ``(True, what the call
        proved)`` or ``(False, why not)``; both name the connection and never
        carry a secret. Never raises (Airflow's ``BaseHook.test_connection``
        contract): an engine error gives its own, already redacted, message;
        anything else its type name and redacted text.
        """
        try:
            return True, self._printable_result(self.probe())
        except DocStatusError as exc:
            return False, self._probe_failure(str(exc))
        except Exception as exc:  # noqa: BLE001 - the contract: report, never raise
            return False, self._probe_failure(f"{type(exc).__name__}: {exc}")
        finally:
            try:
                self.close()
            except Exception:  # noqa: BLE001, S110 - closing a throw-away session must not change the result
                pass

    def probe(self) -> str:
        """The probe call and what its answer proves (one line); raises the typed error of a failed test.

        A vendor with token auth is probed with its token call, sent bare (no
        cached token stands in for it); every other vendor's probe goes
        through ``send`` like any call.
        """
        protocol = self.protocol
        request = protocol.probe_request()
        if protocol.uses_tokens:
            answer = self._transport().send(request, PROBE_SECONDS)
        else:
            answer = self.send(request, PROBE_SECONDS)
        return protocol.interpret_probe(answer)

    def _probe_failure(self, text: str) -> str:
        """A failed test's message: redacted again, naming the connection, one printable line of bounded length."""
        text = self._printable_result(text)
        if repr(self.conn_id) not in text:
            name = self.protocol_class.display_name if hasattr(self, "protocol_class") else type(self).__name__
            text = f"{name} (connection {self.conn_id!r}): {text}"
        return text

    def _printable_result(self, text: str) -> str:
        from airflow_docstatus.engine.errors import printable, redact, secret_forms

        secrets: set[str] = set()
        if self._protocol is not None:
            text = self._protocol.redact(text)
        if self._settings is not None:
            for secret in self._settings.secrets:
                secrets |= secret_forms(secret)
        else:  # the connection did not load: redact its password as stored, if it can be read at all
            try:
                connection = self.get_connection(self.conn_id)
                from airflow_docstatus.engine.errors import basic_credentials

                if connection.password:
                    secrets |= secret_forms(connection.password)
                    secrets |= secret_forms(basic_credentials(connection.login, connection.password))
            except Exception:  # noqa: BLE001, S110 - nothing loaded, nothing to redact
                pass
        text = printable(redact(text, secrets))
        return text if len(text) <= PROBE_MESSAGE_CHARS else text[: PROBE_MESSAGE_CHARS - 1] + "…"
