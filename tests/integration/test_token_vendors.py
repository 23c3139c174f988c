"""expert.ai Extract and SmartDocumentor over real sockets: tokens shared, renewed and kept secret.

The same scenarios run for both token vendors against the simulator: a
token is fetched once and reused, renewed before it expires and after a
401, refused credentials fail naming the connection, and 100 concurrent
triggers of one connection fetch a single token.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

import pytest

from airflow_docstatus.engine.errors import AuthenticationError, PermanentError
from airflow_docstatus.engine.hook import DocStatusHook
from airflow_docstatus.engine.status import State
from airflow_docstatus.engine.tokens import sync_token_slot, token_key
from airflow_docstatus.engine.transport_async import SESSIONS
from airflow_docstatus.engine.trigger import DocStatusTrigger
from airflow_docstatus.hooks.expertai import ExpertAiExtractHook
from airflow_docstatus.hooks.smartdocumentor import SmartDocumentorHook
from airflow_docstatus.triggers.expertai import ExpertAiExtractStatusTrigger
from airflow_docstatus.triggers.smartdocumentor import SmartDocumentorTaskStatusTrigger
from tests.support import FakeClock, events_of, with_clock

CANARY = "canary-token-vendor-pw-4417"
RESULT = {"header": {"documentName": "a.pdf", "totPages": 1}, "layout": [], "words": []}


@dataclass(frozen=True)
class Vendor:
    name: str  # the simulator's vendor name
    conn_type: str
    hook_class: type[DocStatusHook]
    trigger_class: type[DocStatusTrigger]
    id_arg: str
    waiting: tuple[str, ...]
    success_step: dict[str, Any]

    def script(self, waits: int = 1) -> list[dict]:
        return [{"status": status, "polls": waits} for status in self.waiting] + [self.success_step]

    def ids(self, doc_id: str) -> dict[str, Any]:
        return {self.id_arg: doc_id}

    def hook(self, conn_id: str | None = None) -> DocStatusHook:
        return self.hook_class(conn_id) if conn_id else self.hook_class()


VENDORS = [
    Vendor("expertai", "expertai_extract", ExpertAiExtractHook, ExpertAiExtractStatusTrigger, "extract_task_id",
           ("PENDING", "PROGRESS"), {"status": "SUCCESS", "payload": RESULT}),
    Vendor("smartdocumentor", "smartdocumentor", SmartDocumentorHook, SmartDocumentorTaskStatusTrigger,
           "sd_task_id", ("QueuedForPreProcessing", "ToReview"), {"status": "Processed"}),
]


@pytest.fixture(params=VENDORS, ids=lambda v: v.name)
def vendor(request, sim_connections):
    """Each token vendor, with a fresh default connection: its own id, so no token is cached yet."""
    return request.param


@pytest.fixture
def fresh_conn(vendor, connection, request):
    """A connection id no test used before, with the simulator's good credentials."""
    return connection(f"{vendor.name}_{request.node.name}"[:60].replace("[", "_").replace("]", ""), vendor.conn_type)


def poll_until_done(hook: DocStatusHook, ids: dict, limit: int = 10):
    for _ in range(limit):
        status = hook.check_status(**ids)
        if status.state is not State.WAITING:
            return status
    raise AssertionError("still waiting")


def test_one_token_serves_every_poll(vendor, simulator, fresh_conn):
    doc = simulator.create(vendor.name, vendor.script())
    before = simulator.token_calls(vendor.name)
    status = poll_until_done(vendor.hook(fresh_conn), vendor.ids(doc))
    assert status.state is State.SUCCEEDED
    assert simulator.token_calls(vendor.name) - before == 1


def test_every_hook_of_a_connection_shares_the_token_in_the_process(vendor, simulator, fresh_conn):
    docs = [simulator.create(vendor.name, vendor.script()) for _ in range(3)]
    before = simulator.token_calls(vendor.name)
    for doc in docs:
        vendor.hook(fresh_conn).check_status(**vendor.ids(doc))
    assert simulator.token_calls(vendor.name) - before == 1


def test_a_token_that_expires_mid_wait_is_renewed_once(vendor, simulator, fresh_conn):
    doc = simulator.create(vendor.name, vendor.script(waits=2))
    hook = vendor.hook(fresh_conn)
    before = simulator.token_calls(vendor.name)
    assert hook.check_status(**vendor.ids(doc)).state is State.WAITING
    simulator.expire_tokens(vendor.name)  # the vendor now answers 401 to the cached token
    assert hook.check_status(**vendor.ids(doc)).state is State.WAITING
    assert poll_until_done(hook, vendor.ids(doc)).state is State.SUCCEEDED
    assert simulator.token_calls(vendor.name) - before == 2


