"""Azure waits sharing one status call per batch and interval (engine/coalesce.py), over loopback against the simulator.

Real time, short intervals: the shared calls are paced by the event loop's
clock, not the triggers' (which a FakeClock would move), so these tests sleep.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import threading
import time
import uuid

import pytest
from aiohttp import web

from airflow_docstatus.engine.coalesce import SHARED_CALLS
from airflow_docstatus.engine.hook import forget_connection
from airflow_docstatus.protocols.azure_translation import AzureDocumentStatusProtocol
from airflow_docstatus.engine.transport_async import SESSIONS
from airflow_docstatus.hooks.azure_translation import AzureDocumentTranslationHook
from airflow_docstatus.triggers.azure_translation import (
    AzureDocumentTranslationStatusTrigger,
    AzureTranslationBatchStatusTrigger,
)
from tests.support import events_of

VENDOR = "azure_translation"
CONN_TYPE = "azure_document_translation"
INTERVAL = 0.4
ERROR = {"code": "InvalidRequest", "message": "Bad file",
         "innerError": {"code": "InvalidDocumentFormat", "message": "Not a docx"}}
RUNS = [{"status": "NotStarted", "seconds": 0.3}, {"status": "Running", "seconds": 0.9, "payload": {"progress": 0.5}},
        {"status": "Succeeded"}]
FAILS = [{"status": "Running", "seconds": 0.6}, {"status": "Failed", "payload": {"error": ERROR}}]


def batch_of(simulator, scripts: list) -> list[dict]:
    """Documents of one new batch, one per script: their ids."""
    batch_id = str(uuid.uuid4())
    ids = []
    for script in scripts:
        document_id = simulator.create(VENDOR, script, f"{batch_id}:{uuid.uuid4()}").split(":")[1]
        ids.append({"batch_id": batch_id, "document_id": document_id})
    return ids


def calls(simulator) -> tuple[int, int]:
    stats = simulator.stats()[VENDOR]
    return stats["list_calls"], stats["status_calls"]


async def run_waits(all_ids: list[dict], **kwargs) -> tuple[list[dict], float]:
    """Every document's trigger in this loop at once; their events (one each) and the time it took."""
    started = time.monotonic()
    triggers = [AzureDocumentTranslationStatusTrigger(**ids, poll_interval=INTERVAL, **kwargs) for ids in all_ids]
    results = await asyncio.gather(*(events_of(trigger) for trigger in triggers))
    assert all(len(events) == 1 for events in results)
    return [events[0] for events in results], time.monotonic() - started


def outcome(event: dict) -> tuple:
    """What a wait ended with, without the ids and times that differ between two runs."""
    record = event.get("docstatus") or {}
    return (event["status"], event.get("kind"), record.get("state"), record.get("vendor_status"),
            record.get("progress"), record.get("message"))


@pytest.mark.asyncio
async def test_100_document_waits_over_4_batches_share_one_list_call_per_batch_and_interval(connection, simulator):
    """The outcomes equal those of the single-document calls (sharing off); the calls drop to ~4 per interval."""
    connection("azure_document_translation_default", CONN_TYPE)
    connection("azt_unshared", CONN_TYPE, extra={"share_status_calls": "false"})
    outcomes = {}
    counted = {}
    for conn_id in ("azure_document_translation_default", "azt_unshared"):
        batches = [batch_of(simulator, [FAILS] + [RUNS] * 24) for _ in range(4)]
        before = calls(simulator)
        events, elapsed = await run_waits([ids for batch in batches for ids in batch], azure_translation_conn_id=conn_id)
        after = calls(simulator)
        counted[conn_id] = (after[0] - before[0], after[1] - before[1], elapsed)
        outcomes[conn_id] = [outcome(event) for event in events]
        for ids, event in zip([ids for batch in batches for ids in batch], events):
            if event["status"] == "success":  # the document's own path, as the simulator made it
                assert event["payload"].endswith(f"/target/fr/{ids['document_id']}.txt")
                assert event["docstatus"]["ref"] == ids
    shared, unshared = outcomes["azure_document_translation_default"], outcomes["azt_unshared"]
    assert shared == unshared
    assert shared[0] == ("failed", None, "failed", "Failed", 0.0,
                         "InvalidRequest: Bad file; inner error InvalidDocumentFormat: Not a docx")
    assert shared.count(("success", None, "succeeded", "Succeeded", 1.0, None)) == 96
    lists, statuses, elapsed = counted["azure_document_translation_default"]
    rounds = elapsed / INTERVAL + 2
    assert 4 <= lists <= 4 * rounds, counted
    assert statuses <= 8, counted  # the first wait of a batch polls alone until a second one joins
    unshared_lists, unshared_statuses, _ = counted["azt_unshared"]
    assert unshared_lists == 0 and unshared_statuses >= 100 * 2, counted
    assert lists + statuses < unshared_statuses / 10, counted
    assert SHARED_CALLS.groups() == 0 and SESSIONS.open_sessions() == 0


