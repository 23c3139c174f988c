"""What a vendor's classes must agree on, checked once when each class is created.

The engine's base classes call these from ``__init_subclass__``, so a vendor
class that breaks the contract fails with a ``TypeError`` naming the class and
what is missing when its module is imported (at DAG parse time at the latest),
not on the first poll in production:

- a hook's ``protocol_class``, a sensor's, operator's or trigger's ``hook_class``
  is the class its generic parameter names or a subclass of it
  (``class LeadtoolsHook(DocStatusHook[LeadtoolsProtocol])``);
- a sensor's ``template_fields`` hold each id of its protocol (``id_fields``) and
  its connection argument (the hook's ``conn_name_attr``); an operator's hold its
  connection argument (its ids come from its start call, not from arguments);
- the trigger a sensor or operator defers to (``trigger_class_path``) polls with
  the same hook: ``trigger_class.hook_class is hook_class``.

The last check needs the trigger class, and importing a trigger module at
sensor import time would load Airflow's trigger machinery into every DAG parse.
So it is made when the second of the two classes is created: at once if the
trigger's module is loaded already, else when the trigger class is defined
(``trigger_defined``). ``check_vendor_classes`` makes every check at once,
importing the trigger, for tests and tools.

Only the standard library is imported here.
"""

from __future__ import annotations

import sys
import typing
import weakref
from collections.abc import Iterable
from typing import Any

# Sensor and operator classes whose trigger class was not created yet, by its dotted path.
_AWAITING: dict[str, weakref.WeakSet[type[Any]]] = {}


def generic_argument(cls: type[Any], base: type[Any]) -> type[Any] | None:
    """The class given for ``base``'s type parameter in ``cls``'s ancestry (``Base[Arg]``), or None.

    None when no ancestor of ``cls`` names a class for it (``class X(Base)``,
    or only a type variable).
    """
    for klass in cls.__mro__:
        for alias in klass.__dict__.get("__orig_bases__", ()):
            origin = typing.get_origin(alias)
            if not (isinstance(origin, type) and issubclass(origin, base)):
                continue
            for arg in typing.get_args(alias)[:1]:
                if isinstance(arg, type):
                    return arg
    return None


def check_parameter(cls: type[Any], base: type[Any], attribute: str) -> None:
    """Raise ``TypeError`` unless ``cls.<attribute>`` is the generic parameter's class or a subclass of it."""
    value = getattr(cls, attribute, None)
    expected = generic_argument(cls, base)
    if value is None or expected is None:
        return
    if not (isinstance(value, type) and issubclass(value, expected)):
        raise TypeError(
            f"{cls.__qualname__}: `{attribute}` is {_name(value)}, which is not {expected.__qualname__} "
            f"(the class given as {base.__qualname__}[{expected.__qualname__}]) nor a subclass of it"
        )


def check_template_fields(cls: type[Any], *, ids: bool) -> None:
    """Raise ``TypeError`` unless ``cls.template_fields`` holds the connection argument (and, with ``ids``, each id).

    The fields a task renders are the ones a DAG author may template, and the
    ones the triggerer renders for a trigger started by the scheduler: an id
    or connection argument left out could never be a template there.
    """
    hook = getattr(cls, "hook_class", None)
    if hook is None:
        return
    protocol = getattr(hook, "protocol_class", None)
    required = [*(getattr(protocol, "id_fields", ()) if ids else ()), getattr(hook, "conn_name_attr", None)]
    fields = set(getattr(cls, "template_fields", ()) or ())
    missing = [name for name in required if name is not None and name not in fields]
    if missing:
        raise TypeError(
            f"{cls.__qualname__}: `template_fields` must hold {', '.join(repr(name) for name in missing)} "
            f"({'ids of ' + protocol.__qualname__ + ' and ' if ids and protocol else ''}"
            f"the connection argument of {hook.__qualname__}), got {tuple(getattr(cls, 'template_fields', ()))!r}"
        )


def check_trigger(cls: type[Any]) -> None:
    """Check that ``cls``'s trigger polls with ``cls.hook_class``, now if the trigger class exists, else later."""
    path = getattr(cls, "trigger_class_path", None)
    if getattr(cls, "hook_class", None) is None or not path:
        return
    module, _, name = path.rpartition(".")
    loaded = sys.modules.get(module)
    trigger = getattr(loaded, name, None) if loaded is not None else None
    if trigger is None:
        _AWAITING.setdefault(path, weakref.WeakSet()).add(cls)
        return
    _same_hook(cls, trigger)


def trigger_defined(trigger: type[Any]) -> None:
    """A trigger class was created: check the sensors and operators that were waiting for it."""
    for cls in list(_AWAITING.pop(f"{trigger.__module__}.{trigger.__qualname__}", ())):
        _same_hook(cls, trigger)


def check_vendor_classes(classes: Iterable[type[Any]]) -> None:
    """Every check, for each sensor or operator class in ``classes``, importing its trigger class."""
    from airflow_docstatus._compat import import_string

    for cls in classes:
        check_template_fields(cls, ids=getattr(cls, "ids_are_arguments", True))
        trigger = import_string(cls.trigger_class_path)
        _same_hook(cls, trigger)


def _same_hook(cls: type[Any], trigger: Any) -> None:
    hook = getattr(cls, "hook_class", None)
    theirs = getattr(trigger, "hook_class", None)
    if theirs is not hook:
        raise TypeError(
            f"{cls.__qualname__}: its trigger {cls.trigger_class_path} polls with {_name(theirs)}, "
            f"not with its own hook_class {_name(hook)}: the wait in the triggerer must use the same hook "
            "(point `trigger_class_path` at a trigger whose `hook_class` is this class's)"
        )


def _name(value: Any) -> str:
    return getattr(value, "__qualname__", None) or repr(value)
