"""Sensors started in the triggerer (``start_from_trigger=True``): the trigger as Airflow builds it there.

Each test builds the trigger the way Airflow 3.3 does, with its own code:
the sensor's DAG serialized to JSON (the DAG processor), read back (the
scheduler), its ``start_trigger_args.trigger_kwargs`` stored in a Trigger
row and decoded (the triggerer), the trigger class instantiated from them,
given the deserialized task, and its template fields rendered with a
context. The trigger then runs against the simulator over loopback.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from airflow.models.trigger import Trigger
from airflow.sdk import DAG
from airflow.triggers.base import TaskSuccessEvent, TriggerEvent

from airflow_docstatus._compat import AirflowFailException, import_string
from airflow_docstatus.engine.events import EVENT_PAYLOAD_LIMIT
from airflow_docstatus.engine.sensor import DEFER_TIMEOUT_GRACE
from airflow_docstatus.engine.trigger import DocStatusEvent, DocStatusTaskSuccessEvent
from airflow_docstatus.sensors.azure_translation import (
    AzureDocumentTranslationStatusSensor,
    AzureTranslationBatchStatusSensor,
)
from airflow_docstatus.sensors.cora import CoraOcrStatusSensor
from airflow_docstatus.sensors.expertai import ExpertAiExtractStatusSensor
from airflow_docstatus.sensors.leadtools import LeadtoolsQuerySensor
from airflow_docstatus.sensors.smartdocumentor import SmartDocumentorTaskStatusSensor
from tests._compat import TRIGGER_TEMPLATES, dag_serialization, smart_decode_trigger_kwargs
from tests.support import FakeClock, with_clock

# Before Airflow 3.3 the triggerer renders no templates and the sensors run as deferrable ones
# instead (tests/unit/test_leadtools_sensor.py::test_start_from_trigger_needs_a_triggerer_that_renders_templates).
pytestmark = pytest.mark.skipif(not TRIGGER_TEMPLATES, reason="start_from_trigger needs Airflow 3.3+")

TEXT = [{"ServiceType": "Recognition", "RecognitionType": "Text", "data": [{"PageNumber": 1, "Text": "sft"}]}]
GUID = "0f8fad5b-d9cb-469f-a165-70867728950e"


class TriggerSupervisorStandIn:
    """The triggerer's end of the comms channel (``SUPERVISOR_COMMS``): records what the trigger sends."""

    def __init__(self, fail: bool = False):
        self.sent: list = []
        self.fail = fail

    async def asend(self, msg):
        from airflow.sdk.execution_time.comms import SetXCom

        if self.fail and isinstance(msg, SetXCom):
            raise ConnectionError("the triggerer's supervisor is away")
        self.sent.append(msg)

    def xcoms(self) -> list:
        from airflow.sdk.execution_time.comms import SetXCom

        return [msg for msg in self.sent if isinstance(msg, SetXCom)]


@pytest.fixture
def comms(monkeypatch):
    """Airflow's own XCom.aset, talking to a stand-in for the triggerer's supervisor."""
    from airflow.sdk.execution_time import task_runner

    stand_in = TriggerSupervisorStandIn()
    monkeypatch.setattr(task_runner, "SUPERVISOR_COMMS", stand_in, raising=False)
    return stand_in


def built_in_the_triggerer(sensor_factory, conf: dict, *, timeout_after: datetime | None = None):
    """The trigger of ``sensor_factory()``'s task, built and rendered as the scheduler and triggerer do.

    Returns (the trigger, the sensor as the DAG file defines it).
    """
    with DAG("sft", schedule=None, start_date=datetime(2026, 1, 1)) as dag:
        sensor = sensor_factory()
    stored = json.loads(json.dumps(dag_serialization().to_dict(dag)))  # what the DAG processor writes
    task = dag_serialization().from_dict(stored).get_task(sensor.task_id)  # what the scheduler reads
    assert task.start_from_trigger is True
    args = task.start_trigger_args
    row_kwargs = Trigger._decrypt_kwargs(Trigger.encrypt_kwargs(args.trigger_kwargs))  # the Trigger row
    kwargs = {name: smart_decode_trigger_kwargs(value) for name, value in row_kwargs.items()}
    trigger = import_string(args.trigger_cls)(**kwargs)
    trigger.task_instance = SimpleNamespace(  # the triggerer's RuntimeTaskInstance
        task=task, task_id=task.task_id, dag_id="sft", run_id="manual__1", map_index=-1, try_number=1
    )
    trigger.timeout_after = timeout_after
    trigger.render_template_fields(context={"dag_run": SimpleNamespace(conf=conf), "params": {}})
    return trigger, sensor


