"""Progress lines (issue 15): one at INFO on a change, "still waiting" at most once a minute, every poll at DEBUG.

The trigger runs its real loop against the simulator over loopback, with
its clock seams (``_now``/``_sleep``) driven by the test, so a wait of many
minutes takes a moment; its lines go to a stdlib logger caught by caplog.
The sensor's poke loop is driven as ``BaseSensorOperator`` drives it
(``poke``, then ``next_poke_delay``), with its ``_now`` seam.
"""

from __future__ import annotations

import logging
import re

import pytest

from airflow_docstatus.engine.progress import ProgressLog, format_duration
from airflow_docstatus.engine.status import DocStatus, State
from airflow_docstatus.triggers.leadtools import LeadtoolsQueryTrigger
from tests.support import FakeClock, events_of, with_clock

TEXT = [{"ServiceType": "Recognition", "RecognitionType": "Text", "data": [{"Text": "hello"}]}]
LOGGER = "docstatus.test.progress"


@pytest.fixture
def lines(caplog, monkeypatch):
    """The trigger class's lines, at every level, as (level name, text)."""
    monkeypatch.setattr(LeadtoolsQueryTrigger, "_log", logging.getLogger(LOGGER))
    caplog.set_level(logging.DEBUG, logger=LOGGER)

    def read(level: int | None = None) -> list[str]:
        return [r.getMessage() for r in caplog.records
                if r.name == LOGGER and (level is None or r.levelno == level)]

    return read


def polls_of(texts: list[str]) -> list[str]:
    return [t for t in texts if re.search(r"; next poll in \d+\.\ds$", t)]


@pytest.mark.asyncio
async def test_a_long_unchanged_wait_writes_one_line_and_still_waiting_once_a_minute(sim_connections, lines):
    # 5 s interval: 48 polls of an unchanged status (4 minutes), then 123, then done
    file_id = sim_connections.create(
        "leadtools", [{"status": 100, "polls": 48}, {"status": 123, "polls": 2}, {"status": 200, "payload": TEXT}]
    )
    clock = FakeClock()
    events = await events_of(with_clock(LeadtoolsQueryTrigger(file_id=file_id, poll_interval=5), clock))
    assert [e["status"] for e in events] == ["success"]
    info = polls_of(lines(logging.INFO))
    about = f"leadtools file_id={file_id} status="
    assert info == [
        f"{about}100 (waiting) message='processing'; waited 0s; next poll in 5.0s",
        f"{about}100 (waiting) message='processing'; still waiting after 1m00s; next poll in 5.0s",
        f"{about}100 (waiting) message='processing'; still waiting after 2m00s; next poll in 5.0s",
        f"{about}100 (waiting) message='processing'; still waiting after 3m00s; next poll in 5.0s",
        # the change is written at once, however soon after the last line
        f"{about}123 (waiting) message='being verified'; waited 4m00s; next poll in 5.0s",
    ], info
    # DEBUG has every poll but the last (the done line), INFO ones included
    every = polls_of(lines())
    assert len(every) == 50 and len(polls_of(lines(logging.DEBUG))) == 45
    assert every[1] == f"{about}100 (waiting) message='processing'; waited 5s; next poll in 5.0s"
    assert lines(logging.INFO)[-1] == f"{about}200 (succeeded) message='done'; done"


@pytest.mark.asyncio
async def test_waited_counts_from_the_sensors_first_poke_after_a_handoff(sim_connections, lines):
    file_id = sim_connections.create("leadtools", [{"status": 100, "polls": 1}, {"status": 200, "payload": TEXT}])
    clock = FakeClock()
    trigger = LeadtoolsQueryTrigger(file_id=file_id, poll_interval=5, poll_immediately=False,
                                    waiting_since=clock.now - 65)
    assert trigger.serialize()[1]["waiting_since"] == clock.now - 65
    await events_of(with_clock(trigger, clock))
    assert polls_of(lines(logging.INFO)) == [
        f"leadtools file_id={file_id} status=100 (waiting) message='processing'; waited 1m10s; next poll in 5.0s"
    ]


@pytest.mark.asyncio
async def test_a_transient_error_is_a_warning_and_the_status_after_it_is_written_again(sim_connections, lines):
    file_id = sim_connections.create(
        "leadtools", [{"status": 100, "polls": 2}, {"fault": "http_503", "polls": 1}, {"status": 100, "polls": 2},
                      {"status": 200, "payload": TEXT}]
    )
    await events_of(with_clock(LeadtoolsQueryTrigger(file_id=file_id, poll_interval=5), FakeClock()))
    assert len(lines(logging.WARNING)) == 1 and "HTTP 503" in lines(logging.WARNING)[0]
    assert [t.split("; ")[1] for t in polls_of(lines(logging.INFO))] == ["waited 0s", "waited 15s"]


