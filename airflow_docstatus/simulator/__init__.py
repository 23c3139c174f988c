"""The docstatus vendor simulator: one HTTP server imitating the vendors' status APIs.

Run it with ``python -m airflow_docstatus.simulator`` or, in tests, with
``serve_in_thread()``. Provider code never imports this package; it imports
aiohttp only when a server entry point is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import SimulatorServer, ThreadedSimulator, create_app, serve_in_thread

__all__ = ["SimulatorServer", "ThreadedSimulator", "create_app", "serve_in_thread"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import app

        return getattr(app, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
