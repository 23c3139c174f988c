"""The base classes check a vendor's classes when they are created (engine/contract.py): the generic parameter
names the hook (protocol) the class uses, template_fields hold the ids and the connection argument, and the
trigger polls with the same hook. Each check is shown to fire on a bad class, and every shipped class passes."""

from __future__ import annotations

import importlib
import typing
from collections.abc import Sequence

import pytest

from airflow_docstatus.engine import contract
from airflow_docstatus.engine.hook import DocStatusHook
from airflow_docstatus.engine.operator import DocStatusOperator
from airflow_docstatus.engine.sensor import DocStatusSensor
from airflow_docstatus.engine.trigger import DocStatusTrigger
from airflow_docstatus.hooks.expertai import ExpertAiExtractHook
from airflow_docstatus.hooks.leadtools import LeadtoolsHook
from airflow_docstatus.protocols.expertai import ExpertAiExtractProtocol
from airflow_docstatus.protocols.leadtools import LeadtoolsProtocol
from airflow_docstatus.vendors import VENDORS

LEADTOOLS_TRIGGER = "airflow_docstatus.triggers.leadtools.LeadtoolsQueryTrigger"


def _classes(kind: str) -> list[type]:
    found = []
    for vendor in VENDORS.values():
        module = importlib.import_module(vendor.module_path(kind))
        names = {"hooks": [vendor.hook], "sensors": vendor.sensors, "triggers": vendor.triggers,
                 "operators": [vendor.operator]}[kind]
        found += [getattr(module, name) for name in names]
    return found


SENSORS, OPERATORS, TRIGGERS, HOOKS = (_classes(k) for k in ("sensors", "operators", "triggers", "hooks"))


# every shipped class ----------------------------------------------------------------------------
@pytest.mark.parametrize("cls", SENSORS + OPERATORS, ids=lambda c: c.__name__)
def test_every_shipped_sensor_and_operator_passes_every_check(cls):
    contract.check_vendor_classes([cls])  # raises TypeError on a broken contract
    trigger = importlib.import_module(cls.trigger_class_path.rpartition(".")[0])
    assert getattr(trigger, cls.trigger_class_path.rpartition(".")[2]).hook_class is cls.hook_class


@pytest.mark.parametrize("cls", SENSORS + OPERATORS + TRIGGERS, ids=lambda c: c.__name__)
def test_every_shipped_class_names_its_hook_as_its_type_parameter(cls):
    base = next(b for b in (DocStatusOperator, DocStatusSensor, DocStatusTrigger) if issubclass(cls, b))
    assert contract.generic_argument(cls, base) is cls.hook_class
    assert typing.get_origin(cls.__orig_bases__[0]) is base


@pytest.mark.parametrize("cls", HOOKS, ids=lambda c: c.__name__)
def test_every_shipped_hook_names_its_protocol_as_its_type_parameter(cls):
    assert issubclass(cls.protocol_class, contract.generic_argument(cls, DocStatusHook))


def test_no_shipped_class_waits_for_its_trigger_once_the_triggers_are_imported():
    shipped = {f"{c.__module__}.{c.__qualname__}" for c in TRIGGERS}
    assert not shipped & set(contract._AWAITING)


# each check fires ----------------------------------------------------------------------------------
def test_a_sensor_without_an_id_in_its_template_fields_is_refused():
    with pytest.raises(TypeError, match=r"NoIdSensor: `template_fields` must hold 'file_id'"):

        class NoIdSensor(DocStatusSensor[LeadtoolsHook]):
            template_fields: Sequence[str] = ("leadtools_conn_id",)
            hook_class = LeadtoolsHook
            trigger_class_path = LEADTOOLS_TRIGGER


def test_a_sensor_without_its_connection_argument_in_its_template_fields_is_refused():
    with pytest.raises(TypeError, match=r"NoConnSensor: `template_fields` must hold 'leadtools_conn_id'"):

        class NoConnSensor(DocStatusSensor[LeadtoolsHook]):
            template_fields: Sequence[str] = ("file_id",)
            hook_class = LeadtoolsHook
            trigger_class_path = LEADTOOLS_TRIGGER


def test_a_subclass_that_drops_a_template_field_of_a_vendor_sensor_is_refused():
    from airflow_docstatus.sensors.smartdocumentor import SmartDocumentorTaskStatusSensor

    with pytest.raises(TypeError, match=r"Narrowed: `template_fields` must hold 'external_id'"):

        class Narrowed(SmartDocumentorTaskStatusSensor):
            template_fields: Sequence[str] = ("sd_task_id", "smartdocumentor_conn_id")


def test_an_operator_needs_its_connection_argument_templated_but_not_the_ids():
    from airflow_docstatus.operators.leadtools import LeadtoolsExtractTextOperator

    class Fine(LeadtoolsExtractTextOperator):  # no file_id: an operator's ids come from its start call
        template_fields: Sequence[str] = ("file_url", "leadtools_conn_id")

    assert Fine.ids_are_arguments is False
    with pytest.raises(TypeError, match=r"NoConn: `template_fields` must hold 'leadtools_conn_id'"):

        class NoConn(LeadtoolsExtractTextOperator):
            template_fields: Sequence[str] = ("file_url", "first_page", "last_page")