async def events_of(trigger) -> list:
    return [event async for event in trigger.run()]


def leadtools(**kwargs):
    return lambda: LeadtoolsQuerySensor(
        task_id="wait",
        file_id="{{ dag_run.conf['file_id'] }}",
        leadtools_conn_id="{{ dag_run.conf.get('conn_id', 'leadtools_default') }}",
        poke_interval=2,
        start_from_trigger=True,
        **kwargs,
    )


def test_the_start_trigger_args_carry_templates_and_the_wait_length_never_a_deadline():
    sensor = leadtools(timeout=120, execution_timeout=timedelta(minutes=1))()
    args = sensor.start_trigger_args
    assert args.trigger_cls == "airflow_docstatus.triggers.leadtools.LeadtoolsQueryTrigger"
    assert args.next_method == "execute_complete" and args.timeout == timedelta(seconds=120) + DEFER_TIMEOUT_GRACE
    assert args.trigger_kwargs["file_id"] == "{{ dag_run.conf['file_id'] }}"
    assert args.trigger_kwargs["timeout"] == 120.0
    assert args.trigger_kwargs["scheduler_timeout"] == 60.0  # the scheduler takes execution_timeout when shorter
    assert args.trigger_kwargs["end_from_trigger"] is True and "end_time" not in args.trigger_kwargs
    assert LeadtoolsQuerySensor.start_trigger_args is None  # read on the class (a mapped task): off
    assert LeadtoolsQuerySensor(task_id="w", file_id=GUID, deferrable=True).start_trigger_args is None


@pytest.mark.parametrize(
    ("factory", "conf", "expected"),
    [
        (leadtools(), {"file_id": GUID.upper(), "conn_id": "lt_rendered"},
         ({"file_id": GUID}, "lt_rendered")),
        (lambda: AzureDocumentTranslationStatusSensor(
            task_id="wait", batch_id="{{ dag_run.conf['b'] }}", document_id="{{ dag_run.conf['d'] }}",
            start_from_trigger=True),
         {"b": GUID, "d": GUID.replace("0f8f", "1f8f")},
         ({"batch_id": GUID, "document_id": GUID.replace("0f8f", "1f8f")}, "azure_document_translation_default")),
        (lambda: AzureTranslationBatchStatusSensor(
            task_id="wait", batch_id="{{ dag_run.conf['b'] }}", start_from_trigger=True),
         {"b": GUID}, ({"batch_id": GUID}, "azure_document_translation_default")),
        (lambda: CoraOcrStatusSensor(
            task_id="wait", master_workflow_instance_id="{{ dag_run.conf['m'] }}", start_from_trigger=True),
         {"m": 42}, ({"master_workflow_instance_id": 42}, "cora_sequence_default")),
        (lambda: ExpertAiExtractStatusSensor(
            task_id="wait", extract_task_id="{{ dag_run.conf['t'] }}", start_from_trigger=True),
         {"t": "task-7"}, ({"extract_task_id": "task-7"}, "expertai_extract_default")),
        (lambda: SmartDocumentorTaskStatusSensor(
            task_id="wait", sd_task_id="{{ dag_run.conf['t'] }}", start_from_trigger=True),
         {"t": 17}, ({"sd_task_id": 17}, "smartdocumentor_default")),
    ],
    ids=["leadtools", "azure-document", "azure-batch", "cora", "expertai", "smartdocumentor"],
)
def test_every_sensor_has_its_ids_rendered_in_the_triggerer(factory, conf, expected):
    trigger, sensor = built_in_the_triggerer(factory, conf)
    ref, conn_id = expected
    assert set(trigger.template_fields) == set(sensor.template_fields)  # Airflow renders every one of them
    assert trigger.ref == ref
    assert trigger.conn_id == conn_id


