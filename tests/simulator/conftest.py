"""Fixtures of the simulator tests: one simulator per test module, reset before each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from airflow_docstatus.simulator import serve_in_thread
from airflow_docstatus.simulator.app import ThreadedSimulator


@pytest.fixture(scope="module")
def server() -> Iterator[ThreadedSimulator]:
    with serve_in_thread() as running:
        yield running


@pytest.fixture
def sim(server: ThreadedSimulator) -> Iterator[ThreadedSimulator]:
    """The module's simulator, reset before each test."""
    assert requests.post(f"{server.url}/_sim/reset", timeout=5).status_code == 200
    yield server
