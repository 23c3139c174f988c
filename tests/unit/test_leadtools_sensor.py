"""LeadtoolsQuerySensor edge cases that need no network: arguments, and reading trigger events back."""

from __future__ import annotations

import pytest

from airflow_docstatus._compat import AirflowException, AirflowFailException, AirflowSensorTimeout
from airflow_docstatus.engine import events
from airflow_docstatus.engine.status import DocStatus, State
from airflow_docstatus.sensors.leadtools import LeadtoolsQuerySensor

FILE_ID = "0f8fad5b-d9cb-469f-a165-70867728950e"


class FakeTaskInstance:
    def __init__(self):
        self.pushed = {}

    def xcom_push(self, key, value):
        self.pushed[key] = value


def sensor(**kwargs):
    return LeadtoolsQuerySensor(task_id="wait", file_id=FILE_ID, **kwargs)


def test_a_literal_bad_guid_fails_the_dag_at_parse_time():
    with pytest.raises(ValueError, match="wait: LEADTOOLS: `file_id` must be a GUID, got 'INV-42'"):
        LeadtoolsQuerySensor(task_id="wait", file_id="INV-42")


def test_templated_ids_are_checked_when_rendered_not_at_parse_time():
    templated = LeadtoolsQuerySensor(task_id="wait", file_id="{{ ti.xcom_pull('start') }}")
    assert templated.file_id.startswith("{{")
    with pytest.raises(ValueError, match="must be a GUID"):
        templated._validated_ref()


def test_arguments_and_template_fields():
    s = sensor(leadtools_conn_id="lt_prod", fail_when_not_run=True, max_consecutive_errors=4)
    assert s.template_fields == ("file_id", "leadtools_conn_id")
    assert (s.leadtools_conn_id, s.fail_when_not_run, s.max_consecutive_errors) == ("lt_prod", True, 4)
    assert s.hook.protocol_options == {"fail_when_not_run": True}
    with pytest.raises(ValueError, match="max_consecutive_errors"):
        sensor(max_consecutive_errors=0)


def done(payload):
    return DocStatus(vendor="leadtools", ref={"file_id": FILE_ID}, state=State.SUCCEEDED, vendor_status="200",
                     message="done", payload=payload)


def test_execute_complete_returns_the_payload_and_is_idempotent():
    event = events.success_event(done([{"RecognitionType": "Text"}]))
    ti = FakeTaskInstance()
    first = sensor().execute_complete({"ti": ti}, event)
    again = sensor().execute_complete({"ti": ti}, event)
    assert first == again == [{"RecognitionType": "Text"}]
    assert ti.pushed["docstatus"]["state"] == "succeeded"


def test_execute_complete_raises_the_right_exception_for_each_outcome():
    failed = DocStatus(vendor="leadtools", ref={"file_id": FILE_ID}, state=State.FAILED, vendor_status="502",
                       message="rejected by verification")
    with pytest.raises(AirflowFailException, match="status 502: rejected by verification"):
        sensor().execute_complete({}, events.failed_event(failed))
    with pytest.raises(AirflowSensorTimeout, match="deadline"):
        sensor().execute_complete({}, events.timeout_event("deadline passed", None))
    with pytest.raises(AirflowFailException, match="HTTP 401"):
        sensor().execute_complete({}, events.error_event("auth", "HTTP 401 from 'x'"))
    with pytest.raises(AirflowException, match="in a row") as caught:
        sensor().execute_complete({}, events.error_event("exhausted", "10 transient errors in a row"))
    assert not isinstance(caught.value, AirflowFailException)  # Airflow's own retries may still apply
    with pytest.raises(AirflowException, match="unknown status"):
        sensor().execute_complete({}, {"status": "bogus"})


class FakeStateStore:
    """Airflow 3.3's task state store, as a dict."""

    def __init__(self):
        self.values = {}

    def get(self, key, default=None):
        return self.values.get(key, default)

    def set(self, key, value, *, retention=None):
        self.values[key] = value

    def delete(self, key):
        self.values.pop(key, None)


class FailingHook:
    def __init__(self, outcomes):
        self.outcomes = list(outcomes)

    def check_deferrable(self):
        pass

    def check_status(self, **ids):
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


def poke_in_a_new_process(store, outcome, try_number=1, **kwargs):
    """One reschedule-mode poke, on a fresh operator, as after a reschedule."""
    fresh = sensor(mode="reschedule", **kwargs)
    fresh.__dict__["hook"] = FailingHook([outcome])
    ti = FakeTaskInstance()
    ti.try_number = try_number
    return fresh.poke({"ti": ti, "task_state_store": store})


