"""Scripted documents: step advancement, faults and validation, with a fake clock."""

from __future__ import annotations

import base64
import re

import pytest

from airflow_docstatus.simulator.documents import (
    MAX_RECORDED_CALLS,
    REDACTED,
    Document,
    DocumentStore,
    Step,
    VendorConfig,
    basic_auth_matches,
    parse_script,
    script_named_by_filename,
    script_named_by_url,
    step_to_dict,
)


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def int_status(value: object) -> None:
    if not isinstance(value, int):
        raise ValueError(f"status must be an int, got {value!r}")


def make_document(steps: list[dict], clock: FakeClock) -> Document:
    return Document("leadtools", "doc-1", parse_script(steps), clock=clock, wall_clock=lambda: 1.7e9)


def poll(document: Document) -> Step:
    return document.answer_status_call("GET", "/q?id=doc-1", {})


def test_steps_advance_by_seconds():
    clock = FakeClock()
    document = make_document(
        [{"status": 123, "seconds": 1}, {"status": 100, "seconds": 2}, {"status": 200}], clock
    )
    assert poll(document).status == 123
    clock.advance(0.999)
    assert poll(document).status == 123
    clock.advance(0.001)
    assert poll(document).status == 100
    assert document.step_index == 1
    clock.advance(1.5)
    assert poll(document).status == 100
    clock.advance(0.5)
    assert poll(document).status == 200


def test_next_timed_step_starts_when_the_previous_one_ended_not_when_polled():
    clock = FakeClock()
    document = make_document(
        [{"status": 123, "seconds": 1}, {"status": 100, "seconds": 2}, {"status": 200}], clock
    )
    clock.advance(2.5)  # nobody polled at t=1; step 100 started then, not now
    assert poll(document).status == 100
    assert document.step_started == 1001.0
    clock.advance(0.5)  # t=3: 100 ran its 2 s
    assert poll(document).status == 200


def test_long_silence_skips_several_steps_at_once():
    clock = FakeClock()
    document = make_document(
        [{"status": 123, "seconds": 1}, {"status": 100, "seconds": 1}, {"status": 200}], clock
    )
    clock.advance(60)
    assert poll(document).status == 200
    assert document.step_index == 2


def test_steps_advance_by_polls():
    clock = FakeClock()
    document = make_document(
        [{"status": 123, "polls": 2}, {"status": 100, "polls": 1}, {"status": 200}], clock
    )
    assert [poll(document).status for _ in range(5)] == [123, 123, 100, 200, 200]


def test_current_step_does_not_count_polls():
    clock = FakeClock()
    document = make_document([{"status": 123, "polls": 1}, {"status": 200}], clock)
    assert document.current_step().status == 123
    assert document.current_step().status == 123
    assert document.status_calls == 0
    assert poll(document).status == 123
    assert document.current_step().status == 200


def test_last_step_holds_even_when_it_has_a_duration():
    clock = FakeClock()
    document = make_document([{"status": 100, "seconds": 1}, {"status": 500, "polls": 1}], clock)
    clock.advance(5)
    assert [poll(document).status for _ in range(3)] == [500, 500, 500]
    assert document.step_index == 1


def test_timed_and_counted_steps_mix():
    clock = FakeClock()
    document = make_document(
        [{"status": 123, "seconds": 1}, {"fault": "http_503", "polls": 2}, {"status": 200}], clock
    )
    assert poll(document).fault is None
    clock.advance(1)
    first, second, third = poll(document), poll(document), poll(document)
    assert (first.fault, second.fault, third.fault) == ("http_503", "http_503", None)
    assert third.status == 200


def test_fault_steps_inherit_the_previous_status_and_payload():
    steps = parse_script(
        [
            {"status": 200, "payload": [{"x": 1}], "message": "done"},
            {"fault": "garbled", "polls": 1},
            {"fault": "slow", "delay": 0.5},
        ]
    )
    assert steps[1] == Step(status=200, polls=1, payload=[{"x": 1}], message="done", fault="garbled")
    assert steps[2].status == 200 and steps[2].delay == 0.5 and steps[2].payload == [{"x": 1}]


def test_fault_defaults():
    steps = parse_script([{"fault": "http_429"}, {"status": 100, "fault": "slow"}])
    assert steps[0].retry_after == 1 and steps[0].status is None
    assert steps[1].delay == 1.0


def test_hostile_fault_defaults_and_keys():
    steps = parse_script([{"status": 100, "fault": "drip"}, {"fault": "oversized"}, {"fault": "drip", "delay": 0.1},
                          {"fault": "oversized", "size": 4096}, {"fault": "echo_secret"}])
    assert (steps[0].delay, steps[1].size) == (0.4, 2 * 1024 * 1024)
    assert (steps[2].delay, steps[3].size) == (0.1, 4096)
    assert steps[1].status == 100 and steps[4].fault == "echo_secret"


