"""What the web UI's end-to-end tests share besides fixtures."""

from __future__ import annotations

PURPOSE = {"purpose_case": "e2e", "purpose_reason": "end-to-end test of the web UI"}
"""The stated purpose the tests read personal data with through the API (the audit requires one)."""

LIVE = 60_000
"""Milliseconds to wait for something that travels through Kafka and the projection."""