def test_a_sensor_whose_trigger_polls_with_another_hook_is_refused():
    importlib.import_module("airflow_docstatus.triggers.leadtools")  # loaded: checked at once

    class MyLeadtoolsHook(LeadtoolsHook):
        pass

    with pytest.raises(TypeError, match=r"OwnHookSensor: its trigger .*LeadtoolsQueryTrigger polls with LeadtoolsHook"):

        class OwnHookSensor(DocStatusSensor[LeadtoolsHook]):
            template_fields: Sequence[str] = ("file_id", "leadtools_conn_id")
            hook_class = MyLeadtoolsHook
            trigger_class_path = LEADTOOLS_TRIGGER


def test_a_trigger_created_after_its_sensor_is_checked_when_it_is_created():
    # The trigger's module is not loaded when the sensor is created (as at DAG parse time): the check
    # waits for the trigger class, and fires when it is defined.
    path = f"{__name__}.test_a_trigger_created_after_its_sensor_is_checked_when_it_is_created.<locals>.LateTrigger"

    class EarlySensor(DocStatusSensor[LeadtoolsHook]):
        template_fields: Sequence[str] = ("file_id", "leadtools_conn_id")
        hook_class = LeadtoolsHook
        trigger_class_path = path

    assert EarlySensor in contract._AWAITING[path]
    with pytest.raises(TypeError, match=r"EarlySensor: its trigger .*LateTrigger polls with ExpertAiExtractHook"):

        class LateTrigger(DocStatusTrigger[ExpertAiExtractHook]):
            hook_class = ExpertAiExtractHook

    assert path not in contract._AWAITING


def test_a_trigger_created_after_its_sensor_with_the_same_hook_passes():
    path = f"{__name__}.test_a_trigger_created_after_its_sensor_with_the_same_hook_passes.<locals>.LateTrigger"

    class EarlySensor(DocStatusSensor[LeadtoolsHook]):
        template_fields: Sequence[str] = ("file_id", "leadtools_conn_id")
        hook_class = LeadtoolsHook
        trigger_class_path = path

    class LateTrigger(DocStatusTrigger[LeadtoolsHook]):
        hook_class = LeadtoolsHook

    assert path not in contract._AWAITING and LateTrigger.hook_class is EarlySensor.hook_class


def test_a_hook_class_that_is_not_the_type_parameter_is_refused():
    with pytest.raises(TypeError, match=r"Mismatched: `hook_class` is ExpertAiExtractHook, which is not LeadtoolsHook"):

        class Mismatched(DocStatusSensor[LeadtoolsHook]):
            template_fields: Sequence[str] = ("extract_task_id", "expertai_conn_id")
            hook_class = ExpertAiExtractHook  # type: ignore[assignment]
            trigger_class_path = "airflow_docstatus.triggers.expertai.ExpertAiExtractStatusTrigger"

    with pytest.raises(TypeError, match=r"BadTrigger: `hook_class` is ExpertAiExtractHook, which is not LeadtoolsHook"):

        class BadTrigger(DocStatusTrigger[LeadtoolsHook]):
            hook_class = ExpertAiExtractHook  # type: ignore[assignment]


def test_a_protocol_class_that_is_not_the_type_parameter_is_refused():
    with pytest.raises(TypeError, match=r"WrongHook: `protocol_class` is ExpertAiExtractProtocol, which is not Leadtools"):

        class WrongHook(DocStatusHook[LeadtoolsProtocol]):
            protocol_class = ExpertAiExtractProtocol  # type: ignore[assignment]


def test_a_protocol_class_that_subclasses_the_type_parameter_passes():
    from airflow_docstatus.hooks.azure_translation import AzureTranslationBatchHook
    from airflow_docstatus.protocols.azure_translation import AzureBatchStatusProtocol, AzureTranslationProtocol

    assert contract.generic_argument(AzureTranslationBatchHook, DocStatusHook) is AzureTranslationProtocol
    assert AzureTranslationBatchHook.protocol_class is AzureBatchStatusProtocol


def test_the_type_parameter_types_the_hook_of_a_vendor_class():
    # What the generics buy, read at run time: the parameter is the class mypy types `hook` / `protocol` as.
    from airflow_docstatus.sensors.leadtools import LeadtoolsQuerySensor

    assert contract.generic_argument(LeadtoolsQuerySensor, DocStatusSensor) is LeadtoolsHook
    assert contract.generic_argument(LeadtoolsHook, DocStatusHook) is LeadtoolsProtocol
    assert contract.generic_argument(ExpertAiExtractHook, DocStatusHook) is ExpertAiExtractProtocol