def test_reschedule_mode_keeps_the_error_count_between_pokes_in_the_task_state_store():
    from airflow_docstatus.engine.errors import TransientError
    from airflow_docstatus.engine.sensor import ERRORS_STATE_KEY

    store = FakeStateStore()
    waiting = DocStatus(vendor="leadtools", ref={"file_id": FILE_ID}, state=State.WAITING, vendor_status="100")
    assert poke_in_a_new_process(store, TransientError("HTTP 502"), max_consecutive_errors=3) is False
    assert poke_in_a_new_process(store, TransientError("HTTP 503"), max_consecutive_errors=3) is False
    # the count of this try and the last error's text, so a timeout in a later reschedule can name it
    assert store.values == {ERRORS_STATE_KEY: {"try_number": 1, "in_row": 2, "last": "HTTP 503"}}
    assert poke_in_a_new_process(store, waiting, max_consecutive_errors=3) is False  # a success resets it
    assert ERRORS_STATE_KEY not in store.values  # (the progress line's state is kept beside it: its own test)
    for _ in range(2):
        poke_in_a_new_process(store, TransientError("HTTP 500"), max_consecutive_errors=3)
    with pytest.raises(AirflowException, match="3 transient errors in a row; the last: HTTP 500"):
        poke_in_a_new_process(store, TransientError("HTTP 500"), max_consecutive_errors=3)


def test_a_retry_does_not_inherit_the_error_count_of_the_try_that_gave_up():
    """The task state store outlives the try; the count must not (a retry would give up at its first error)."""
    from airflow_docstatus.engine.errors import TransientError

    store = FakeStateStore()
    for _ in range(2):
        poke_in_a_new_process(store, TransientError("HTTP 503"), max_consecutive_errors=3)
    with pytest.raises(AirflowException, match="3 transient errors in a row"):
        poke_in_a_new_process(store, TransientError("HTTP 503"), max_consecutive_errors=3)
    assert poke_in_a_new_process(store, TransientError("HTTP 503"), try_number=2, max_consecutive_errors=3) is False
    assert poke_in_a_new_process(store, TransientError("HTTP 503"), try_number=2, max_consecutive_errors=3) is False


def test_poke_mode_keeps_the_count_on_the_operator_and_leaves_the_store_alone():
    from airflow_docstatus.engine.errors import TransientError

    store = FakeStateStore()
    poker = sensor(mode="poke", max_consecutive_errors=2)
    poker.__dict__["hook"] = FailingHook([TransientError("HTTP 502"), TransientError("HTTP 502")])
    context = {"ti": FakeTaskInstance(), "task_state_store": store}
    assert poker.poke(context) is False
    with pytest.raises(AirflowException, match="2 transient errors in a row"):
        poker.poke(context)
    assert store.values == {}


def test_deferring_hands_the_backoff_arguments_to_the_trigger(monkeypatch):
    deferred = {}
    s = sensor(deferrable=True, poke_interval=5, timeout=600, exponential_backoff=True, max_wait=45)
    monkeypatch.setattr(s, "defer", lambda **kwargs: deferred.update(kwargs))
    s._defer()
    kwargs = deferred["trigger"].serialize()[1]
    assert (kwargs["exponential_backoff"], kwargs["max_wait"], kwargs["poll_interval"]) == (True, 45.0, 5.0)
    assert kwargs["poll_immediately"] is False


def test_the_error_count_carries_over_from_the_first_poke_to_the_trigger(monkeypatch):
    """Issue 12, item 8: a first poke that fails hands "1 of N" on; the trigger goes on from there."""
    from airflow_docstatus.engine.errors import TransientError

    deferred = {}
    s = sensor(deferrable=True, poke_interval=5, timeout=600, max_consecutive_errors=4)
    s.__dict__["hook"] = FailingHook([TransientError("GET http://vendor/Query failed to connect (ConnectionError)")])
    monkeypatch.setattr(s, "defer", lambda **kwargs: deferred.update(kwargs))
    s.execute({"ti": FakeTaskInstance()})
    trigger = deferred["trigger"]
    kwargs = trigger.serialize()[1]
    assert kwargs["errors_in_row"] == 1
    assert kwargs["last_error"] == "GET http://vendor/Query failed to connect (ConnectionError)"
    assert type(trigger)(**kwargs).errors_in_row == 1  # survives a triggerer restart
    assert trigger.end_time == pytest.approx(s._deadline)