@pytest.mark.asyncio
async def test_a_document_the_list_lacks_fails_as_a_404_of_its_own_call(sim_connections):
    ids = batch_of(sim_connections, [RUNS, RUNS])
    missing = {"batch_id": ids[0]["batch_id"], "document_id": str(uuid.uuid4())}
    events, _ = await run_waits([*ids, missing])
    assert [event["status"] for event in events[:2]] == ["success", "success"]
    assert events[2]["status"] == "error" and events[2]["kind"] == "permanent"
    assert "HTTP 404" in events[2]["message"] and missing["document_id"] in events[2]["message"]


@pytest.mark.asyncio
async def test_a_503_of_the_shared_call_counts_for_every_wait_that_shares_it(sim_connections):
    """One failed list call, and each of the 10 waits has spent its error budget of 1."""
    ids = batch_of(sim_connections, [[{"status": "Running", "seconds": 0.5}, {"fault": "http_503"}]] * 10)
    before = calls(sim_connections)
    events, _ = await run_waits(ids, max_consecutive_errors=1)
    lists, statuses = (a - b for a, b in zip(calls(sim_connections), before))
    assert all(event["status"] == "error" and event["kind"] == "exhausted" for event in events)
    assert all("HTTP 503 (service unavailable): ServiceUnavailable" in event["message"] for event in events)
    assert lists + statuses <= 0.5 / INTERVAL + 4  # a few rounds of Running, then one 503 for all


@pytest.mark.asyncio
async def test_retry_after_of_the_shared_call_holds_back_every_wait(sim_connections):
    done_in = [{"status": "Running", "seconds": 0.3}, {"fault": "http_429", "retry_after": 2, "polls": 1},
               {"status": "Succeeded"}]
    ids = batch_of(sim_connections, [done_in] * 5)
    events, elapsed = await run_waits(ids)
    assert all(event["status"] == "success" for event in events)
    assert elapsed >= 2.0
    listed = [call["t"] for call in sim_connections.document(VENDOR, f"{ids[1]['batch_id']}:{ids[1]['document_id']}")["calls"]]
    gaps = [b - a for a, b in zip(listed, listed[1:])]
    assert gaps and max(gaps) >= 1.9, listed  # nothing asked the batch again before the 429's Retry-After


@pytest.mark.asyncio
async def test_a_wait_that_joins_late_waits_for_the_next_shared_call_never_an_older_answer(sim_connections):
    """Its first answer comes from a call made after it started, within its own interval."""
    interval = 1.0
    ids = batch_of(sim_connections, [[{"status": "Running"}], [{"status": "Running"}],
                                     [{"status": "Running", "seconds": 0.2}, {"status": "Succeeded"}]])
    hooks = [AzureDocumentTranslationHook() for _ in ids]
    try:
        first = await asyncio.gather(*(hook.acheck_status(share_interval=interval, **ref) for hook, ref in zip(hooks[:2], ids)))
        assert [status.vendor_status for status in first] == ["Running", "Running"]
        await asyncio.sleep(0.3)  # the third document is done now; the group's answer still says Running
        late = AzureDocumentTranslationHook()
        hooks.append(late)
        started = time.monotonic()
        status = await late.acheck_status(share_interval=interval, **ids[2])
        waited = time.monotonic() - started
        assert status.vendor_status == "Succeeded" and status.payload.endswith(f"{ids[2]['document_id']}.txt")
        assert 0.3 <= waited <= interval + 0.5  # the group's next call, never sooner than its interval
        again = await hooks[0].acheck_status(share_interval=interval, **ids[0])  # the late call's answer, shared
        assert again.vendor_status == "Running" and time.monotonic() - started < interval + 0.5
    finally:
        for hook in hooks:
            await hook.aclose()
    assert SHARED_CALLS.groups() == 0 and SHARED_CALLS.tasks() == 0


