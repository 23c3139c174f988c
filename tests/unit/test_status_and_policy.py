"""The status table, the status record, the poll policy and the error budget."""

from __future__ import annotations

import random

import pytest

from airflow_docstatus.engine.errors import TransientError, TransientErrorsExhausted
from airflow_docstatus.engine.policy import ErrorBudget, PollPolicy
from airflow_docstatus.engine.status import DocStatus, State, StatusTable


def test_table_sorts_statuses_and_applies_the_unknown_rule():
    closed = StatusTable.of(success={"200"}, failure={"500"}, waiting={"100"}, unknown=State.FAILED)
    assert closed.state_of("200") is State.SUCCEEDED
    assert closed.state_of("500") is State.FAILED
    assert closed.state_of("100") is State.WAITING
    assert closed.state_of("777") is State.FAILED
    assert not closed.is_known("777")
    open_ended = StatusTable.of(success={"Done"}, failure={"Broken"}, unknown=State.WAITING, case_sensitive=False)
    assert open_ended.state_of("DONE") is State.SUCCEEDED
    assert open_ended.state_of("anything else") is State.WAITING


def test_table_refuses_a_status_in_two_sets():
    with pytest.raises(ValueError, match="more than one set"):
        StatusTable.of(success={"a"}, failure={"a"})


def test_overrides_win_over_the_defaults():
    table = StatusTable.of(success={"ok"}, failure={"bad", "odd"}, waiting={"wait"})
    moved = table.with_overrides(success={"ok", "odd"})
    assert moved.state_of("odd") is State.SUCCEEDED
    assert moved.state_of("bad") is State.FAILED
    stricter = table.with_overrides(failure={"bad", "wait"})
    assert stricter.state_of("wait") is State.FAILED
    assert stricter.state_of("odd") is State.FAILED  # unknown now, and unknown fails
    with pytest.raises(ValueError, match="both in success and failure"):
        table.with_overrides(success={"x"}, failure={"x"})


def test_record_has_the_api_keys_and_round_trips():
    status = DocStatus(vendor="leadtools", ref={"file_id": "f"}, state=State.SUCCEEDED, vendor_status="200",
                       message="done", payload=[1, 2], retry_after=3.0)
    record = status.to_record()
    assert set(record) == {"vendor", "ref", "state", "vendor_status", "progress", "message", "checked_at"}
    assert record["state"] == "succeeded"
    assert record["checked_at"].endswith("+00:00")
    again = DocStatus.from_record(record, payload=[1, 2])
    assert again.to_record() == record and again.payload == [1, 2]


def test_policy_waits_the_interval_and_never_less_than_the_floor():
    policy = PollPolicy(interval=1.0, floor=2.0)
    assert policy.next_delay() == 2.0
    assert PollPolicy(interval=5.0, floor=2.0).next_delay() == 5.0


def test_policy_honours_retry_after_but_not_past_the_deadline():
    policy = PollPolicy(interval=5.0)
    assert policy.next_delay(retry_after=30.0) == 30.0
    assert policy.next_delay(retry_after=30.0, remaining=12.0) == 12.0
    assert policy.next_delay(remaining=-3.0) == 0.0


def test_policy_backs_off_exponentially_with_jitter_up_to_the_cap():
    policy = PollPolicy(interval=2.0, error_backoff_cap=20.0)
    rng = random.Random(7)
    delays = [policy.next_delay(errors_in_row=n, rng=rng) for n in range(1, 7)]
    assert delays[0] >= 2.0
    for n, delay in enumerate(delays, start=1):
        ceiling = min(20.0, 2.0 * 2 ** (n - 1))
        assert max(2.0, ceiling * 0.5) <= delay <= ceiling
    assert delays[-1] >= 10.0


def test_policy_interval_backs_off_only_when_asked_and_never_below_the_interval():
    fixed = PollPolicy(interval=5.0)
    assert [fixed.interval_after(n) for n in range(1, 5)] == [5.0] * 4
    grows = PollPolicy(interval=5.0, backoff=True, max_interval=30.0)
    assert [grows.interval_after(n) for n in range(1, 7)] == [5.0, 10.0, 20.0, 30.0, 30.0, 30.0]
    assert PollPolicy(interval=5.0, backoff=True).interval_after(100) == 300.0  # the default cap
    assert PollPolicy(interval=5.0, backoff=True, max_interval=1.0).interval_after(3) == 5.0
    assert PollPolicy(interval=1.0, floor=2.0).shortest == 2.0


def test_budget_fails_on_the_limit_and_resets_on_success():
    budget = ErrorBudget(limit=3)
    budget.failed(TransientError("one"))
    budget.failed(TransientError("two"))
    budget.succeeded()
    assert budget.in_row == 0
    budget.failed(TransientError("a"))
    budget.failed(TransientError("b"))
    with pytest.raises(TransientErrorsExhausted, match="3 transient errors in a row; the last: c"):
        budget.failed(TransientError("c"))
    with pytest.raises(ValueError):
        ErrorBudget(limit=0)