def test_a_poke_mode_timeout_names_the_deadline_the_last_status_and_the_last_error():
    from airflow_docstatus.engine.errors import TransientError

    s = sensor(mode="poke", poke_interval=0.1, timeout=0.3)
    waiting = DocStatus(vendor="leadtools", ref={"file_id": FILE_ID}, state=State.WAITING, vendor_status="100")
    s.__dict__["hook"] = FailingHook([waiting] + [TransientError("HTTP 503 from the vendor")] * 50)
    with pytest.raises(AirflowSensorTimeout) as caught:
        s.execute({"ti": FakeTaskInstance()})
    message = str(caught.value)
    assert message.startswith("Sensor has timed out: the deadline ")
    assert "last seen: leadtools file_id=" in message and "status=100" in message
    assert message.endswith("; last error: HTTP 503 from the vendor")


def test_without_a_task_state_store_reschedule_mode_counts_per_poke_and_says_so(capsys):
    """Airflow before 3.3 gives no ``task_state_store``: each reschedule counts afresh, with a warning."""
    from airflow_docstatus.engine.errors import TransientError

    def poke_without_a_store():
        fresh = sensor(mode="reschedule", max_consecutive_errors=2)
        fresh.__dict__["hook"] = FailingHook([TransientError("HTTP 503")])
        return fresh.poke({"ti": FakeTaskInstance()})

    for _ in range(3):  # three errors in a row, but never two within one process: never gives up
        assert poke_without_a_store() is False
    out = capsys.readouterr().out
    assert out.count("this Airflow has no task state store (Airflow 3.3+)") == 3
    assert "max_consecutive_errors (2) cannot end the wait; the timeout does" in out
    # with a store (Airflow 3.3) no such warning
    poke_in_a_new_process(FakeStateStore(), TransientError("HTTP 503"), max_consecutive_errors=2)
    assert "no task state store" not in capsys.readouterr().out


# -- the deferrable first poke: soft_fail, never_fail, silent_fail as the task SDK's sensor ------
@pytest.mark.parametrize(
    ("flags", "raised", "expected"),
    [
        ({"soft_fail": True}, AirflowFailException("failed"), "skip"),
        ({"never_fail": True}, AirflowFailException("failed"), "skip"),
        ({"soft_fail": True}, AirflowSensorTimeout("late"), "skip"),
        ({}, AirflowFailException("failed"), AirflowFailException),
        ({"never_fail": True}, RuntimeError("boom"), "skip"),
        ({"silent_fail": True}, RuntimeError("boom"), "defer"),
        ({"soft_fail": True}, RuntimeError("boom"), RuntimeError),  # soft_fail covers failures only, as the SDK
        ({}, RuntimeError("boom"), RuntimeError),
    ],
)
def test_the_deferrable_first_poke_handles_exceptions_as_the_sdk_sensor(monkeypatch, flags, raised, expected):
    from airflow_docstatus._compat import AirflowSkipException

    deferred = {}
    s = sensor(deferrable=True, poke_interval=5, timeout=600, **flags)
    monkeypatch.setattr(s, "poke", lambda context: (_ for _ in ()).throw(raised))
    monkeypatch.setattr(s, "defer", lambda **kwargs: deferred.update(kwargs))
    if expected == "skip":
        with pytest.raises(AirflowSkipException):
            s.execute({"ti": FakeTaskInstance()})
    elif expected == "defer":
        s.execute({"ti": FakeTaskInstance()})
        assert "trigger" in deferred
    else:
        with pytest.raises(expected):
            s.execute({"ti": FakeTaskInstance()})
        assert deferred == {}


def test_the_deferrable_first_poke_lets_transient_errors_exhausted_through_silent_fail_to_the_trigger(monkeypatch):
    from airflow_docstatus.engine.errors import TransientError

    deferred = {}
    s = sensor(deferrable=True, poke_interval=5, timeout=600, max_consecutive_errors=1, silent_fail=True)
    s.__dict__["hook"] = FailingHook([TransientError("HTTP 503")])
    monkeypatch.setattr(s, "defer", lambda **kwargs: deferred.update(kwargs))
    s.execute({"ti": FakeTaskInstance()})
    assert "trigger" in deferred


def test_start_from_trigger_needs_a_triggerer_that_renders_templates(capsys):
    """Before Airflow 3.3 the triggerer renders no trigger templates: start_from_trigger is turned off, with a
    warning, and the sensor is a deferrable one (a worker pokes once, then defers)."""
    from tests._compat import TRIGGER_TEMPLATES

    s = LeadtoolsQuerySensor(task_id="sft", file_id="{{ dag_run.conf['file_id'] }}", start_from_trigger=True)
    out = capsys.readouterr().out
    assert s.deferrable is True
    assert s.start_from_trigger is TRIGGER_TEMPLATES
    assert (s.start_trigger_args is not None) is TRIGGER_TEMPLATES
    warned = "sft: this Airflow's triggerer does not render a trigger's templates (Airflow 3.3+)"
    assert (warned in out) is (not TRIGGER_TEMPLATES)