@pytest.mark.asyncio
async def test_cancelling_one_wait_leaves_the_others_and_the_last_one_out_stops_the_group(sim_connections):
    ids = batch_of(sim_connections, [RUNS] * 4)
    triggers = [AzureDocumentTranslationStatusTrigger(**ref, poll_interval=INTERVAL) for ref in ids]
    tasks = [asyncio.ensure_future(events_of(trigger)) for trigger in triggers]
    await asyncio.sleep(0.5)  # every wait is in the group, one of them waiting on its call
    tasks[0].cancel()
    results = await asyncio.gather(*tasks[1:])
    assert tasks[0].cancelled()
    assert [events[0]["status"] for events in results] == ["success"] * 3
    assert SHARED_CALLS.groups() == 0 and SHARED_CALLS.tasks() == 0
    # Cancelled all at once, mid-wait: nothing is left running.
    ids = batch_of(sim_connections, [[{"status": "Running"}]] * 3)
    tasks = [asyncio.ensure_future(events_of(AzureDocumentTranslationStatusTrigger(**ref, poll_interval=5)))
             for ref in ids]
    await asyncio.sleep(0.5)
    assert SHARED_CALLS.groups() == 1
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await asyncio.sleep(0)
    assert SHARED_CALLS.groups() == 0 and SHARED_CALLS.tasks() == 0 and SESSIONS.open_sessions() == 0
    assert asyncio.all_tasks() == {asyncio.current_task()}


@pytest.mark.asyncio
async def test_a_wrong_key_fails_every_sharing_wait_as_auth_without_the_key(connection, simulator):
    ids = batch_of(simulator, [RUNS] * 3)
    conn_id = connection("azt_shared_canary", CONN_TYPE, password="canary-shared-key-77")
    events, _ = await run_waits(ids, azure_translation_conn_id=conn_id)
    assert [event["kind"] for event in events] == ["auth"] * 3
    assert "canary-shared-key-77" not in repr(events)


@pytest.mark.asyncio
async def test_batch_waits_on_one_batch_share_its_status_call_each_reading_it_its_own_way(sim_connections):
    ids = batch_of(sim_connections, [RUNS, FAILS])
    batch_id = ids[0]["batch_id"]
    before = calls(sim_connections)
    triggers = [AzureTranslationBatchStatusTrigger(batch_id=batch_id, poll_interval=INTERVAL,
                                                   fail_on_document_failures=strict) for strict in (True, True, False)]
    started = time.monotonic()
    results = await asyncio.gather(*(events_of(trigger) for trigger in triggers))
    elapsed = time.monotonic() - started
    statuses = calls(sim_connections)[1] - before[1]
    assert [events[0]["status"] for events in results] == ["failed", "failed", "success"]
    assert results[0][0]["docstatus"]["message"].startswith("1 of 2 document(s) failed")
    assert results[2][0]["payload"]["summary"]["failed"] == 1
    assert statuses <= elapsed / INTERVAL + 3  # one call per interval for the three, not three


