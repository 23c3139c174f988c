"""The polling engine shared by every vendor.

- ``status``: the normalized status record and the status tables.
- ``errors``: the typed errors a poll can end in.
- ``http``: plain request and response records (no I/O).
- ``protocol``: the base class of a vendor protocol (build a request, parse a response).
- ``settings``: connection settings read once from an Airflow Connection.
- ``policy``: how long to wait before the next poll, and the transient-error budget.
- ``progress``: which poll writes a progress line at INFO, and which only at DEBUG.
- ``ceiling``: the connection's ``max_requests_per_second``, shared per event loop and per process.
- ``transport_sync`` / ``transport_async``: requests and aiohttp carriers.
- ``hook``, ``sensor``, ``trigger``: the Airflow base classes every vendor subclasses.
"""
