"""Integration tests share the session's ``platform`` and ``issuer`` from tests/conftest.py."""
