"""Vendor protocols: each vendor's status call as pure data and functions, with no I/O."""
