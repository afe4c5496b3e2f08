"""Shared helpers for the test suites (not collected as tests)."""
