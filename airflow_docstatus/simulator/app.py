"""The simulator's aiohttp application: vendor registry, scenarios, admin API and runners.

Adding a vendor = one module exposing the :class:`VendorModule` names, one
entry in :data:`VENDOR_MODULES`, and its section in ``scenarios/default.json``.
A module may also expose the optional names listed in :class:`VendorModule`.
"""

from __future__ import annotations

import asyncio
import ssl
import copy
import dataclasses
import importlib
import importlib.resources
import json
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from aiohttp import web

from airflow_docstatus.vendors import VENDORS as ALL_VENDORS

from . import cora, leadtools  # their URL prefixes, for SimulatorServer

from .documents import (
    Document,
    DocumentStore,
    Script,
    SimulatorState,
    Step,
    VendorConfig,
    parse_script,
    step_to_dict,
)
from .tokens import TokenStore, check_lifetime


class VendorModule(Protocol):
    """What a vendor module provides (as module-level names).

    Optional names, read with ``getattr``:

    - ``EXTRA_STEP_KEYS``: ``{key: check}``, the vendor's own script step keys;
    - ``TOKEN_LIFETIME``: set by vendors that issue tokens, the default lifetime in
      seconds (the scenario's ``token_lifetime`` overrides it);
    - ``new_document_state(state, doc_id, fields) -> dict``: the ``vendor_state`` of a
      new document from the admin API's ``fields`` (raises ValueError); without it,
      ``fields`` are refused.
    """

    NAME: str
    URL_PREFIX: str
    CREDENTIAL_KEYS: tuple[str, ...]

    def new_document_id(self) -> str: ...
    def normalize_document_id(self, raw: str) -> str: ...
    def check_status(self, value: Any) -> None: ...
    def add_routes(self, app: web.Application, state: SimulatorState) -> None: ...


# One simulator module per vendor of airflow_docstatus/vendors.py, named as its ``module``.
VENDOR_MODULES: tuple[VendorModule, ...] = tuple(
    importlib.import_module(f"{__package__}.{vendor.module}") for vendor in ALL_VENDORS.values()
)
VENDORS: dict[str, VendorModule] = {module.NAME: module for module in VENDOR_MODULES}

STATE_KEY = web.AppKey("docstatus_simulator_state", SimulatorState)
ACCESS_LOG_FORMAT = '%a "%r" %s %Tfs'
SHUTDOWN_TIMEOUT_SECONDS = 2.0
LISTEN_BACKLOG = 4096

ScenarioSource = Mapping[str, Any] | str | Path | None
VENDOR_SECTION_KEYS = frozenset({"credentials", "default_script", "scripts", "token_lifetime"})
DOCUMENT_KEYS = frozenset({"vendor", "id", "script", "fields"})
CLIENT_MAX_SIZE = 64 * 1024 * 1024
"""Largest request body accepted (aiohttp's default, 1 MiB, is below expert.ai's 14 MB
and a bulk creation of thousands of scripted documents)."""
MAX_BULK_DOCUMENTS = 100_000


# -- scenarios ----------------------------------------------------------------


def shipped_scenario() -> dict[str, Any]:
    """The scenario shipped in ``scenarios/default.json``: default credentials and scripts."""
    resource = importlib.resources.files(__package__).joinpath("scenarios", "default.json")
    return json.loads(resource.read_text(encoding="utf-8"))


def _read_scenario(source: ScenarioSource) -> dict[str, Any]:
    if source is None:
        return {}
    if isinstance(source, Mapping):
        return copy.deepcopy(dict(source))
    path = Path(source)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"scenario {path}: not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError(f"scenario {path}: must be a JSON object")
    return data


