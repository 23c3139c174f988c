"""Airflow hooks, one module per vendor."""
