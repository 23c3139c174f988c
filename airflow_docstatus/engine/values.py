"""Structured arguments (dicts, lists) that a Jinja template rendered as text."""

from __future__ import annotations

import ast
import json
from collections.abc import Mapping
from typing import Any

from airflow_docstatus.engine.errors import InvalidInputError


def is_literal(value: Any) -> bool:
    """A value known at DAG parse time: no Jinja template and no XComArg, nested dicts and lists included."""
    if isinstance(value, str):
        return "{{" not in value
    if isinstance(value, Mapping):
        return all(is_literal(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return all(is_literal(v) for v in value)
    return not hasattr(value, "resolve")  # an XComArg (or another value resolved at run time)


def structured(value: Any, *, name: str, where: str, kind: type | tuple[type, ...] = dict) -> Any:
    """``value`` itself, or the ``kind`` (dict by default) that a template rendered as text.

    A template such as ``"{{ dag_run.conf['meta'] }}"`` renders a dict as
    Python-literal text (``{'WorkflowName': 'x'}``), or as JSON when the DAG
    renders ``tojson``; both are read back here (JSON first, then
    ``ast.literal_eval``, which evaluates literals only, never code).
    Raises ``InvalidInputError`` naming ``where`` and ``name`` when the text is
    neither, or not a ``kind``.
    """
    if not isinstance(value, str):
        return value
    text = value.strip()
    try:
        parsed = json.loads(text)
    except ValueError:
        try:
            parsed = ast.literal_eval(text)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            raise InvalidInputError(
                f"{where}: `{name}` must be a {_names(kind)}, or its JSON or Python-literal text; got {value[:200]!r}"
            ) from None
    if not isinstance(parsed, kind):
        raise InvalidInputError(f"{where}: `{name}` must be a {_names(kind)}, got {type(parsed).__name__}")
    return parsed


def _names(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(k.__name__ for k in kinds)