def merge_scenarios(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``override`` laid over ``base``: per vendor, credentials and default_script are
    replaced when given and scripts are added or replaced by name; documents are appended."""
    merged = copy.deepcopy(dict(base))
    for key, value in override.items():
        if key == "documents":
            if not isinstance(value, list):
                raise ValueError("scenario 'documents' must be a list")
            merged.setdefault("documents", []).extend(copy.deepcopy(value))
            continue
        if key not in VENDORS:
            raise ValueError(
                f"scenario: unknown key {key!r}; expected 'documents' or a vendor: {sorted(VENDORS)}"
            )
        if not isinstance(value, Mapping):
            raise ValueError(f"scenario {key!r}: must be an object")
        unknown = sorted(set(value) - VENDOR_SECTION_KEYS)
        if unknown:
            raise ValueError(
                f"scenario {key!r}: unknown key(s) {unknown}; allowed: {sorted(VENDOR_SECTION_KEYS)}"
            )
        section = merged.setdefault(key, {})
        if "credentials" in value:
            section["credentials"] = copy.deepcopy(value["credentials"])
        if "default_script" in value:
            section["default_script"] = value["default_script"]
        if "token_lifetime" in value:
            section["token_lifetime"] = value["token_lifetime"]
        if "scripts" in value:
            if not isinstance(value["scripts"], Mapping):
                raise ValueError(f"scenario {key!r}: 'scripts' must be an object of name: steps")
            section.setdefault("scripts", {}).update(copy.deepcopy(dict(value["scripts"])))
    return merged


def load_scenario(source: ScenarioSource = None) -> dict[str, Any]:
    """The shipped scenario with ``source`` (a dict or a JSON file path) merged over it."""
    return merge_scenarios(shipped_scenario(), _read_scenario(source))


def _vendor_config(vendor: VendorModule, section: Mapping[str, Any]) -> VendorConfig:
    credentials = section.get("credentials")
    if not isinstance(credentials, Mapping) or any(
        not isinstance(credentials.get(key), str) for key in vendor.CREDENTIAL_KEYS
    ):
        raise ValueError(
            f"scenario {vendor.NAME!r}: 'credentials' needs string values for "
            f"{list(vendor.CREDENTIAL_KEYS)}"
        )
    extra_step_keys = getattr(vendor, "EXTRA_STEP_KEYS", {})
    scripts = {}
    for name, steps in section.get("scripts", {}).items():
        try:
            scripts[name] = parse_script(steps, vendor.check_status, extra_step_keys)
        except ValueError as exc:
            raise ValueError(f"scenario {vendor.NAME!r} script {name!r}: {exc}") from None
    token_lifetime = getattr(vendor, "TOKEN_LIFETIME", None)
    if "token_lifetime" in section:
        if token_lifetime is None:
            raise ValueError(f"scenario {vendor.NAME!r}: 'token_lifetime' given, but it issues no tokens")
        try:
            token_lifetime = check_lifetime(section["token_lifetime"])
        except ValueError as exc:
            raise ValueError(f"scenario {vendor.NAME!r}: {exc}") from None
    try:
        return VendorConfig(
            credentials=dict(credentials),
            default_script=section.get("default_script", "default"),
            scripts=scripts,
            check_status=vendor.check_status,
            extra_step_keys=extra_step_keys,
            token_lifetime=token_lifetime,
        )
    except ValueError as exc:
        raise ValueError(f"scenario {vendor.NAME!r}: {exc}") from None


def prepare_document(
    state: SimulatorState,
    vendor_name: str,
    doc_id: str | None = None,
    script: Any = None,
    fields: Any = None,
) -> tuple[str, str, Script, dict[str, Any]]:
    """Check a document without creating it: ``(vendor, id, steps, vendor_state)``.

    ValueError for an unknown vendor, a bad id, script or fields.
    """
    vendor = VENDORS.get(vendor_name)
    if vendor is None:
        raise ValueError(f"unknown vendor {vendor_name!r}; known: {sorted(VENDORS)}")
    if doc_id is None:
        doc_id = vendor.new_document_id()
    elif not isinstance(doc_id, str):
        raise ValueError(f"document id must be a string, got {doc_id!r}")
    else:
        try:
            doc_id = vendor.normalize_document_id(doc_id)
        except ValueError:
            raise ValueError(f"{doc_id!r} is not a valid {vendor_name} document id") from None
    steps = state.vendors[vendor_name].resolve_script(script)
    if fields is not None and not isinstance(fields, Mapping):
        raise ValueError(f"'fields' must be an object, got {fields!r}")
    new_document_state = getattr(vendor, "new_document_state", None)
    if new_document_state is not None:
        vendor_state = new_document_state(state, doc_id, fields or {})
    elif fields:
        raise ValueError(f"{vendor_name} documents take no 'fields'")
    else:
        vendor_state = {}
    return vendor_name, doc_id, steps, vendor_state


def store_document(state: SimulatorState, prepared: tuple[str, str, Script, dict[str, Any]]) -> Document:
    """Create (or replace) a document checked by :func:`prepare_document`."""
    vendor_name, doc_id, steps, vendor_state = prepared
    document = state.store.create(vendor_name, doc_id, steps)
    document.vendor_state.update(vendor_state)
    return document


def create_document(
    state: SimulatorState,
    vendor_name: str,
    doc_id: str | None = None,
    script: Any = None,
    fields: Any = None,
) -> Document:
    """Create a scripted document; ValueError for an unknown vendor, id, script or fields."""
    return store_document(state, prepare_document(state, vendor_name, doc_id, script, fields))


def build_state(scenario: Mapping[str, Any], store: DocumentStore | None = None) -> SimulatorState:
    """Validate a merged scenario and turn it into simulator state, with its documents created."""
    vendors = {name: _vendor_config(vendor, scenario.get(name, {})) for name, vendor in VENDORS.items()}
    store = store or DocumentStore()
    state = SimulatorState(
        vendors=vendors,
        store=store,
        tokens=TokenStore(
            default_lifetimes={
                name: config.token_lifetime
                for name, config in vendors.items()
                if config.token_lifetime is not None
            },
            clock=store.wall_clock,
        ),
    )
    for index, entry in enumerate(scenario.get("documents", [])):
        if not isinstance(entry, Mapping) or set(entry) - DOCUMENT_KEYS:
            raise ValueError(
                f"scenario document {index}: must be an object with keys {sorted(DOCUMENT_KEYS)}"
            )
        try:
            create_document(
                state, entry.get("vendor", ""), entry.get("id"), entry.get("script"), entry.get("fields")
            )
        except ValueError as exc:
            raise ValueError(f"scenario document {index}: {exc}") from None
    return state


# -- admin API ----------------------------------------------------------------


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


async def _health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok", "vendors": list(VENDORS)})


async def _create_document(request: web.Request) -> web.Response:
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return _error(400, "body must be JSON")
    if not isinstance(body, dict):
        return _error(400, "body must be a JSON object")
    try:
        document = create_document(
            request.app[STATE_KEY],
            body.get("vendor", ""),
            body.get("id"),
            body.get("script"),
            body.get("fields"),
        )
    except ValueError as exc:
        return _error(400, str(exc))
    return web.json_response({"vendor": document.vendor, "id": document.id}, status=201)


async def _create_documents(request: web.Request) -> web.Response:
    """Create many documents in one call, all or none: ``{"documents": [{vendor, id?, script?, fields?}, ...]}``."""
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return _error(400, "body must be JSON")
    entries = body.get("documents") if isinstance(body, dict) else None
    if not isinstance(entries, list) or not 0 < len(entries) <= MAX_BULK_DOCUMENTS:
        return _error(400, f"body must be {{\"documents\": [...]}} with 1 to {MAX_BULK_DOCUMENTS} entries")
    state = request.app[STATE_KEY]
    prepared = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict) or set(entry) - DOCUMENT_KEYS:
            return _error(400, f"document {index}: must be an object with keys {sorted(DOCUMENT_KEYS)}")
        try:
            prepared.append(prepare_document(
                state, entry.get("vendor", ""), entry.get("id"), entry.get("script"), entry.get("fields")
            ))
        except ValueError as exc:
            return _error(400, f"document {index}: {exc}")
    documents = [store_document(state, spec) for spec in prepared]
    return web.json_response(
        {"documents": [{"vendor": d.vendor, "id": d.id} for d in documents]}, status=201
    )


def _is_terminal(vendor: VendorModule, document: Document, step: Step) -> bool:
    """Whether the document will never change again: a terminal status of its vendor
    (``TERMINAL_STATUSES``), or, for a vendor that declares none, the last step of its script."""
    if step.fault is not None:
        return False
    terminal = getattr(vendor, "TERMINAL_STATUSES", None)
    if terminal is not None:
        return step.status in terminal
    return document.step_index >= len(document.script) - 1


async def _ready(request: web.Request) -> web.Response:
    """404 while the document is still going, 200 once it reached a terminal status.

    A generic status check for plain HTTP pollers (the http provider's
    HttpSensorTrigger), counted as ``ready_calls``; it is not a vendor status call.
    """
    vendor_name, raw_id = request.match_info["vendor"], request.match_info["id"]
    vendor = VENDORS.get(vendor_name)
    if vendor is None:
        return _error(400, f"unknown vendor {vendor_name!r}")
    state = request.app[STATE_KEY]
    try:
        doc_id = vendor.normalize_document_id(raw_id)
    except ValueError:
        doc_id = raw_id
    document = state.store.get(vendor_name, doc_id)
    if document is None:
        return _error(400, f"no {vendor_name} document {raw_id!r}")
    state.store.counters(vendor_name).ready_calls += 1
    step = document.current_step()
    ready = _is_terminal(vendor, document, step)
    return web.json_response({"ready": ready, "status": step.status}, status=200 if ready else 404)


async def _show_document(request: web.Request) -> web.Response:
    vendor_name, raw_id = request.match_info["vendor"], request.match_info["id"]
    vendor = VENDORS.get(vendor_name)
    if vendor is None:
        return _error(404, f"unknown vendor {vendor_name!r}")
    try:
        doc_id = vendor.normalize_document_id(raw_id)
    except ValueError:
        doc_id = raw_id
    document = request.app[STATE_KEY].store.get(vendor_name, doc_id)
    if document is None:
        return _error(404, f"no {vendor_name} document {raw_id!r}")
    step = document.current_step()
    return web.json_response(
        {
            "vendor": document.vendor,
            "id": document.id,
            "status": step.status,
            "step": document.step_index,
            "current_step": step_to_dict(step),
            "status_calls": document.status_calls,
            "calls": [
                {"t": call.time, "method": call.method, "path": call.path_qs}
                for call in document.calls
            ],
            "last_headers": document.last_headers,
            "last_body": document.last_body,
        }
    )


async def _reset(request: web.Request) -> web.Response:
    request.app[STATE_KEY].store.reset()
    request.app[STATE_KEY].start_faults.clear()
    request.app[STATE_KEY].starts.clear()
    request.app[STATE_KEY].cancels.clear()
    request.app[STATE_KEY].tokens.reset()
    return web.json_response({"status": "reset"})


async def _stats(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    stats = {}
    for name in VENDORS:
        counters = dataclasses.asdict(state.store.counters(name))
        if not state.tokens.issues_tokens(name):
            del counters["token_calls"]
        stats[name] = counters
    return web.json_response(stats)


async def _queue_start_faults(request: web.Request) -> web.Response:
    """``POST /_sim/start_faults/{vendor}`` ``{"fault": ..., "delay"?, "count"?: 1, "source"?}``: the
    next ``count`` start calls of the vendor (of ``source`` only, when given: the file URL or
    name, or SmartDocumentor's externalId) start their job, then answer with the fault
    (``slow`` past the client's read timeout, ``reset``, ``http_503``...): a lost answer."""
    state = request.app[STATE_KEY]
    vendor = request.match_info["vendor"]
    if vendor not in VENDORS:
        return _error(404, f"unknown vendor {vendor!r}")
    try:
        body = await request.json()
        count = body.pop("count", 1)
        source = body.pop("source", None)
        if not isinstance(count, int) or count < 1:
            raise ValueError(f"'count' must be a whole number >= 1, got {count!r}")
        if not body.get("fault"):
            raise ValueError("a start fault needs 'fault'")
        step = parse_script([{"status": "started", **body}])[0]
    except (ValueError, AttributeError, TypeError) as exc:
        return _error(400, f"start fault: {exc}")
    state.start_faults.setdefault(vendor, []).extend([(step, source)] * count)
    return web.json_response({"vendor": vendor, "queued": len(state.start_faults[vendor])})


async def _show_starts(request: web.Request) -> web.Response:
    """``GET /_sim/starts/{vendor}``: start calls that started a job, in all and by source; cancel calls."""
    state = request.app[STATE_KEY]
    vendor = request.match_info["vendor"]
    if vendor not in VENDORS:
        return _error(404, f"unknown vendor {vendor!r}")
    return web.json_response(
        {
            "start_calls": state.store.counters(vendor).start_calls,
            "by_source": state.starts.get(vendor, {}),
            "cancel_calls": state.cancels.get(vendor, 0),
        }
    )


def _token_vendor(request: web.Request) -> str | web.Response:
    """The ``{vendor}`` of a ``/_sim/tokens/`` path, or a 404 answer."""
    name = request.match_info["vendor"]
    if name not in VENDORS:
        return _error(404, f"unknown vendor {name!r}")
    if not request.app[STATE_KEY].tokens.issues_tokens(name):
        return _error(404, f"{name} issues no tokens")
    return name


async def _show_tokens(request: web.Request) -> web.Response:
    name = _token_vendor(request)
    if isinstance(name, web.Response):
        return name
    return web.json_response({"vendor": name, **request.app[STATE_KEY].tokens.summary(name)})


async def _show_token_clients(request: web.Request) -> web.Response:
    """``GET /_sim/tokens/{vendor}/clients``: token requests by client (the User-Agent's last product name)."""
    name = _token_vendor(request)
    if isinstance(name, web.Response):
        return name
    return web.json_response({"vendor": name, "by_client": request.app[STATE_KEY].tokens.requests_by_client(name)})


async def _set_token_lifetime(request: web.Request) -> web.Response:
    name = _token_vendor(request)
    if isinstance(name, web.Response):
        return name
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return _error(400, "body must be JSON")
    if not isinstance(body, dict) or set(body) != {"lifetime"}:
        return _error(400, 'body must be {"lifetime": seconds}')
    try:
        lifetime = request.app[STATE_KEY].tokens.set_lifetime(name, body["lifetime"])
    except ValueError as exc:
        return _error(400, str(exc))
    return web.json_response({"vendor": name, "lifetime": lifetime})


async def _expire_tokens(request: web.Request) -> web.Response:
    name = _token_vendor(request)
    if isinstance(name, web.Response):
        return name
    expired = request.app[STATE_KEY].tokens.expire_all(name)
    return web.json_response({"vendor": name, "expired": expired})


def create_app(scenario: ScenarioSource = None) -> web.Application:
    """The simulator application: every vendor's routes plus the ``/_sim/`` admin API."""
    state = build_state(load_scenario(scenario))
    app = web.Application(client_max_size=CLIENT_MAX_SIZE)
    app[STATE_KEY] = state
    app.router.add_get("/_sim/health", _health)
    app.router.add_post("/_sim/documents", _create_document)
    app.router.add_post("/_sim/documents/bulk", _create_documents)
    app.router.add_get("/_sim/ready/{vendor}/{id}", _ready)
    app.router.add_get("/_sim/documents/{vendor}/{id}", _show_document)
    app.router.add_post("/_sim/reset", _reset)
    app.router.add_get("/_sim/stats", _stats)
    app.router.add_post("/_sim/start_faults/{vendor}", _queue_start_faults)
    app.router.add_get("/_sim/starts/{vendor}", _show_starts)
    app.router.add_get("/_sim/tokens/{vendor}", _show_tokens)
    app.router.add_get("/_sim/tokens/{vendor}/clients", _show_token_clients)
    app.router.add_put("/_sim/tokens/{vendor}", _set_token_lifetime)
    app.router.add_post("/_sim/tokens/{vendor}/expire", _expire_tokens)
    for vendor in VENDORS.values():
        vendor.add_routes(app, state)
    return app


# -- runners --------------------------------------------------------------------


class SimulatorServer:
    """The simulator listening on a TCP port, inside the caller's event loop."""

    def __init__(
        self,
        scenario: ScenarioSource = None,
        host: str = "127.0.0.1",
        port: int = 0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.host = host
        self.requested_port = port
        self.ssl_context = ssl_context
        self.app = create_app(scenario)  # scenario errors surface here, before any socket
        self.port: int | None = None
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        if self.port is None:
            raise RuntimeError("the simulator is not listening yet")
        scheme = "https" if self.ssl_context is not None else "http"
        return f"{scheme}://{self.host}:{self.port}"

    async def start(self) -> None:
        """Start listening; afterwards :attr:`port` is the bound port."""
        runner = web.AppRunner(
            self.app, access_log_format=ACCESS_LOG_FORMAT, shutdown_timeout=SHUTDOWN_TIMEOUT_SECONDS
        )
        await runner.setup()
        try:
            site = web.TCPSite(
                runner,
                self.host,
                self.requested_port,
                backlog=LISTEN_BACKLOG,
                reuse_address=True,
                ssl_context=self.ssl_context,
            )
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self.port = runner.addresses[0][1]

    async def stop(self) -> None:
        """Stop listening and close every connection."""
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()


class ThreadedSimulator:
    """A simulator running on its own event loop in a daemon thread (see :func:`serve_in_thread`)."""

    def __init__(
        self,
        scenario: ScenarioSource = None,
        host: str = "127.0.0.1",
        port: int = 0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._server = SimulatorServer(scenario, host, port, ssl_context)
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._startup_error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="docstatus-simulator", daemon=True)

    def _run(self) -> None:
        loop = self._loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._server.start())
        except BaseException as exc:
            self._startup_error = exc
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(self._server.stop())
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    def start(self) -> ThreadedSimulator:
        """Start the thread and wait until the server is listening."""
        self._thread.start()
        self._ready.wait()
        if self._startup_error is not None:
            raise self._startup_error
        return self

    def stop(self) -> None:
        """Stop the server and its thread (safe to call twice)."""
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()

    @property
    def port(self) -> int:
        assert self._server.port is not None
        return self._server.port

    @property
    def url(self) -> str:
        return self._server.url

    @property
    def leadtools_base(self) -> str:
        return self.url + leadtools.URL_PREFIX

    @property
    def cora_endpoint(self) -> str:
        return self.url + cora.SERVICE_PATH


@contextmanager
def serve_in_thread(
    scenario: ScenarioSource = None,
    host: str = "127.0.0.1",
    port: int = 0,
    ssl_context: ssl.SSLContext | None = None,
) -> Iterator[ThreadedSimulator]:
    """Run the simulator in a background thread for the ``with`` block.

    ``scenario`` is a dict or a JSON file path merged over the shipped defaults;
    with an ``ssl_context`` it speaks HTTPS.
    """
    simulator = ThreadedSimulator(scenario, host, port, ssl_context).start()
    try:
        yield simulator
    finally:
        simulator.stop()
