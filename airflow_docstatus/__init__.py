"""Airflow hooks, sensors and triggers that wait on document-processing vendors.

Importing this package is cheap on purpose: DAG files import sensor modules on
every parse, so nothing here pulls in requests, aiohttp or zeep.
"""

__version__ = "0.1.0"