def status(vendor_status="100", **fields) -> DocStatus:
    return DocStatus(vendor="leadtools", ref={"file_id": "f"}, state=State.WAITING, vendor_status=vendor_status,
                     **fields)


def test_a_change_of_progress_message_or_warning_is_written_at_once():
    progress = ProgressLog(since=0.0, every=60.0)
    seen = [progress.decide(s, t) for t, s in enumerate([
        status(), status(), status(progress=0.5), status(progress=0.5), status(progress=0.5, message="m"),
        status(progress=0.5, message="m", warning="w"), status("123", progress=0.5, message="m", warning="w"),
    ])]
    assert [line is not None for line in seen] == [True, False, True, False, True, True, True]
    assert progress.decide(status("123", progress=0.5, message="m", warning="w"), 66.0) is not None  # a minute on
    assert [format_duration(s) for s in (-1, 0, 59.9, 60, 3599, 3600, 7385)] == [
        "0s", "0s", "59s", "1m00s", "59m59s", "1h00m", "2h03m"]


class _Hook:
    """Answers the sensor's pokes from a list: a status, or an exception to raise."""

    def __init__(self, answers):
        self.answers = list(answers)

    def check_status(self, **ids):
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def _poke_mode_sensor(mode: str, answers, clock: FakeClock, caplog, monkeypatch):
    from airflow_docstatus.sensors.leadtools import LeadtoolsQuerySensor

    monkeypatch.setattr(LeadtoolsQuerySensor, "log", property(lambda self: logging.getLogger(LOGGER)))
    sensor = LeadtoolsQuerySensor(task_id=f"wait_{mode}", file_id="0f8fad5b-d9cb-469f-a165-70867728950e",
                                  mode=mode, poke_interval=5, timeout=3600)
    sensor.__dict__["hook"] = _Hook(answers)
    sensor._now = clock.time
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    return sensor


def test_poke_mode_writes_the_same_lines_as_the_trigger(caplog, monkeypatch):
    clock = FakeClock()
    answers = [status(message="processing")] * 30 + [status("123", message="being verified")]
    sensor = _poke_mode_sensor("poke", answers, clock, caplog, monkeypatch)
    sensor._deadline = clock.now + 3600
    for _ in answers:  # as BaseSensorOperator.execute: poke, then wait next_poke_delay
        assert sensor.poke({}) is False
        clock.now += sensor.next_poke_delay(5.0, lambda: 0.0)
    info = [r.getMessage() for r in caplog.records if r.name == LOGGER and r.levelno == logging.INFO]
    about = "leadtools file_id=f status="
    assert info == [
        f"{about}100 (waiting) message='processing'; waited 0s; next poll in 5.0s",
        f"{about}100 (waiting) message='processing'; still waiting after 1m00s; next poll in 5.0s",
        f"{about}100 (waiting) message='processing'; still waiting after 2m00s; next poll in 5.0s",
        f"{about}123 (waiting) message='being verified'; waited 2m30s; next poll in 5.0s",
    ], info
    debug = [r for r in caplog.records if r.name == LOGGER and r.levelno == logging.DEBUG]
    assert len(debug) == 27 and all("next poll in 5.0s" in r.getMessage() for r in debug)


def test_reschedule_mode_keeps_what_it_said_in_the_task_state_store(caplog, monkeypatch):
    from tests.unit.test_leadtools_sensor import FakeStateStore, FakeTaskInstance

    clock = FakeClock()
    store = FakeStateStore()
    for _ in range(14):  # each poke a new process, as after a reschedule
        sensor = _poke_mode_sensor("reschedule", [status(message="processing")], clock, caplog, monkeypatch)
        sensor._deadline = 1_000_000.0 + 3600
        ti = FakeTaskInstance()
        ti.try_number = 1
        assert sensor.poke({"ti": ti, "task_state_store": store}) is False
        clock.now += sensor.next_poke_delay(5.0, lambda: 0.0)
    info = [r.getMessage() for r in caplog.records if r.name == LOGGER and r.levelno == logging.INFO]
    assert [t.split("; ")[1] for t in info] == ["waited 0s", "still waiting after 1m00s"], info