@pytest.mark.parametrize(
    ("steps", "words"),
    [
        ([{"fault": "drip"}], "fault 'drip' needs a 'status'"),
        ([{"fault": "oversized"}], "fault 'oversized' needs a 'status'"),
        ([{"status": 100, "size": 10}], "'size' only goes with fault 'oversized'"),
        ([{"status": 100, "fault": "oversized", "size": 0}], "'size' must be a whole number of bytes"),
        ([{"status": 100, "fault": "oversized", "size": 2 ** 31}], "'size' must be a whole number of bytes"),
        ([{"status": 100, "fault": "oversized", "size": 1.5}], "'size' must be a whole number of bytes"),
        ([{"status": 100, "fault": "drip", "delay": -1}], "'delay' must be a number >= 0"),
        ([{"status": 100, "fault": "html", "delay": 1}], "'delay' only goes with fault 'slow' or 'drip'"),
    ],
)
def test_hostile_faults_are_checked(steps, words):
    with pytest.raises(ValueError, match=re.escape(words)):
        parse_script(steps)


def test_every_fault_kind_is_accepted():
    kinds = ["http_500", "http_502", "http_503", "http_429", "reset", "slow", "html", "garbled",
             "drip", "oversized", "echo_secret"]
    steps = parse_script([{"status": 100}] + [{"fault": kind, "polls": 1} for kind in kinds])
    assert [step.fault for step in steps[1:]] == kinds


def test_status_calls_are_recorded_with_redacted_headers():
    clock = FakeClock()
    document = make_document([{"status": 100}], clock)
    document.answer_status_call(
        "POST", "/leadtools/api/Query?id=doc-1", {"Authorization": "Basic c2VjcmV0", "Accept": "*/*"}
    )
    assert document.status_calls == 1
    call = document.calls[0]
    assert (call.time, call.method, call.path_qs) == (1.7e9, "POST", "/leadtools/api/Query?id=doc-1")
    assert document.last_headers == {"Authorization": REDACTED, "Accept": "*/*"}


def test_recorded_calls_are_capped_but_counted_exactly():
    document = make_document([{"status": 100}], FakeClock())
    for _ in range(MAX_RECORDED_CALLS + 5):
        poll(document)
    assert document.status_calls == MAX_RECORDED_CALLS + 5
    assert len(document.calls) == MAX_RECORDED_CALLS


def test_restart_runs_a_new_script_from_now():
    clock = FakeClock()
    document = make_document([{"status": 122}], clock)
    poll(document)
    clock.advance(10)
    document.restart(parse_script([{"status": 100, "seconds": 1}, {"status": 200}]))
    assert poll(document).status == 100
    clock.advance(1)
    assert poll(document).status == 200
    assert document.status_calls == 3


@pytest.mark.parametrize(
    ("steps", "words"),
    [
        ([], "at least one step"),
        ("default", "must be a list"),
        ([{"status": 100, "sconds": 1}], "unknown key(s) ['sconds']"),
        ([{"status": 100, "fault": "teapot"}], "unknown fault 'teapot'"),
        ([{"status": 100, "seconds": -1}], "'seconds' must be a number >= 0"),
        ([{"status": 100, "seconds": "1"}], "'seconds' must be a number >= 0"),
        ([{"status": 100, "polls": 0}], "'polls' must be an integer >= 1"),
        ([{"status": 100, "polls": 1, "seconds": 1}], "not both"),
        ([{"status": 100, "retry_after": 3}], "'retry_after' only goes with fault 'http_429'"),
        ([{"fault": "http_429", "retry_after": 1.5}], "whole number of seconds"),
        ([{"status": 100, "delay": 3}], "'delay' only goes with fault 'slow'"),
        ([{"fault": "slow", "delay": 1}], "needs a 'status'"),
        ([{"seconds": 1}], "a normal step needs a 'status'"),
        ([{"status": 100}, "oops"], "step 1: must be an object"),
        ([{"status": None}], "must not be null"),
        ([{"status": "100"}], "status must be an int"),
    ],
)
def test_invalid_scripts_are_refused_with_a_clear_message(steps, words):
    with pytest.raises(ValueError) as caught:
        parse_script(steps, check_status=int_status)
    assert words in str(caught.value)


def test_store_creates_replaces_counts_and_resets():
    clock = FakeClock()
    store = DocumentStore(clock=clock, wall_clock=clock)
    first = store.create("leadtools", "a", parse_script([{"status": 100}]))
    assert store.get("leadtools", "a") is first
    assert store.get("expertai", "a") is None
    second = store.create("leadtools", "a", parse_script([{"status": 200}]))
    assert store.get("leadtools", "a") is second and len(store) == 1
    store.counters("leadtools").status_calls += 2
    assert store.counters("leadtools").status_calls == 2
    store.reset()
    assert store.get("leadtools", "a") is None and len(store) == 0
    assert store.counters("leadtools").status_calls == 0


