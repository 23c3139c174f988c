"""``LineageDataset`` values as the OpenLineage provider's ``OperatorLineage``.

Imported only from ``get_openlineage_facets_on_complete``, which only the
OpenLineage provider calls: it needs ``apache-airflow-providers-openlineage``
(this provider's ``openlineage`` extra). Nothing else in the provider imports it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attr
from airflow.providers.common.compat.openlineage.facet import Dataset, DatasetFacet
from airflow.providers.openlineage.extractors import OperatorLineage

from airflow_docstatus.engine.lineage import LineageDataset

TRANSLATION_FACET = "docstatus_translation"


@attr.define
class TranslationDatasetFacet(DatasetFacet):
    """The language a translation's target is written in (``docstatus_translation``).

    :param language: the target language code as given to the vendor, e.g. ``fr``.
    """

    language: str

    @staticmethod
    def _get_schema() -> str:
        return "urn:airflow-provider-docstatus:facet:TranslationDatasetFacet:1"


def _dataset(item: LineageDataset) -> Any:
    facets: dict[str, Any] = {}
    if item.language:
        facets[TRANSLATION_FACET] = TranslationDatasetFacet(language=item.language)
    return Dataset(namespace=item.namespace, name=item.name, facets=facets)


def operator_lineage(inputs: Iterable[LineageDataset], outputs: Iterable[LineageDataset]) -> OperatorLineage:
    """An ``OperatorLineage`` with these inputs and outputs, in order, no run or job facets."""
    return OperatorLineage(inputs=[_dataset(d) for d in inputs], outputs=[_dataset(d) for d in outputs])