def test_two_event_loops_do_not_share(sim_connections):
    """Each triggerer loop has its own group for the same batch, with its own waits."""
    ids = batch_of(sim_connections, [RUNS] * 3)
    seen: dict[str, list] = {}

    def loop_body(name: str) -> None:
        async def main():
            tasks = [asyncio.ensure_future(events_of(AzureDocumentTranslationStatusTrigger(**ref, poll_interval=INTERVAL)))
                     for ref in ids]
            await asyncio.sleep(0.5)
            seen[name] = [(id(group), len(group.waiters)) for group in SHARED_CALLS._loop_groups().values()]
            results = await asyncio.gather(*tasks)
            seen[name + " events"] = [events[0]["status"] for events in results]

        asyncio.run(main())

    threads = [threading.Thread(target=loop_body, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert seen["a events"] == seen["b events"] == ["success"] * 3
    (group_a, waiters_a), = seen["a"]
    (group_b, waiters_b), = seen["b"]
    assert group_a != group_b and waiters_a == waiters_b == 3


@pytest.mark.asyncio
async def test_a_list_page_over_the_body_cap_turns_the_group_to_its_own_calls(connection, simulator):
    """Each page is read under ``max_body_bytes``; past it the waits go on with their own (smaller) answers."""
    conn_id = connection("azt_small_pages", CONN_TYPE, extra={"max_body_bytes": 1024})
    ids = batch_of(simulator, [RUNS] * 5)  # a document's status is ~0.5 kB, the list of five ~2.5 kB
    before = calls(simulator)
    events, _ = await run_waits(ids, azure_translation_conn_id=conn_id)
    lists, statuses = (a - b for a, b in zip(calls(simulator), before))
    assert [event["status"] for event in events] == ["success"] * 5
    assert lists == 1 and statuses >= 5 * 2
    assert SHARED_CALLS.groups() == 0


@pytest.mark.asyncio
async def test_share_status_calls_false_keeps_one_call_per_wait(connection, simulator):
    conn_id = connection("azt_no_share", CONN_TYPE, extra={"share_status_calls": False})
    ids = batch_of(simulator, [RUNS] * 3)
    before = calls(simulator)
    events, _ = await run_waits(ids, azure_translation_conn_id=conn_id)
    lists, statuses = (a - b for a, b in zip(calls(simulator), before))
    assert [event["status"] for event in events] == ["success"] * 3 and lists == 0 and statuses >= 3 * 2
    bad = connection("azt_bad_share", CONN_TYPE, extra={"share_status_calls": "sometimes"})
    events, _ = await run_waits(ids[:1], azure_translation_conn_id=bad)
    assert events[0]["kind"] == "invalid" and "share_status_calls" in events[0]["message"]


@pytest.mark.asyncio
async def test_a_wait_keeps_its_own_deadline_and_last_look_beside_a_slower_group(sim_connections):
    """Its deadline comes before the group's next call: it takes its last look with its own call, on time."""
    ids = batch_of(sim_connections, [[{"status": "Running"}]] * 3)
    slow = [asyncio.ensure_future(events_of(AzureDocumentTranslationStatusTrigger(**ref, poll_interval=3)))
            for ref in ids[:2]]
    await asyncio.sleep(0.2)
    started = time.monotonic()
    hurried = AzureDocumentTranslationStatusTrigger(**ids[2], poll_interval=3, end_time=time.time() + 1.0)
    (event,) = await events_of(hurried)
    assert event["status"] == "timeout" and event["docstatus"]["vendor_status"] == "Running"
    assert time.monotonic() - started < 2.5  # not held back to the group's next call, 3 s after its last
    for task in slow:
        task.cancel()
    await asyncio.gather(*slow, return_exceptions=True)
    assert SHARED_CALLS.groups() == 0


@pytest.mark.asyncio
async def test_the_shared_call_keeps_the_smallest_interval_of_its_waits(sim_connections):
    ids = batch_of(sim_connections, [[{"status": "Running", "seconds": 2.5}, {"status": "Succeeded"}]] * 4)
    intervals = (0.5, 1.5, 1.5, 3.0)
    triggers = [AzureDocumentTranslationStatusTrigger(**ref, poll_interval=every) for ref, every in zip(ids, intervals)]
    results = await asyncio.gather(*(events_of(trigger) for trigger in triggers))
    assert [events[0]["status"] for events in results] == ["success"] * 4
    record = sim_connections.document(VENDOR, f"{ids[3]['batch_id']}:{ids[3]['document_id']}")
    listed = [call["t"] for call in record["calls"] if call["path"].split("?")[0].endswith("/documents")]
    gaps = [b - a for a, b in zip(listed, listed[1:])]
    assert len(listed) >= 4 and min(gaps) >= 0.5 - 0.05, listed  # every half second, never sooner
    assert max(gaps) < 1.0, listed  # and not at the slower waits' pace


@pytest.mark.asyncio
async def test_a_batch_of_many_pages_is_read_page_by_page_and_few_waits_poll_on_their_own(sim_connections):
    """150 waits on a batch of 150: two pages of 100 and 50 a round. 2 waits on a batch of 250: their own calls."""
    ids = batch_of(sim_connections, [RUNS] * 150)
    before = calls(sim_connections)
    events, elapsed = await run_waits(ids)
    lists, statuses = (a - b for a, b in zip(calls(sim_connections), before))
    assert [event["status"] for event in events] == ["success"] * 150
    assert all(event["payload"].endswith(f"{ref['document_id']}.txt") for event, ref in zip(events, ids))
    assert lists % 2 == 0 and 2 <= lists <= 2 * (elapsed / INTERVAL + 2) and statuses <= 2, (lists, statuses)
    crowd = batch_of(sim_connections, [[{"status": "Running"}]] * 248 + [RUNS] * 2)  # the two waited on made last
    before = calls(sim_connections)
    events, _ = await run_waits(crowd[-2:])
    lists, statuses = (a - b for a, b in zip(calls(sim_connections), before))
    assert [event["status"] for event in events] == ["success"] * 2
    assert lists == 2 and statuses >= 2 * 2, (lists, statuses)  # a third page would cost more: not read


@pytest.mark.asyncio
async def test_a_wait_whose_connection_loaded_another_key_never_shares_the_groups_call(connection, simulator):
    """The key is edited (and the loaded connection forgotten) while two waits share: a third wait uses its own key."""
    conn_id = connection("azt_rotated", CONN_TYPE)
    long = [{"status": "Running", "seconds": 2.5}, {"status": "Succeeded"}]
    ids = batch_of(simulator, [long] * 3)
    first = [asyncio.ensure_future(events_of(AzureDocumentTranslationStatusTrigger(
        **ref, poll_interval=INTERVAL, azure_translation_conn_id=conn_id))) for ref in ids[:2]]
    await asyncio.sleep(1.0)
    assert SHARED_CALLS.groups() == 1
    conn = json.loads(os.environ["AIRFLOW_CONN_AZT_ROTATED"])
    os.environ["AIRFLOW_CONN_AZT_ROTATED"] = json.dumps({**conn, "password": "wrong-rotated-key-0000"})
    forget_connection(conn_id)
    late = await events_of(AzureDocumentTranslationStatusTrigger(
        **ids[2], poll_interval=INTERVAL, azure_translation_conn_id=conn_id))
    assert late[0]["kind"] == "auth" and "wrong-rotated-key-0000" not in repr(late)
    assert [events[0]["status"] for events in await asyncio.gather(*first)] == ["success"] * 2
    assert SHARED_CALLS.groups() == 0


@contextlib.asynccontextmanager
async def azure_stub(documents, document=None):
    """A loopback server answering the v1.1 document list with ``documents`` (and one document with ``document``)."""
    async def one(request):
        return web.json_response({"id": request.match_info["d"], "status": "Running"})

    app = web.Application()
    app.router.add_get("/translator/text/batch/v1.1/batches/{b}/documents", documents)
    app.router.add_get("/translator/text/batch/v1.1/batches/{b}/documents/{d}", document or one)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"
    finally:
        await runner.cleanup()


def stub_waits(conn_id: str, docs: list[str], batch: str, **kwargs):
    return [asyncio.ensure_future(events_of(AzureDocumentTranslationStatusTrigger(
        batch_id=batch, document_id=doc, azure_translation_conn_id=conn_id, **kwargs))) for doc in docs]


@pytest.mark.asyncio
@pytest.mark.parametrize("link", [5, {"href": "x"}])
async def test_a_malformed_next_link_turns_the_group_to_its_own_calls_without_a_crash(connection, link, capsys):
    batch, docs = str(uuid.uuid4()), [str(uuid.uuid4()) for _ in range(2)]
    counts = {"list": 0, "own": 0}

    async def documents(request):
        counts["list"] += 1
        return web.json_response({"value": [{"id": doc, "status": "Running"} for doc in docs], "@nextLink": link})

    async def one(request):
        counts["own"] += 1
        return web.json_response({"id": request.match_info["d"], "status": "Succeeded" if counts["own"] > 2 else
                                  "Running", "path": "https://x/y.txt"})

    async with azure_stub(documents, one) as url:
        conn_id = connection("azt_bad_link", CONN_TYPE, host=url)
        results = await asyncio.gather(*stub_waits(conn_id, docs, batch, poll_interval=0.2, timeout=20))
    assert [events[0]["status"] for events in results] == ["success"] * 2
    assert counts["list"] == 1 and counts["own"] >= 3
    warnings = [line for line in capsys.readouterr().out.splitlines() if "no longer shared" in line]
    assert len(warnings) == 1 and "@nextLink is not a string" in warnings[0], warnings


@pytest.mark.asyncio
async def test_the_first_shared_call_reads_no_more_pages_than_waits_and_big_pages_off_the_loop(connection, monkeypatch):
    """2 waits, an endless list of ~600 kB pages: 2 pages read, each in a worker thread; then their own calls."""
    batch, docs = str(uuid.uuid4()), [str(uuid.uuid4()) for _ in range(2)]
    counts = {"list": 0, "own": 0}
    filler = [{"id": "not-a-guid", "pad": "y" * 2000} for _ in range(300)]

    async def documents(request):
        counts["list"] += 1
        body = {"value": [{"id": doc, "status": "Running"} for doc in docs] + filler,
                "@nextLink": str(request.url.with_query({"p": counts["list"]}))}
        return web.json_response(body)

    async def one(request):
        counts["own"] += 1
        return web.json_response({"id": request.match_info["d"], "status": "Succeeded" if counts["own"] > 3 else
                                  "Running", "path": "https://x/y.txt"})

    threads = []
    read = AzureDocumentStatusProtocol.read_shared_page

    def spy(self, *args):
        threads.append(threading.current_thread() is threading.main_thread())
        return read(self, *args)

    monkeypatch.setattr(AzureDocumentStatusProtocol, "read_shared_page", spy)
    async with azure_stub(documents, one) as url:
        conn_id = connection("azt_many_pages", CONN_TYPE, host=url)
        results = await asyncio.gather(*stub_waits(conn_id, docs, batch, poll_interval=0.2, timeout=20))
    assert [events[0]["status"] for events in results] == ["success"] * 2
    assert counts["list"] == 2 and counts["own"] >= 4, counts
    assert threads == [False, False]  # both pages read off the event loop's thread


@pytest.mark.asyncio
async def test_a_late_shared_call_sends_the_wait_to_its_own_call_without_an_error(connection):
    """The shared list takes longer than a waiter's call budget: the waiter makes its own call, no TransientError."""
    batch, docs = str(uuid.uuid4()), [str(uuid.uuid4()) for _ in range(2)]

    async def documents(request):  # a byte every 0.1 s for 3 s: never a read timeout, late all the same
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        for _ in range(30):
            await response.write(b" ")
            await asyncio.sleep(0.1)
        await response.write(b'{"value": []}')
        return response

    async with azure_stub(documents) as url:
        conn_id = connection("azt_late", CONN_TYPE, host=url, extra={"read_timeout": 0.5})
        hooks = [AzureDocumentTranslationHook(conn_id) for _ in docs]
        calls_ = [await hook.aprepare_status(batch_id=batch, document_id=doc) for hook, doc in zip(hooks, docs)]
        try:
            statuses = await asyncio.gather(*(hook.apoll(call, 1.0, share_interval=0.2)
                                              for hook, call in zip(hooks, calls_)))
            assert [status.vendor_status for status in statuses] == ["Running"] * 2
        finally:
            for hook in hooks:
                await hook.aclose()
    assert SHARED_CALLS.groups() == 0 and SHARED_CALLS.tasks() == 0


@pytest.mark.asyncio
async def test_leaving_a_group_cancelled_twice_still_closes_its_hook(connection):
    batch, docs = str(uuid.uuid4()), [str(uuid.uuid4()) for _ in range(2)]
    started = asyncio.Event()

    async def documents(request):
        started.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            await asyncio.sleep(0.3)  # the server side ends slowly; the group's task ends at once all the same
            raise
        return web.json_response({"value": []})

    async with azure_stub(documents) as url:
        conn_id = connection("azt_leave", CONN_TYPE, host=url)
        hooks = [AzureDocumentTranslationHook(conn_id) for _ in docs]
        calls_ = [await hook.aprepare_status(batch_id=batch, document_id=doc) for hook, doc in zip(hooks, docs)]
        polls = [asyncio.ensure_future(hook.apoll(call, None, share_interval=0.2)) for hook, call in zip(hooks, calls_)]
        await started.wait()
        for poll in polls:
            poll.cancel()
        await asyncio.gather(*polls, return_exceptions=True)
        await hooks[0].aclose()
        closing = asyncio.ensure_future(hooks[1].aclose())
        await asyncio.sleep(0)
        closing.cancel()
        await asyncio.sleep(0)
        closing.cancel()
        await asyncio.gather(closing, return_exceptions=True)
        for _ in range(50):
            if SESSIONS.open_sessions() == 0:
                break
            await asyncio.sleep(0.02)
        assert SHARED_CALLS.groups() == 0 and SESSIONS.open_sessions() == 0
