"""Shared helpers for the test suites (not collected as tests)."""

UNIT_KAFKA = {"kafka_username": "svc-gateway", "kafka_password": "unit-test-never-connects"}
"""Settings for a unit test that builds the gateway app: every Kafka client authenticates, so
the app's clients need a principal even though a unit test never reaches a broker."""
