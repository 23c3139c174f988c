"""OpenLineage: each operator's inputs and outputs, their names, and no secret in them."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from airflow_docstatus.engine.lineage import LineageDataset, cora_file_dataset, file_dataset, url_dataset
from airflow_docstatus.engine.status import DocStatus, State
from airflow_docstatus.operators.azure_translation import AzureDocumentTranslationOperator
from airflow_docstatus.operators.cora import CoraFileBatchOperator
from airflow_docstatus.operators.expertai import ExpertAiExtractLayoutOperator
from airflow_docstatus.operators.leadtools import LeadtoolsExtractTextOperator
from airflow_docstatus.operators.smartdocumentor import SmartDocumentorProcessTaskOperator
from airflow_docstatus.sensors.azure_translation import AzureDocumentTranslationStatusSensor
from airflow_docstatus.sensors.leadtools import LeadtoolsQuerySensor

SAS = "sv=2024-01-01&sp=rl&sig=SECRETSIG%3D"


def names(datasets) -> list[tuple[str, str]]:
    return [(d.namespace, d.name) for d in datasets]


def facets_of(operator):
    """What the OpenLineage provider gets: the OperatorLineage, as plain dicts."""
    pytest.importorskip("airflow.providers.openlineage")
    from openlineage.client.serde import Serde

    lineage = operator.get_openlineage_facets_on_complete(None)
    return (
        [json.loads(Serde.to_json(d)) for d in lineage.inputs],
        [json.loads(Serde.to_json(d)) for d in lineage.outputs],
    )


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://files.example.com/in/a%20b.pdf?token=SECRET#p2", ("https://files.example.com", "/in/a b.pdf")),
        ("http://user:pw@127.0.0.1:8080/x.pdf", ("http://127.0.0.1:8080", "/x.pdf")),
        ("HTTPS://Files.Example.com", ("https://files.example.com", "/")),
        ("http://[::1]:9/a", ("http://[::1]:9", "/a")),
        (f"https://acct.blob.core.windows.net/src/dir/a.docx?{SAS}", ("wasbs://src@acct.dfs.core.windows.net", "dir/a.docx")),
        (f"https://acct.blob.core.windows.net/target?{SAS}", ("wasbs://target@acct.dfs.core.windows.net", "/")),
        ("https://lake.dfs.core.windows.net/fs/p/q.txt", ("abfss://fs@lake.dfs.core.windows.net", "p/q.txt")),
    ],
)
def test_urls_are_named_as_the_openlineage_spec_names_them_without_query_or_user_info(url, expected):
    dataset = url_dataset(url)
    assert (dataset.namespace, dataset.name) == expected
    assert "SECRET" not in repr(dataset) and "pw" not in repr(dataset)


@pytest.mark.parametrize("value", [None, "", "ftp://host/a", "not a url", 42, "http://[bad"])
def test_what_is_not_an_http_url_is_no_dataset(value):
    assert url_dataset(value) is None


def test_cora_and_file_names(tmp_path):
    ref = {"Connection": "scans", "RelativeLocation": "in\\2026\\", "FileName": "a.tif"}
    assert names([cora_file_dataset(ref)]) == [("cora://scans", "in/2026/a.tif")]
    assert names([cora_file_dataset({"FileName": "b.tif"})]) == [("cora://", "b.tif")]
    assert cora_file_dataset({"Connection": "scans"}) is None
    assert names([file_dataset(tmp_path / "d.pdf")]) == [("file", str(tmp_path / "d.pdf"))]


def test_leadtools_reports_its_file_url():
    operator = LeadtoolsExtractTextOperator(task_id="t", file_url="https://files.example.com/a.pdf?sig=SECRET")
    assert operator.lineage_datasets() == ([LineageDataset("https://files.example.com", "/a.pdf")], [])
    inputs, outputs = facets_of(operator)
    assert [(d["namespace"], d["name"]) for d in inputs] == [("https://files.example.com", "/a.pdf")]
    assert outputs == []
    assert "SECRET" not in json.dumps(inputs)


def test_cora_reports_its_input_and_output_file_even_rendered_as_text():
    operator = CoraFileBatchOperator(
        task_id="t",
        input_file={"Connection": "scans", "RelativeLocation": "in", "FileName": "a.tif"},
        output_file={"Connection": "results", "RelativeLocation": "out", "FileName": "a.xml"},
        ocr_profile="Invoices",
        file_batch_timeout=60,
    )
    operator.output_file = "{'Connection': 'results', 'RelativeLocation': 'out', 'FileName': 'a.xml'}"
    inputs, outputs = operator.lineage_datasets()
    assert names(inputs) == [("cora://scans", "in/a.tif")]
    assert names(outputs) == [("cora://results", "out/a.xml")]


def test_expertai_reports_the_document_by_path_or_by_name(tmp_path):
    path = tmp_path / "invoice.pdf"
    by_path = ExpertAiExtractLayoutOperator(task_id="t", document=str(path))
    assert names(by_path.lineage_datasets()[0]) == [("file", str(path))]
    by_name = ExpertAiExtractLayoutOperator(task_id="t", document=b"%PDF", document_name="invoice.pdf")
    assert names(by_name.lineage_datasets()[0]) == [("expertai", "invoice.pdf")]
    nameless = ExpertAiExtractLayoutOperator(task_id="t", document=b"%PDF")
    assert nameless.lineage_datasets() == ([], [])


def test_azure_reports_source_and_target_per_language_without_the_sas_token():
    operator = AzureDocumentTranslationOperator(
        task_id="t",
        source_url=f"https://acct.blob.core.windows.net/src/a.docx?{SAS}",
        target_url=f"https://acct.blob.core.windows.net/target?{SAS}",
        target_language="fr",
        storage_type="File",
    )
    inputs, outputs = facets_of(operator)
    assert [(d["namespace"], d["name"]) for d in inputs] == [("wasbs://src@acct.dfs.core.windows.net", "a.docx")]
    assert [(d["namespace"], d["name"]) for d in outputs] == [("wasbs://target@acct.dfs.core.windows.net", "/")]
    assert outputs[0]["facets"]["docstatus_translation"]["language"] == "fr"
    text = json.dumps([inputs, outputs])
    assert "SECRETSIG" not in text and "sig=" not in text and "sv=" not in text


def test_the_azure_document_sensor_reports_the_translated_document_once_it_succeeded():
    sensor = AzureDocumentTranslationStatusSensor(
        task_id="t", batch_id="{{ params.b }}", document_id="{{ params.d }}"
    )
    assert sensor.lineage_datasets() == ([], [])
    sensor._succeeded_with = DocStatus(
        vendor="azure_translation", ref={}, state=State.SUCCEEDED, vendor_status="Succeeded",
        payload=f"https://acct.blob.core.windows.net/target/a-fr.docx?{SAS}",
    )
    assert names(sensor.lineage_datasets()[1]) == [("wasbs://target@acct.dfs.core.windows.net", "a-fr.docx")]


def test_sensors_without_documents_and_smartdocumentor_report_nothing():
    sensor = LeadtoolsQuerySensor(task_id="t", file_id="{{ params.f }}")
    assert facets_of(sensor) == ([], [])
    operator = SmartDocumentorProcessTaskOperator(task_id="t", task={"externalId": "x"})
    assert operator.lineage_datasets() == ([], [])


def test_a_lineage_that_cannot_be_worked_out_yields_nothing_and_does_not_raise():
    operator = CoraFileBatchOperator(
        task_id="t", input_file="{{ x }}", output_file="{{ y }}", ocr_profile="p", file_batch_timeout=1
    )
    operator.input_file = "not a dict"  # as a broken template would leave it
    assert facets_of(operator) == ([], [])


def test_importing_the_operators_and_sensors_does_not_import_openlineage():
    modules = [
        f"airflow_docstatus.{kind}.{vendor}"
        for kind in ("operators", "sensors")
        for vendor in ("leadtools", "cora", "expertai", "smartdocumentor", "azure_translation")
    ]
    # Airflow itself reads every provider's info (airflow.providers.openlineage.get_provider_info):
    # what counts is what importing ours adds.
    probe = (
        "import sys, airflow.sdk; before = set(sys.modules); "
        + "; ".join(f"import {m}" for m in modules)
        + "; print(sorted(m for m in set(sys.modules) - before if 'openlineage' in m or m == 'attr'))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]"
