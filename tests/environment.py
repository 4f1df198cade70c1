"""Loaded by pytest before Django's settings (`-p tests.environment`): safe test secrets.

A real environment (CI, a developer's shell) may still set its own values.
"""

import os

os.environ.setdefault("JUECE_DEBUG", "true")
os.environ.setdefault("JUECE_AUDIT_KEY", "test-audit-key-0123456789abcdef")
# The test client and pytest-django's live server speak plain http: no redirect to https, no secure-only cookies.
# tests/test_production_settings.py checks the production defaults in their own processes.
os.environ.setdefault("JUECE_HTTPS", "false")
