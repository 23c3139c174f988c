"""Scripted documents: the pure state machine behind every simulated vendor.

A document runs a *script*, a list of steps. Each step gives the vendor status
to report (or a fault to answer with) and how long it lasts: ``seconds`` of
clock time, ``polls`` status calls, or forever. Nothing here does I/O or knows
about HTTP; the clock is injectable so the logic can be tested with a fake one.
The few pure helpers every vendor module shares (header redaction, Basic-auth
checking, choosing a script from a file URL) live here too.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import math
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

from .tokens import TokenStore

Clock = Callable[[], float]
StatusCheck = Callable[[Any], None]
StepKeyCheck = Callable[[Any], None]
"""Checks the value of a vendor-specific step key (raises ValueError)."""
ExtraStepKeys = Mapping[str, StepKeyCheck]

# Refusals a vendor may answer a status call with: permanent, so a sensor must fail at once.
REFUSAL_FAULTS: frozenset[str] = frozenset({"http_400", "http_403", "http_404", "http_405", "http_413"})

SOAP_FAULT_KINDS: frozenset[str] = frozenset({"soap_fault", "soap_client_fault"})
"""SOAP Faults (HTTP 500 with a Fault envelope; the step's ``message`` is the faultstring).
``soap_fault`` is a Server/Receiver fault, ``soap_client_fault`` a Client/Sender one.
A vendor that does not speak SOAP answers them like ``http_500``."""

HOSTILE_FAULTS: frozenset[str] = frozenset({"drip", "oversized", "echo_secret"})
"""Faults of a hostile vendor: a body that drips in one byte at a time, a body past any sane size,
and a 401 that echoes the request's credentials back."""

FAULT_KINDS: frozenset[str] = frozenset(
    {"http_500", "http_502", "http_503", "http_429", "reset", "slow", "html", "garbled", *REFUSAL_FAULTS,
     *SOAP_FAULT_KINDS, *HOSTILE_FAULTS}
)
"""Fault names a step may use instead of a normal answer."""

FAULTS_ANSWERING_WITH_STATUS: frozenset[str] = frozenset({"slow", "garbled", "drip", "oversized"})
"""Faults whose answer is built from the step's status, so one must be known."""

STEP_KEYS: frozenset[str] = frozenset(
    {"status", "seconds", "polls", "payload", "message", "fault", "retry_after", "delay", "size"}
)
DEFAULT_RETRY_AFTER_SECONDS = 1
DEFAULT_SLOW_DELAY_SECONDS = 1.0
DEFAULT_DRIP_DELAY_SECONDS = 0.4
"""``drip``: seconds between two bytes of the answer."""
DEFAULT_OVERSIZED_BYTES = 2 * 1024 * 1024
MAX_OVERSIZED_BYTES = 1024 * 1024 * 1024
"""``oversized``: the body's size in bytes (default 2 MiB, at most 1 GiB; sent as it is generated)."""
MAX_RECORDED_CALLS = 1000
"""Per-document cap on the kept call records (the call count itself is exact)."""

SENSITIVE_HEADERS: frozenset[str] = frozenset(
    {"authorization", "proxy-authorization", "ocp-apim-subscription-key"}
)
REDACTED = "<redacted>"


@dataclass(frozen=True)
class Step:
    """One validated step of a script.

    A step written without ``status`` repeats the previous step's status,
    payload, message and extra keys, so a fault step can be slipped between
    two statuses. ``extra`` holds the vendor-specific keys a vendor module
    declares (expert.ai ``current``, SmartDocumentor ``integration_status``...).
    """

    status: Any = None
    seconds: float | None = None
    polls: int | None = None
    payload: Any = None
    message: str | None = None
    fault: str | None = None
    retry_after: int | None = None
    delay: float | None = None
    size: int | None = None
    extra: dict[str, Any] = field(default_factory=dict, hash=False)


Script = tuple[Step, ...]


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _parse_step(
    raw: Any,
    index: int,
    previous: Step | None,
    check_status: StatusCheck | None,
    extra_keys: ExtraStepKeys,
) -> Step:
    where = f"step {index}"
    if not isinstance(raw, Mapping):
        raise ValueError(f"{where}: must be an object, got {type(raw).__name__}")
    allowed = STEP_KEYS | set(extra_keys)
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {unknown}; allowed: {sorted(allowed)}")
    extra: dict[str, Any] = {}
    for key, check in extra_keys.items():
        if key in raw:
            try:
                check(raw[key])
            except ValueError as exc:
                raise ValueError(f"{where}: {key!r}: {exc}") from None
            extra[key] = raw[key]

    seconds = raw.get("seconds")
    polls = raw.get("polls")
    if seconds is not None and polls is not None:
        raise ValueError(f"{where}: give 'seconds' or 'polls', not both")
    if seconds is not None and (not _is_number(seconds) or seconds < 0):
        raise ValueError(f"{where}: 'seconds' must be a number >= 0, got {seconds!r}")
    if polls is not None and (not isinstance(polls, int) or isinstance(polls, bool) or polls < 1):
        raise ValueError(f"{where}: 'polls' must be an integer >= 1, got {polls!r}")

    fault = raw.get("fault")
    if fault is not None and fault not in FAULT_KINDS:
        raise ValueError(f"{where}: unknown fault {fault!r}; known: {sorted(FAULT_KINDS)}")
    retry_after = raw.get("retry_after")
    if retry_after is not None:
        if fault != "http_429":
            raise ValueError(f"{where}: 'retry_after' only goes with fault 'http_429'")
        if not isinstance(retry_after, int) or isinstance(retry_after, bool) or retry_after < 0:
            raise ValueError(
                f"{where}: 'retry_after' must be a whole number of seconds >= 0, got {retry_after!r}"
            )
    elif fault == "http_429":
        retry_after = DEFAULT_RETRY_AFTER_SECONDS
    delay = raw.get("delay")
    if delay is not None:
        if fault not in ("slow", "drip"):
            raise ValueError(f"{where}: 'delay' only goes with fault 'slow' or 'drip'")
        if not _is_number(delay) or delay < 0:
            raise ValueError(f"{where}: 'delay' must be a number >= 0, got {delay!r}")
    elif fault == "slow":
        delay = DEFAULT_SLOW_DELAY_SECONDS
    elif fault == "drip":
        delay = DEFAULT_DRIP_DELAY_SECONDS
    size = raw.get("size")
    if size is not None:
        if fault != "oversized":
            raise ValueError(f"{where}: 'size' only goes with fault 'oversized'")
        if not isinstance(size, int) or isinstance(size, bool) or not 1 <= size <= MAX_OVERSIZED_BYTES:
            raise ValueError(f"{where}: 'size' must be a whole number of bytes 1..{MAX_OVERSIZED_BYTES}, got {size!r}")
    elif fault == "oversized":
        size = DEFAULT_OVERSIZED_BYTES

    message = raw.get("message")
    if message is not None and not isinstance(message, str):
        raise ValueError(f"{where}: 'message' must be a string, got {message!r}")

    if "status" in raw:
        status, payload = raw["status"], raw.get("payload")
        if status is None:
            raise ValueError(f"{where}: 'status' must not be null")
        if check_status is not None:
            try:
                check_status(status)
            except ValueError as exc:
                raise ValueError(f"{where}: {exc}") from None
    elif previous is not None:
        status = previous.status
        payload = raw.get("payload", previous.payload)
        message = message if message is not None else previous.message
        extra = {**previous.extra, **extra}
    else:
        status, payload = None, raw.get("payload")
    if status is None and (fault is None or fault in FAULTS_ANSWERING_WITH_STATUS):
        what = "a normal step" if fault is None else f"fault {fault!r}"
        raise ValueError(f"{where}: {what} needs a 'status' (here or on an earlier step)")

    return Step(
        status=status,
        seconds=float(seconds) if seconds is not None else None,
        polls=polls,
        payload=payload,
        message=message,
        fault=fault,
        retry_after=retry_after,
        delay=float(delay) if delay is not None else None,
        size=size,
        extra=extra,
    )


def parse_script(
    raw_steps: Any,
    check_status: StatusCheck | None = None,
    extra_keys: ExtraStepKeys | None = None,
) -> Script:
    """Validate a script given as a list of step dicts; raise ValueError saying what is wrong.

    ``check_status`` is the vendor's own check of a status value (it raises ValueError);
    ``extra_keys`` maps the vendor's own step keys to checks of their values.
    """
    if isinstance(raw_steps, (str, bytes)) or not isinstance(raw_steps, Iterable):
        raise ValueError(f"a script must be a list of steps, got {type(raw_steps).__name__}")
    steps: list[Step] = []
    for index, raw in enumerate(raw_steps):
        steps.append(
            _parse_step(raw, index, steps[-1] if steps else None, check_status, extra_keys or {})
        )
    if not steps:
        raise ValueError("a script needs at least one step")
    return tuple(steps)


def step_to_dict(step: Step) -> dict[str, Any]:
    """The step as a JSON-ready dict without its unset fields (extra keys inline)."""
    fields = asdict(step)
    extra = fields.pop("extra")
    return {**{key: value for key, value in fields.items() if value is not None}, **extra}


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Copy request headers, hiding credential values such as Authorization."""
    return {
        name: (REDACTED if name.lower() in SENSITIVE_HEADERS else value)
        for name, value in headers.items()
    }


def basic_auth_matches(authorization: str | None, login: str, password: str) -> bool:
    """True if an ``Authorization: Basic ...`` header value carries exactly ``login:password``."""
    scheme, _, encoded = (authorization or "").strip().partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        raw = base64.b64decode(encoded.strip(), validate=True)
    except binascii.Error:
        return False
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError:
        decoded = raw.decode("latin-1")  # what requests sends for non-ASCII str credentials
    given_login, colon, given_password = decoded.partition(":")
    if not colon:
        return False
    # Compare both parts, always, in constant time.
    login_ok = hmac.compare_digest(given_login.encode(), login.encode())
    password_ok = hmac.compare_digest(given_password.encode(), password.encode())
    return login_ok and password_ok


def script_named_by_url(url: str, script_names: Iterable[str]) -> str | None:
    """The script named by the last path segment of ``url`` without its extension, if any.

    ``https://example.com/files/rejected.pdf`` names the script ``rejected``.
    """
    segment = unquote(urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1])
    return script_named_by_filename(segment, script_names)


def script_named_by_filename(name: str, script_names: Iterable[str]) -> str | None:
    """The script named by a file name's stem, if any: ``rejected.pdf`` names ``rejected``.

    Only the last path segment counts (``scans/failed.tif`` names ``failed``).
    """
    segment = (name or "").replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    stem = PurePosixPath(segment).stem if segment else ""
    names = set(script_names)
    for candidate in (stem, stem.lower()):
        if candidate and candidate in names:
            return candidate
    return None


@dataclass(frozen=True)
class CallRecord:
    """One status call made on a document."""

    time: float
    method: str
    path_qs: str


class Document:
    """A simulated document: its script, where it is in it, and the status calls it has seen."""

    def __init__(
        self,
        vendor: str,
        doc_id: str,
        script: Script,
        clock: Clock = time.monotonic,
        wall_clock: Clock = time.time,
    ) -> None:
        self.vendor = vendor
        self.id = doc_id
        self.vendor_state: dict[str, Any] = {}
        """Free room for vendor-specific facts (LEADTOOLS: uploaded, queued services...)."""
        self.status_calls = 0
        self.calls: deque[CallRecord] = deque(maxlen=MAX_RECORDED_CALLS)
        self.last_headers: dict[str, str] = {}
        self.last_body: str | None = None
        """The body of the last status call, for vendors that record it (Cora: the SOAP envelope)."""
        self._clock = clock
        self._wall_clock = wall_clock
        self.script: Script = script
        self.step_index = 0
        self.step_started = 0.0
        self.polls_in_step = 0
        self.restart(script)

    def restart(self, script: Script) -> None:
        """Run ``script`` from its first step, starting now (the call history is kept)."""
        if not script:
            raise ValueError("a script needs at least one step")
        self.script = script
        self._enter_step(0, self._clock())

    def _enter_step(self, index: int, started: float) -> None:
        self.step_index = index
        self.step_started = started
        self.polls_in_step = 0

    @property
    def _on_last_step(self) -> bool:
        return self.step_index >= len(self.script) - 1

    def current_step(self) -> Step:
        """Move past the timed steps that have run out, and return the step in force now."""
        now = self._clock()
        while not self._on_last_step:
            seconds = self.script[self.step_index].seconds
            if seconds is None or now - self.step_started < seconds:
                break
            self._enter_step(self.step_index + 1, self.step_started + seconds)
        return self.script[self.step_index]

    def answer_status_call(
        self,
        method: str,
        path_qs: str,
        headers: Mapping[str, str] | None = None,
        body: str | None = None,
    ) -> Step:
        """Record one status call and return the step that answers it (counting its polls).

        ``body`` is kept as ``last_body`` when given (vendors whose request body
        carries no secret).
        """
        step = self.current_step()
        self.status_calls += 1
        self.calls.append(CallRecord(self._wall_clock(), method, path_qs))
        self.last_headers = redact_headers(headers or {})
        if body is not None:
            self.last_body = body
        if step.polls is not None and not self._on_last_step:
            self.polls_in_step += 1
            if self.polls_in_step >= step.polls:
                self._enter_step(self.step_index + 1, self._clock())
        return step


@dataclass
class Counters:
    """Per-vendor request counters shown by the admin stats endpoint."""

    status_calls: int = 0
    start_calls: int = 0
    auth_failures: int = 0
    token_calls: int = 0
    """Token requests, granted or refused (vendors that issue tokens only)."""
    ready_calls: int = 0
    """Calls to the admin ``/_sim/ready/`` check (plain HTTP pollers such as the benchmarks' peer)."""


@dataclass
class VendorConfig:
    """One vendor's part of a scenario: its credentials, its named scripts and,
    for vendors that issue tokens, the token lifetime in seconds."""

    credentials: dict[str, str]
    default_script: str
    scripts: dict[str, Script]
    check_status: StatusCheck | None = None
    extra_step_keys: ExtraStepKeys = field(default_factory=dict)
    token_lifetime: float | None = None

    def __post_init__(self) -> None:
        if self.default_script not in self.scripts:
            raise ValueError(
                f"default_script {self.default_script!r} is not one of the scripts "
                f"{sorted(self.scripts)}"
            )

    def resolve_script(self, spec: Any = None) -> Script:
        """A script from a name, a list of steps, or None (the default script)."""
        if spec is None:
            return self.scripts[self.default_script]
        if isinstance(spec, str):
            try:
                return self.scripts[spec]
            except KeyError:
                raise ValueError(
                    f"unknown script {spec!r}; known: {sorted(self.scripts)}"
                ) from None
        return parse_script(spec, self.check_status, self.extra_step_keys)


@dataclass
class DocumentStore:
    """Every simulated document, keyed by (vendor, id), plus the per-vendor counters."""

    clock: Clock = time.monotonic
    wall_clock: Clock = time.time
    _documents: dict[tuple[str, str], Document] = field(default_factory=dict, init=False)
    _counters: dict[str, Counters] = field(default_factory=dict, init=False)

    def create(self, vendor: str, doc_id: str, script: Script) -> Document:
        """Create (or replace) a document whose script starts now."""
        document = Document(vendor, doc_id, script, self.clock, self.wall_clock)
        self._documents[(vendor, doc_id)] = document
        return document

    def get(self, vendor: str, doc_id: str) -> Document | None:
        return self._documents.get((vendor, doc_id))

    def documents(self, vendor: str) -> Iterator[Document]:
        """Every document of ``vendor``, oldest first."""
        return (doc for (name, _), doc in list(self._documents.items()) if name == vendor)

    def counters(self, vendor: str) -> Counters:
        return self._counters.setdefault(vendor, Counters())

    def reset(self) -> None:
        """Forget every document and zero every counter."""
        self._documents.clear()
        self._counters.clear()

    def __len__(self) -> int:
        return len(self._documents)


@dataclass
class SimulatorState:
    """Everything the running simulator knows: vendor configs, the document store and
    the tokens issued so far."""

    vendors: dict[str, VendorConfig]
    store: DocumentStore = field(default_factory=DocumentStore)
    tokens: TokenStore = field(default_factory=TokenStore)
    start_faults: dict[str, list[tuple[Step, str | None]]] = field(default_factory=dict)
    """Per vendor, faults that answer the next start calls (of one source, or any), the job started all the same."""
    starts: dict[str, dict[str, int]] = field(default_factory=dict)
    """Per vendor, start calls counted by source (file URL, file or document name, externalId)."""
    cancels: dict[str, int] = field(default_factory=dict)
    """Per vendor, calls that cancel a job (Azure ``DELETE .../batches/{id}``)."""


class VendorApi:
    """Base of a vendor's request handlers: the shared simulator state, the vendor's config and counters."""

    vendor: str

    def __init__(self, state: SimulatorState) -> None:
        self.state = state

    @property
    def config(self) -> VendorConfig:
        return self.state.vendors[self.vendor]

    @property
    def counters(self) -> Counters:
        return self.state.store.counters(self.vendor)

    def count_start(self, source: str | None) -> None:
        """Count one start call that started a job, also by its source (file URL, name...)."""
        self.counters.start_calls += 1
        by_source = self.state.starts.setdefault(self.vendor, {})
        by_source[source or ""] = by_source.get(source or "", 0) + 1

    async def answer_start(self, request: Any, normal: Any, source: str | None = None) -> Any:
        """The answer to a start call that started a job: ``normal``, unless a start fault is queued.

        A queued fault (``POST /_sim/start_faults/{vendor}``, for any source or for
        one) replaces or delays the answer; the job is started all the same, as
        when a real answer is lost.
        """
        from .faults import respond

        queued = self.state.start_faults.get(self.vendor) or []
        for entry in list(queued):
            step, wanted = entry
            if wanted is None or wanted == source:
                queued.remove(entry)
                return await respond(request, step, lambda: normal)
        return normal