def pushed(comms) -> dict:
    """What reached the triggerer's supervisor as SetXCom, by key (values as a worker's would be stored)."""
    sent = comms.xcoms()
    assert {(m.dag_id, m.task_id, m.run_id, m.map_index) for m in sent} == {("sft", "wait", "manual__1", -1)}
    assert "sim-leadtools-secret" not in repr(sent)  # no secret in an XCom
    return {msg.key: msg.value for msg in sent}


@pytest.mark.asyncio
async def test_a_document_done_ends_the_task_in_the_triggerer_with_both_xcoms(sim_connections, comms):
    file_id = sim_connections.create("leadtools", [{"status": 100, "polls": 1}, {"status": 200, "payload": TEXT}])
    trigger, _ = built_in_the_triggerer(leadtools(), {"file_id": file_id})
    events = await events_of(with_clock(trigger, FakeClock()))
    assert len(events) == 1 and isinstance(events[0], TaskSuccessEvent)
    assert isinstance(events[0], DocStatusTaskSuccessEvent)
    # pushed by the trigger through Airflow's XCom, as a worker would (not in the event: see the class)
    xcoms = pushed(comms)
    assert set(xcoms) == {"return_value", "docstatus"}
    assert xcoms["return_value"] == TEXT
    assert xcoms["docstatus"]["ref"] == {"file_id": file_id} and xcoms["docstatus"]["state"] == "succeeded"
    # as it travels to the triggerer's supervisor: a task-end event, no payload (the triggerer logs its repr)
    assert events[0].model_dump() == {"task_instance_state": "success", "xcoms": None}
    assert "sft" not in repr(events[0]) and "sft" not in str(events[0])
    assert sim_connections.document("leadtools", file_id)["status_calls"] == 2


@pytest.mark.asyncio
async def test_do_xcom_push_false_pushes_only_the_record(sim_connections, comms):
    file_id = sim_connections.create("leadtools", [{"status": 200, "payload": TEXT}])
    trigger, _ = built_in_the_triggerer(leadtools(do_xcom_push=False), {"file_id": file_id})
    [event] = await events_of(trigger)
    assert isinstance(event, TaskSuccessEvent) and set(pushed(comms)) == {"docstatus"}


@pytest.mark.asyncio
async def test_a_failed_push_or_no_task_instance_leaves_the_end_to_the_worker(sim_connections, comms, capsys):
    file_id = sim_connections.create("leadtools", [{"status": 200, "payload": TEXT}])
    comms.fail = True
    trigger, _ = built_in_the_triggerer(leadtools(), {"file_id": file_id})
    [event] = await events_of(trigger)
    assert type(event) is DocStatusEvent and event.payload["status"] == "success" and event.payload["payload"] == TEXT
    assert "Could not push the XComs from the triggerer (ConnectionError)" in capsys.readouterr().out
    comms.fail = False
    bare, _ = built_in_the_triggerer(leadtools(), {"file_id": file_id})
    bare.task_instance = None
    [event] = await events_of(bare)
    assert type(event) is DocStatusEvent and event.payload["status"] == "success"
    assert comms.xcoms() == []


