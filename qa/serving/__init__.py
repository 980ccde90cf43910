"""Serving: the HTTP API (`api`), access control (`access`), the Python client (`client`) and the
command line (`cli`, run as `python -m qa ask`)."""
