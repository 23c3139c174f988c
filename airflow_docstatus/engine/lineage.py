"""What a task read and wrote, named as OpenLineage names datasets, without importing OpenLineage.

Operators (and sensors that learn where a result went) describe their inputs
and outputs as ``LineageDataset`` values; ``DocStatusSensor.get_openlineage_facets_on_complete``
turns them into OpenLineage datasets through ``airflow_docstatus.engine.openlineage``,
which is imported only there, only when the OpenLineage provider calls it.

Naming follows the OpenLineage naming spec (namespace ``scheme://authority``, name = path):

- an http(s) URL: namespace ``https://host[:port]``, name the path (``/`` for none);
- an Azure Blob Storage or Data Lake URL (``{account}.blob.core.windows.net`` or
  ``{account}.dfs.core.windows.net``): the spec's WASBS/ABFSS form,
  ``wasbs://{container}@{account}.dfs.core.windows.net`` (or ``abfss://...``), name the
  object key (``/`` for the container itself);
- a file on the worker: namespace ``file``, name the absolute path;
- a Cora SeQuence file reference: namespace ``cora://{Connection}`` (the Cora file
  connection's name, as given in the reference), name ``{RelativeLocation}/{FileName}``.

A URL's query string, fragment and user info never reach a dataset: SAS tokens and
other signatures live there.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

_AZURE_STORAGE = {".blob.core.windows.net": "wasbs", ".dfs.core.windows.net": "abfss"}


@dataclass(frozen=True)
class LineageDataset:
    """One dataset as OpenLineage names it.

    :param namespace: the datasource, ``scheme://authority`` (or ``file``); never a secret.
    :param name: the dataset within it, a path; never a query string.
    :param language: the language the dataset is written in, for a translation's target
        (emitted as the ``docstatus_translation`` dataset facet), or None.
    """

    namespace: str
    name: str
    language: str | None = field(default=None)


def url_dataset(url: Any) -> LineageDataset | None:
    """The dataset at an http(s) URL, or None when ``url`` is not one.

    The query (a SAS token, a signature), the fragment and any user info are dropped.
    """
    if not isinstance(url, str) or not url.strip():
        return None
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if scheme not in ("http", "https") or not host:
        return None
    path = parts.path or "/"
    for suffix, storage_scheme in _AZURE_STORAGE.items():
        if host.endswith(suffix) and host != suffix[1:]:
            account = host[: -len(suffix)]
            container, _, key = path.lstrip("/").partition("/")
            if container:
                # the spec names both with the dfs endpoint
                return LineageDataset(
                    f"{storage_scheme}://{unquote(container)}@{account}.dfs.core.windows.net",
                    unquote(key) or "/",
                )
    authority = host if port is None else f"{host}:{port}"
    if ":" in host:  # an IPv6 literal keeps its brackets
        authority = f"[{host}]" if port is None else f"[{host}]:{port}"
    return LineageDataset(f"{scheme}://{authority}", unquote(path))


def file_dataset(path: Any) -> LineageDataset | None:
    """A file on the worker: namespace ``file``, name its absolute path; None for anything else."""
    if not isinstance(path, (str, os.PathLike)) or not str(path).strip():
        return None
    return LineageDataset("file", os.path.abspath(os.path.expanduser(str(path).strip())))


def cora_file_dataset(reference: Any) -> LineageDataset | None:
    """A Cora file reference (a ``FileReference`` or a dict with ``Connection``,
    ``RelativeLocation``, ``FileName``): namespace ``cora://{Connection}``, name
    ``{RelativeLocation}/{FileName}`` with ``/`` separators. None when it has no file name."""
    if isinstance(reference, Mapping):
        connection, location, name = (reference.get(k) for k in ("Connection", "RelativeLocation", "FileName"))
    else:
        connection, location, name = (
            getattr(reference, k, None) for k in ("connection", "relative_location", "file_name")
        )
    if not isinstance(name, str) or not name.strip():
        return None
    parts = [str(part).replace("\\", "/").strip("/ ") for part in (location, name) if part]
    return LineageDataset(f"cora://{str(connection or '').strip()}", "/".join(p for p in parts if p))
