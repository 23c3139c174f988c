"""Airflow triggers, one module per vendor."""
