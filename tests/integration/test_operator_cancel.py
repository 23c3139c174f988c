"""Cancel on kill while deferred: the operator's trigger, killed the way Airflow 3.3's triggerer kills it.

The triggerer (``TriggerRunner.run_trigger``) cancels a trigger's asyncio task
with the message ``__airflow_user_action__`` when a person acts on the task
(mark failed, clear, mark success), and only then awaits ``trigger.on_kill()``;
a triggerer restart or a trigger timeout cancels without that message and never
calls it. These tests drive the real trigger against the simulator the same way.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from airflow_docstatus.hooks.azure_translation import AzureDocumentTranslationHook
from airflow_docstatus.operators.azure_translation import AzureDocumentTranslationOperator
from airflow_docstatus.operators.leadtools import LeadtoolsExtractTextOperator
from airflow_docstatus.triggers.azure_translation import AzureTranslationBatchStatusTrigger
from airflow_docstatus.triggers.leadtools import LeadtoolsQueryTrigger
from tests._compat import USER_ACTION_CANCEL_MSG as _USER_ACTION_CANCEL_MSG

SOURCE = "https://simstorage.blob.core.windows.net/cancel-{}/slow?sv=2024&sig=SECRETSIG"
TARGET = "https://simstorage.blob.core.windows.net/target?sv=2024&sig=SECRETSIG"


async def kill_like_the_triggerer(trigger, after: float = 1.5, user_action: bool = True) -> None:
    """Run ``trigger``, then cancel it as the triggerer does and, for a person's action, await ``on_kill``."""

    async def consume():
        async for _ in trigger.run():
            raise AssertionError("the trigger fired an event before it was killed")

    task = asyncio.create_task(consume())
    await asyncio.sleep(after)
    task.cancel(_USER_ACTION_CANCEL_MSG if user_action else None)
    try:
        await task
    except asyncio.CancelledError as cancelled:
        if cancelled.args and cancelled.args[0] == _USER_ACTION_CANCEL_MSG:
            await asyncio.wait_for(trigger.on_kill(), timeout=30)


def start_batch(simulator, name: str) -> str:
    return AzureDocumentTranslationHook().start_translation(SOURCE.format(name), TARGET, "fr")


def operator_trigger(batch_id: str, cancel_on_kill: bool) -> AzureTranslationBatchStatusTrigger:
    """The trigger the operator defers to, built from the operator's own arguments."""
    operator = AzureDocumentTranslationOperator(
        task_id="translate", source_url=SOURCE.format("x"), target_url=TARGET, target_language="fr",
        poll_interval=1, timeout=60, cancel_on_kill=cancel_on_kill, deferrable=True,
    )
    kwargs = operator._extra_trigger_kwargs()
    assert ("cancel_on_kill" in kwargs) is cancel_on_kill
    return AzureTranslationBatchStatusTrigger(
        batch_id=batch_id, poll_interval=1, end_time=time.time() + 60, **kwargs
    )


def batch_status(batch_id: str) -> str:
    from airflow_docstatus.hooks.azure_translation import AzureTranslationBatchHook

    return AzureTranslationBatchHook().check_status(batch_id=batch_id).vendor_status


def test_a_killed_deferred_azure_operator_cancels_its_batch(sim_connections, simulator):
    batch_id = start_batch(simulator, "killed")
    before = simulator.cancel_calls("azure_translation")
    trigger = operator_trigger(batch_id, cancel_on_kill=True)
    assert trigger.serialize()[1]["cancel_on_kill"] is True
    assert "SECRETSIG" not in repr(trigger.serialize())
    asyncio.run(kill_like_the_triggerer(trigger))
    assert simulator.cancel_calls("azure_translation") == before + 1
    assert batch_status(batch_id) in {"Cancelling", "Cancelled"}
    time.sleep(1.2)
    assert batch_status(batch_id) == "Cancelled"


def test_cancel_on_kill_false_and_a_triggerer_restart_leave_the_batch_running(sim_connections, simulator):
    batch_id = start_batch(simulator, "kept")
    before = simulator.cancel_calls("azure_translation")
    asyncio.run(kill_like_the_triggerer(operator_trigger(batch_id, cancel_on_kill=False)))
    asyncio.run(kill_like_the_triggerer(operator_trigger(batch_id, cancel_on_kill=True), user_action=False))
    assert simulator.cancel_calls("azure_translation") == before
    assert batch_status(batch_id) in {"NotStarted", "Running"}


def test_a_sensors_trigger_never_cancels(sim_connections, simulator):
    batch_id = start_batch(simulator, "watched")
    before = simulator.cancel_calls("azure_translation")
    trigger = AzureTranslationBatchStatusTrigger(batch_id=batch_id, poll_interval=1, end_time=time.time() + 60)
    assert "cancel_on_kill" not in trigger.serialize()[1]
    asyncio.run(kill_like_the_triggerer(trigger))
    assert simulator.cancel_calls("azure_translation") == before


def test_a_vendor_with_no_cancel_call_says_the_job_runs_on(sim_connections, simulator, capsys, caplog):
    from airflow_docstatus.hooks.leadtools import LeadtoolsHook

    file_id = LeadtoolsHook().extract_text("https://files.example.com/cancel/slow.pdf")
    trigger = LeadtoolsQueryTrigger(file_id=file_id, poll_interval=2, end_time=time.time() + 60, cancel_on_kill=True)
    with caplog.at_level("INFO"):
        asyncio.run(kill_like_the_triggerer(trigger, after=0.5))
    captured = capsys.readouterr()
    assert "job runs on: LEADTOOLS has no cancel call" in captured.out + captured.err + caplog.text


def test_on_kill_in_the_worker_cancels_only_a_started_unfinished_job(sim_connections, simulator):
    """``on_kill`` on the worker, as the task runner calls it, with the ref the operator adopted at start."""
    batch_id = start_batch(simulator, "worker")
    before = simulator.cancel_calls("azure_translation")
    operator = AzureDocumentTranslationOperator(
        task_id="translate", source_url=SOURCE.format("y"), target_url=TARGET, target_language="fr", cancel_on_kill=False,
    )
    operator._job_ref = {"batch_id": batch_id}
    operator.on_kill()
    assert simulator.cancel_calls("azure_translation") == before
    operator.cancel_on_kill = True
    operator.on_kill()
    assert simulator.cancel_calls("azure_translation") == before + 1


@pytest.mark.parametrize("operator_class", [LeadtoolsExtractTextOperator])
def test_on_kill_before_any_start_calls_nothing(operator_class, sim_connections, simulator):
    operator = operator_class(task_id="ocr", file_url="https://files.example.com/a.pdf")
    operator.on_kill()  # nothing started: nothing to cancel, no call