def test_reschedule_mode_writes_the_status_again_after_a_transient_error(caplog, monkeypatch):
    from airflow_docstatus.engine.errors import TransientError
    from tests.unit.test_leadtools_sensor import FakeStateStore, FakeTaskInstance

    clock = FakeClock()
    store = FakeStateStore()
    for answer in [status(message="processing"), status(message="processing"), TransientError("HTTP 503"),
                   status(message="processing")]:
        sensor = _poke_mode_sensor("reschedule", [answer], clock, caplog, monkeypatch)
        sensor._deadline = 1_000_000.0 + 3600
        ti = FakeTaskInstance()
        ti.try_number = 1
        assert sensor.poke({"ti": ti, "task_state_store": store}) is False
        clock.now += sensor.next_poke_delay(5.0, lambda: 0.0)
    info = [r.getMessage() for r in caplog.records if r.name == LOGGER and r.levelno == logging.INFO]
    assert [t.split("; ")[1] for t in info] == ["waited 0s", "waited 15s"], info



def test_a_vendors_nan_or_infinite_progress_is_no_progress_and_written_once():
    import json

    from airflow_docstatus.engine.http import HttpResponse
    from airflow_docstatus.engine.settings import ConnectionSettings
    from airflow_docstatus.protocols.expertai import ExpertAiExtractProtocol

    protocol = ExpertAiExtractProtocol(ConnectionSettings(conn_id="eai", base_url="https://eai.example.com",
                                                          login="u", password="p"))
    progress = ProgressLog(since=0.0, every=60.0)
    seen = []
    for t, body in enumerate([b'{"state": "PROGRESS", "current": NaN}'] * 4 + [b'{"state": "PROGRESS", "current": 1e999}']):
        answer = protocol.parse_status({"extract_task_id": "t1"}, HttpResponse(status=200, headers={}, body=body))
        assert answer.progress is None
        seen.append(progress.decide(answer, float(t)))
    assert [line is not None for line in seen] == [True, False, False, False, False]  # nan != nan wrote every poll
    json.dumps(progress.state(), allow_nan=False)  # strict JSON for the task state store
    for value in (float("nan"), float("inf"), float("-inf")):  # any vendor (Azure's clamp keeps a NaN)
        assert status(progress=value).progress is None
        assert status(progress=value).to_record()["progress"] is None
    assert status(progress=0.25).progress == 0.25


def test_reschedule_mode_keeps_a_digest_not_the_vendors_message(caplog, monkeypatch):
    from tests.unit.test_leadtools_sensor import FakeStateStore, FakeTaskInstance

    clock = FakeClock()
    store = FakeStateStore()
    long_message = "x" * 1_000_000
    for answer in [status(message=long_message), status(message=long_message), status(message=long_message + "y")]:
        sensor = _poke_mode_sensor("reschedule", [answer], clock, caplog, monkeypatch)
        sensor._deadline = 1_000_000.0 + 3600
        ti = FakeTaskInstance()
        ti.try_number = 1
        assert sensor.poke({"ti": ti, "task_state_store": store}) is False
        kept = store.values["docstatus_progress_line"]
        assert len(repr(kept)) < 200 and long_message not in repr(kept), repr(kept)[:300]
        clock.now += sensor.next_poke_delay(5.0, lambda: 0.0)
    info = [r.getMessage() for r in caplog.records if r.name == LOGGER and r.levelno == logging.INFO]
    assert [t.split("; ")[1] for t in info] == ["waited 0s", "waited 10s"]  # the change is still seen


def test_a_failing_task_state_store_does_not_fail_the_poke(caplog, monkeypatch):
    from airflow_docstatus.engine import sensor as engine_sensor
    from airflow_docstatus.engine.errors import TransientError
    from tests.unit.test_leadtools_sensor import FakeTaskInstance

    class BrokenStore:
        def __getattr__(self, name):
            def fail(*args, **kwargs):
                if args and args[0] == "docstatus_progress_line":
                    raise ConnectionError("the metadata database went away")
                return None
            return fail

    monkeypatch.setattr(engine_sensor, "_PROGRESS_STORE_WARNED", False)
    clock = FakeClock()
    for answer in [status(message="processing"), TransientError("HTTP 503"), status(message="processing")]:
        sensor = _poke_mode_sensor("reschedule", [answer], clock, caplog, monkeypatch)
        sensor._deadline = 1_000_000.0 + 3600
        ti = FakeTaskInstance()
        ti.try_number = 1
        assert sensor.poke({"ti": ti, "task_state_store": BrokenStore()}) is False
        clock.now += sensor.next_poke_delay(5.0, lambda: 0.0)
    about_store = [r for r in caplog.records if r.name == LOGGER and "task state store" in r.getMessage()]
    assert [r.levelno for r in about_store][:1] == [logging.WARNING], about_store
    assert all(r.levelno == logging.DEBUG for r in about_store[1:]) and len(about_store) >= 3
    assert all("ConnectionError" in r.getMessage() and "database" not in r.getMessage() for r in about_store)
