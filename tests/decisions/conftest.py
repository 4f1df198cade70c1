"""Fixtures of the decision tests live in tests/conftest.py (shared with the catalogue tests)."""
