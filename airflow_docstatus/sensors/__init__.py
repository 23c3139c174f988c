"""Airflow sensors, one module per vendor."""