def test_vendor_config_resolves_names_lists_and_the_default():
    config = VendorConfig(
        credentials={"app_id": "a", "password": "p"},
        default_script="default",
        scripts={"default": parse_script([{"status": 200}]), "rejected": parse_script([{"status": 502}])},
        check_status=int_status,
    )
    assert config.resolve_script(None)[0].status == 200
    assert config.resolve_script("rejected")[0].status == 502
    assert config.resolve_script([{"status": 600}])[0].status == 600
    with pytest.raises(ValueError, match="unknown script 'nope'"):
        config.resolve_script("nope")
    with pytest.raises(ValueError, match="status must be an int"):
        config.resolve_script([{"status": "x"}])
    with pytest.raises(ValueError, match="default_script 'missing'"):
        VendorConfig(credentials={}, default_script="missing", scripts={})


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.com/rejected.pdf", "rejected"),
        ("https://example.com/a/b/failed.tif?sig=1#x", "failed"),
        ("https://example.com/Rejected.PDF", "rejected"),
        ("https://example.com/never%5Frun.pdf", "never_run"),
        ("https://example.com/invoice.pdf", None),
        ("https://example.com/", None),
        ("", None),
    ],
)
def test_script_named_by_url(url, expected):
    names = ["default", "rejected", "failed", "never_run"]
    assert script_named_by_url(url, names) == expected


def basic(text: str) -> str:
    return "Basic " + base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (basic("app:secret"), True),
        ("basic " + basic("app:secret")[6:], True),
        (basic("app:secret:with:colons"), False),
        (basic("app:wrong"), False),
        (basic("other:secret"), False),
        (basic("appsecret"), False),
        ("Basic !!!not-base64", False),
        ("Bearer " + basic("app:secret")[6:], False),
        ("", False),
        (None, False),
    ],
)
def test_basic_auth_matches(header, expected):
    assert basic_auth_matches(header, "app", "secret") is expected


def test_basic_auth_password_may_contain_colons():
    assert basic_auth_matches(basic("app:a:b"), "app", "a:b") is True


# -- vendor-specific step keys and file names ----------------------------------------


def _percent(value: object) -> None:
    if not isinstance(value, int) or not 0 <= value <= 100:
        raise ValueError(f"must be 0..100, got {value!r}")


def test_extra_step_keys_are_checked_kept_and_inherited_by_status_less_steps():
    steps = parse_script(
        [{"status": "PROGRESS", "current": 40}, {"fault": "slow", "delay": 0}, {"status": "SUCCESS"}],
        extra_keys={"current": _percent},
    )
    assert steps[0].extra == {"current": 40}
    assert steps[1].status == "PROGRESS" and steps[1].extra == {"current": 40}
    assert steps[2].extra == {}
    assert step_to_dict(steps[0]) == {"status": "PROGRESS", "current": 40}
    with pytest.raises(ValueError, match=r"step 0: 'current': must be 0..100"):
        parse_script([{"status": "PROGRESS", "current": 101}], extra_keys={"current": _percent})
    with pytest.raises(ValueError, match=r"unknown key\(s\) \['current'\]"):
        parse_script([{"status": "PROGRESS", "current": 1}])


def test_vendor_config_passes_its_extra_keys_to_scripts_given_later():
    config = VendorConfig(
        credentials={},
        default_script="default",
        scripts={"default": parse_script([{"status": "PENDING"}])},
        extra_step_keys={"current": _percent},
    )
    assert config.resolve_script([{"status": "PROGRESS", "current": 5}])[0].extra == {"current": 5}


@pytest.mark.parametrize(
    ("name", "expected"),
    [("rejected.pdf", "rejected"), ("scans/Failed.TIF", "failed"), ("C:\\in\\failed.pdf", "failed"),
     ("my file #1.pdf", None), ("", None)],
)
def test_script_named_by_filename(name, expected):
    assert script_named_by_filename(name, ["rejected", "failed"]) == expected


def test_store_lists_a_vendors_documents():
    store = DocumentStore()
    store.create("expertai", "a", parse_script([{"status": "PENDING"}]))
    store.create("leadtools", "b", parse_script([{"status": 100}]))
    store.create("expertai", "c", parse_script([{"status": "PENDING"}]))
    assert [doc.id for doc in store.documents("expertai")] == ["a", "c"]


def test_a_queued_start_fault_loses_the_answer_but_the_job_is_started(sim):
    """``/_sim/start_faults``: the next start call starts its job, then answers with the fault."""
    import requests

    lost = "https://files.example.com/lost/default.pdf"
    queued = requests.post(f"{sim.url}/_sim/start_faults/leadtools", json={"fault": "http_503", "source": lost}, timeout=5)
    assert queued.status_code == 200 and queued.json()["queued"] == 1
    url = f"{sim.url}/leadtools/api/Recognition/ExtractText"
    params = {"fileurl": lost}
    auth = ("sim-leadtools-app", "sim-leadtools-secret")
    other = requests.post(url, params={"fileurl": "https://files.example.com/other/default.pdf"}, auth=auth, timeout=5)
    assert other.status_code == 200
    first = requests.post(url, params=params, auth=auth, timeout=5)
    second = requests.post(url, params=params, auth=auth, timeout=5)
    assert first.status_code == 503 and second.status_code == 200
    starts = requests.get(f"{sim.url}/_sim/starts/leadtools", timeout=5).json()
    assert starts["by_source"]["https://files.example.com/lost/default.pdf"] == 2
    bad = requests.post(f"{sim.url}/_sim/start_faults/leadtools", json={"count": 0, "fault": "slow"}, timeout=5)
    assert bad.status_code == 400