@pytest.mark.asyncio
async def test_a_payload_too_large_for_an_event_resumes_on_the_worker(sim_connections):
    large = [{"Text": "x" * (EVENT_PAYLOAD_LIMIT + 10)}]
    file_id = sim_connections.create("leadtools", [{"status": 200, "payload": large}])
    trigger, sensor = built_in_the_triggerer(leadtools(), {"file_id": file_id})
    [event] = await events_of(trigger)
    assert type(event) is DocStatusEvent and not isinstance(event, TaskSuccessEvent)
    assert event.payload["status"] == "success" and event.payload["payload_omitted"] is True
    pushed = {}
    context = {"ti": SimpleNamespace(xcom_push=lambda key, value: pushed.__setitem__(key, value))}
    sensor.render_template_fields({"dag_run": SimpleNamespace(conf={"file_id": file_id}), "params": {}})
    assert sensor.execute_complete(context, event.payload) == large  # the worker fetches it
    assert pushed["docstatus"]["state"] == "succeeded"


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("script", "status"),
    [([{"status": 502}], "failed"), ([{"status": 100}], "timeout")],
    ids=["vendor-failure", "timeout"],
)
async def test_failures_and_timeouts_resume_on_the_worker_with_the_usual_event(sim_connections, script, status):
    file_id = sim_connections.create("leadtools", script)
    trigger, _ = built_in_the_triggerer(leadtools(timeout=5), {"file_id": file_id})
    [event] = await events_of(with_clock(trigger, FakeClock()))
    assert type(event) is DocStatusEvent and event.payload["status"] == status


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("factory", "conf", "literal"),
    [
        (leadtools(), {"file_id": "not-a-guid"}, lambda: LeadtoolsQuerySensor(task_id="wait", file_id="not-a-guid")),
        (lambda: CoraOcrStatusSensor(
            task_id="wait", master_workflow_instance_id="{{ dag_run.conf['m'] }}", start_from_trigger=True),
         {"m": "-3"}, lambda: CoraOcrStatusSensor(task_id="wait", master_workflow_instance_id="-3")),
        (leadtools(), {"file_id": "../" + GUID}, lambda: LeadtoolsQuerySensor(task_id="wait", file_id="../" + GUID)),
    ],
    ids=["leadtools-not-a-guid", "cora-negative", "leadtools-dot-segment"],
)
async def test_a_bad_rendered_id_fails_the_task_before_any_call_with_the_literal_message(
    sim_connections, factory, conf, literal
):
    calls_before = sim_connections.stats()
    trigger, sensor = built_in_the_triggerer(factory, conf)  # a template: constructed without complaint
    [event] = await events_of(trigger)
    assert type(event) is DocStatusEvent
    assert event.payload["status"] == "error" and event.payload["kind"] == "invalid"
    with pytest.raises(ValueError) as at_parse_time:  # the same id, given literally
        literal()
    assert f"wait: {event.payload['message']}" == str(at_parse_time.value)
    with pytest.raises(AirflowFailException, match="^" + __import__("re").escape(event.payload["message"]) + "$"):
        sensor.execute_complete({}, event.payload)  # the worker fails the task, without retries
    assert sim_connections.stats() == calls_before  # no call reached the vendor


@pytest.mark.asyncio
async def test_the_deadline_is_the_tasks_start_plus_timeout_and_survives_a_triggerer_restart(sim_connections):
    """The scheduler set the trigger's timeout_after = start + scheduler_timeout; the deadline is start + timeout."""
    file_id = sim_connections.create("leadtools", [{"status": 100}])
    clock = FakeClock()
    started = clock.now - 4  # the scheduler started the task 4 s ago
    timeout_after = datetime.fromtimestamp(started, tz=timezone.utc) + timedelta(seconds=10) + DEFER_TIMEOUT_GRACE
    first, _ = built_in_the_triggerer(leadtools(timeout=10), {"file_id": file_id}, timeout_after=timeout_after)
    [event] = await events_of(with_clock(first, clock))
    assert event.payload["status"] == "timeout"
    assert first.end_time == pytest.approx(started + 10)
    assert clock.now == pytest.approx(started + 10)  # polled at 0, 2, 4 and the last look at 6 s after it began
    assert "Sensor has timed out: the deadline " in event.payload["message"]
    # a new triggerer, later, reads the same deadline from the same timeout_after (naive UTC in some databases)
    again, _ = built_in_the_triggerer(leadtools(timeout=10), {"file_id": file_id},
                                      timeout_after=timeout_after.replace(tzinfo=None))
    later = FakeClock(start=started + 7)
    [event] = await events_of(with_clock(again, later))
    assert again.end_time == pytest.approx(started + 10) and later.now == pytest.approx(started + 10)


