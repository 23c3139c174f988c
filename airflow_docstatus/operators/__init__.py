"""Operators: start a vendor job and wait for it in the same task (one module per vendor)."""
