"""LeadtoolsHook against the simulator, over a real socket."""

from __future__ import annotations

import time

import pytest

from airflow_docstatus.engine.errors import AuthenticationError, InvalidInputError, TransientError
from airflow_docstatus.engine.status import State
from airflow_docstatus.hooks.leadtools import LeadtoolsHook

TEXT = [{"ServiceType": "Recognition", "RecognitionType": "Text", "data": [{"PageNumber": 1, "Text": "hi"}]}]
QUICK = [{"status": 123, "polls": 1}, {"status": 100, "polls": 1}, {"status": 200, "payload": TEXT}]


def test_a_document_goes_from_verification_to_done(sim_connections):
    file_id = sim_connections.create("leadtools", QUICK)
    hook = LeadtoolsHook()
    seen = [hook.check_status(file_id=file_id) for _ in range(3)]
    assert [s.vendor_status for s in seen] == ["123", "100", "200"]
    assert [s.state for s in seen] == [State.WAITING, State.WAITING, State.SUCCEEDED]
    assert seen[-1].payload == TEXT
    assert sim_connections.document("leadtools", file_id)["status_calls"] == 3


@pytest.mark.parametrize("final", [500, 501, 502, 600])
def test_terminal_failures(sim_connections, final):
    file_id = sim_connections.create("leadtools", [{"status": final}])
    status = LeadtoolsHook().check_status(file_id=file_id)
    assert status.state is State.FAILED and status.vendor_status == str(final)


def test_extract_text_starts_a_job_the_simulator_knows(sim_connections):
    hook = LeadtoolsHook()
    file_id = hook.extract_text("https://example.com/scans/invoice.pdf")
    assert hook.check_status(file_id=file_id).vendor_status == "123"
    assert sim_connections.document("leadtools", file_id)["vendor"] == "leadtools"


def test_upload_then_run(sim_connections):
    hook = LeadtoolsHook()
    file_id = hook.upload_file("https://example.com/scans/contract.pdf")
    deadline = time.monotonic() + 5
    status = hook.check_status(file_id=file_id)
    while status.vendor_status != "122" and time.monotonic() < deadline:
        time.sleep(0.1)
        status = hook.check_status(file_id=file_id)
    assert status.vendor_status == "122" and status.state is State.WAITING and status.warning
    hook.queue_extract_text(file_id)
    hook.run(file_id)
    assert hook.check_status(file_id=file_id).vendor_status == "100"


def test_wrong_password_is_an_authentication_error_without_the_secret(connection, simulator):
    file_id = simulator.create("leadtools", QUICK)
    conn_id = connection("lt_wrong", "leadtools", password="canary-wrong-pw-123")
    with pytest.raises(AuthenticationError) as caught:
        LeadtoolsHook(conn_id).check_status(file_id=file_id)
    assert "'lt_wrong'" in str(caught.value) and "HTTP 401" in str(caught.value)
    assert "canary-wrong-pw-123" not in str(caught.value)


def test_unknown_file_is_refused_like_the_vendor_does(sim_connections):
    with pytest.raises(AuthenticationError, match="does not own this file"):
        LeadtoolsHook().check_status(file_id="00000000-0000-0000-0000-000000000001")


def test_malformed_id_fails_before_any_call(sim_connections):
    before = sim_connections.stats()["leadtools"]["status_calls"]
    with pytest.raises(InvalidInputError):
        LeadtoolsHook().check_status(file_id="not-a-guid")
    assert sim_connections.stats()["leadtools"]["status_calls"] == before


@pytest.mark.parametrize(
    ("fault", "words"),
    [
        ({"fault": "http_500"}, "HTTP 500"),
        ({"fault": "http_503"}, "HTTP 503"),
        ({"fault": "http_429", "retry_after": 4}, "HTTP 429"),
        ({"fault": "html"}, "HTTP 502"),
        ({"fault": "garbled"}, "not valid JSON"),
        ({"fault": "reset"}, "failed"),
    ],
)
def test_faults_are_transient(sim_connections, fault, words):
    file_id = sim_connections.create("leadtools", [{"status": 100, **fault, "polls": 1}, {"status": 200, "payload": TEXT}])
    hook = LeadtoolsHook()
    with pytest.raises(TransientError, match=words) as caught:
        hook.check_status(file_id=file_id)
    if "retry_after" in fault:
        assert caught.value.retry_after == 4
    assert hook.check_status(file_id=file_id).state is State.SUCCEEDED


def test_a_slow_answer_times_out_as_a_transient_error(connection, simulator):
    conn_id = connection("lt_impatient", "leadtools", extra={"read_timeout": 0.3})
    file_id = simulator.create("leadtools", [{"status": 100, "fault": "slow", "delay": 2, "polls": 1}, {"status": 100}])
    with pytest.raises(TransientError, match="timed out"):
        LeadtoolsHook(conn_id).check_status(file_id=file_id)


def test_delete_is_refused_while_processing_then_deletes(sim_connections):
    from airflow_docstatus.engine.errors import PermanentError

    file_id = sim_connections.create("leadtools", [{"status": 100, "polls": 1}, {"status": 200, "payload": TEXT}])
    hook = LeadtoolsHook()
    with pytest.raises(PermanentError, match="HTTP 400"):
        hook.delete(file_id)
    assert hook.check_status(file_id=file_id).vendor_status == "100"
    hook.delete(file_id)
    status = hook.check_status(file_id=file_id)
    assert status.vendor_status == "501" and status.state is State.FAILED and status.message == "deleted"