@pytest.mark.asyncio
async def test_without_timeout_after_the_wait_starts_when_the_trigger_runs(sim_connections):
    file_id = sim_connections.create("leadtools", [{"status": 100}])
    clock = FakeClock()
    trigger, _ = built_in_the_triggerer(leadtools(timeout=3), {"file_id": file_id})
    [event] = await events_of(with_clock(trigger, clock))
    assert event.payload["status"] == "timeout" and trigger.end_time == 1_000_003.0


def test_an_xcomarg_id_becomes_a_template_pulling_it_and_an_upstream_task():
    from airflow.sdk import task

    with DAG("sft_xcom", schedule=None, start_date=datetime(2026, 1, 1)):
        @task
        def upload():
            return GUID

        uploaded = upload()
        wait = LeadtoolsQuerySensor(task_id="wait", file_id=uploaded, start_from_trigger=True)
        by_key = LeadtoolsQuerySensor(task_id="by_key", file_id=uploaded["file"], start_from_trigger=True)
    assert wait.upstream_task_ids == {"upload"} and by_key.upstream_task_ids == {"upload"}
    assert wait.start_trigger_args.trigger_kwargs["file_id"] == (
        "{{ task_instance.xcom_pull(task_ids='upload', key='return_value', map_indexes=-1) }}"
    )
    assert by_key.start_trigger_args.trigger_kwargs["file_id"] == (
        "{{ task_instance.xcom_pull(task_ids='upload', key='file', map_indexes=-1) }}"
    )
    # rendered in the triggerer against the upstream task's XCom
    def xcom_pull(task_ids, key, map_indexes):  # the one XCom of the unmapped upstream task (GetXCom)
        assert (task_ids, map_indexes) == ("upload", -1)
        return {"return_value": GUID, "file": GUID}[key]

    ti = SimpleNamespace(xcom_pull=xcom_pull)
    trigger = import_string(wait.trigger_class_path)(**wait.start_trigger_args.trigger_kwargs)
    trigger.task_instance = SimpleNamespace(task=wait, task_id="wait")
    trigger.render_template_fields({"task_instance": ti})
    assert trigger.ref == {"file_id": GUID}


def test_an_xcomarg_that_is_not_one_tasks_xcom_is_refused_at_parse_time():
    from airflow.sdk import task

    with DAG("sft_map", schedule=None, start_date=datetime(2026, 1, 1)):
        @task
        def upload():
            return [GUID]

        with pytest.raises(ValueError, match="may be an XComArg of one task's XCom"):
            LeadtoolsQuerySensor(task_id="wait", file_id=upload().map(str), start_from_trigger=True)


def test_the_classic_path_is_unchanged_by_the_new_arguments():
    """A trigger deferred from the worker serializes exactly as before, and yields a plain event on success."""
    from airflow_docstatus.triggers.leadtools import LeadtoolsQueryTrigger

    trigger = LeadtoolsQueryTrigger(file_id=GUID, end_time=12.0, poll_immediately=False)
    assert trigger.serialize()[1] == {
        "file_id": GUID, "leadtools_conn_id": "leadtools_default", "poll_interval": 10.0, "end_time": 12.0,
        "max_consecutive_errors": 10, "poll_immediately": False,
    }
    with pytest.raises(ValueError, match="GUID"):  # a bad literal id still fails at construction
        LeadtoolsQueryTrigger(file_id="nope")
    assert not isinstance(DocStatusEvent({"status": "success"}), TaskSuccessEvent)
    assert isinstance(DocStatusEvent({"status": "success"}), TriggerEvent)
