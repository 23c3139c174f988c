"""The dags folder of the private Airflow home, holding every DAG file in ``tests/dags``."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

TEST_DAGS = Path(__file__).resolve().parent.parent / "dags"


@pytest.fixture(scope="session")
def dags_folder(airflow_db):
    folder = airflow_db / "dags"
    folder.mkdir(exist_ok=True)
    for dag_file in TEST_DAGS.glob("*.py"):
        shutil.copy(dag_file, folder)
    return folder