def test_a_token_is_renewed_before_it_expires(vendor, simulator, fresh_conn):
    simulator.token_lifetime(vendor.name, 2)
    try:
        doc = simulator.create(vendor.name, vendor.script(waits=3))
        hook = vendor.hook(fresh_conn)
        before = simulator.token_calls(vendor.name)
        hook.check_status(**vendor.ids(doc))
        time.sleep(1.9)  # past 90% of the lifetime: renewed before use, without meeting a 401
        hook.check_status(**vendor.ids(doc))
        assert simulator.token_calls(vendor.name) - before == 2
        assert simulator.document(vendor.name, doc)["status_calls"] == 2
    finally:
        simulator.token_lifetime(vendor.name, 3600)


def test_a_second_401_is_an_authentication_failure(vendor, simulator, fresh_conn):
    simulator.token_lifetime(vendor.name, 0)  # every token is born expired
    try:
        doc = simulator.create(vendor.name, vendor.script())
        before = simulator.token_calls(vendor.name)
        with pytest.raises(AuthenticationError) as info:
            vendor.hook(fresh_conn).check_status(**vendor.ids(doc))
        assert simulator.token_calls(vendor.name) - before == 2
        assert repr(fresh_conn) in str(info.value) and "HTTP 401" in str(info.value)
    finally:
        simulator.token_lifetime(vendor.name, 3600)


def test_refused_credentials_name_the_connection_never_the_password(vendor, simulator, connection):
    conn_id = connection(f"{vendor.name}_canary", vendor.conn_type, password=CANARY)
    doc = simulator.create(vendor.name, vendor.script())
    with pytest.raises(AuthenticationError) as info:
        vendor.hook(conn_id).check_status(**vendor.ids(doc))
    assert f"'{conn_id}'" in str(info.value) and "token" in str(info.value)
    assert CANARY not in str(info.value)


def test_an_unknown_document_fails(vendor, simulator, fresh_conn):
    unknown = "999999" if vendor.name == "smartdocumentor" else "no-such-task"
    with pytest.raises(PermanentError, match="no such task") as info:
        vendor.hook(fresh_conn).check_status(**vendor.ids(unknown))
    assert unknown in str(info.value)


def test_the_token_is_masked_and_kept_out_of_logs(vendor, simulator, fresh_conn, caplog):
    from tests._compat import secrets_masker

    doc = simulator.create(vendor.name, vendor.script())
    hook = vendor.hook(fresh_conn)
    with caplog.at_level(logging.DEBUG):
        poll_until_done(hook, vendor.ids(doc))
    token = sync_token_slot(token_key(fresh_conn, hook.protocol.token_request())).token
    assert token is not None and len(token.value) > 8
    assert secrets_masker().redact(f"x {token.value} y") == "x *** y"
    assert token.value not in caplog.text


# ---------------------------------------------------------------- triggers ----
@pytest.mark.asyncio
async def test_a_hundred_triggers_of_one_connection_fetch_one_token(vendor, simulator, fresh_conn):
    docs = [simulator.create(vendor.name, vendor.script()) for _ in range(100)]
    before = simulator.token_calls(vendor.name)
    triggers = [
        with_clock(vendor.trigger_class(**vendor.ids(doc), **{vendor.hook_class.conn_name_attr: fresh_conn},
                                        poll_interval=1), FakeClock())
        for doc in docs
    ]
    results = await asyncio.gather(*(events_of(t) for t in triggers))
    assert [events[0]["status"] for events in results] == ["success"] * 100
    assert simulator.token_calls(vendor.name) - before == 1
    assert SESSIONS.open_sessions() == 0 and SESSIONS.cached_tokens() == 0


class ExpiringClock(FakeClock):
    """A FakeClock that has the vendor expire every token during the trigger's first sleep."""

    def __init__(self, expire) -> None:
        super().__init__()
        self.expire = expire

    async def sleep(self, seconds: float) -> None:
        if not self.sleeps:
            await asyncio.to_thread(self.expire)
        await super().sleep(seconds)


@pytest.mark.asyncio
async def test_a_trigger_renews_a_token_that_expires_mid_wait(vendor, simulator, fresh_conn):
    doc = simulator.create(vendor.name, vendor.script(waits=2))
    before = simulator.token_calls(vendor.name)
    trigger = vendor.trigger_class(**vendor.ids(doc), **{vendor.hook_class.conn_name_attr: fresh_conn},
                                   poll_interval=1)
    events = await events_of(with_clock(trigger, ExpiringClock(lambda: simulator.expire_tokens(vendor.name))))
    assert events[0]["status"] == "success"
    assert simulator.token_calls(vendor.name) - before == 2


@pytest.mark.asyncio
async def test_a_trigger_with_refused_credentials_reports_auth_without_secrets(vendor, simulator, connection):
    conn_id = connection(f"{vendor.name}_trig_canary", vendor.conn_type, password=CANARY)
    doc = simulator.create(vendor.name, vendor.script())
    trigger = vendor.trigger_class(**vendor.ids(doc), **{vendor.hook_class.conn_name_attr: conn_id})
    assert CANARY not in repr(trigger.serialize())
    events = await events_of(with_clock(trigger, FakeClock()))
    assert events[0]["status"] == "error" and events[0]["kind"] == "auth"
    assert f"'{conn_id}'" in events[0]["message"] and CANARY not in repr(events)
