"""Loaded only by the worker subprocess of test_worker.py: every WeasyPrint render first sleeps, so that
the test can kill the worker while a render is under way."""

import time

import weasyprint

_write_pdf = weasyprint.HTML.write_pdf


def slow_write_pdf(self, *args, **kwargs):
    time.sleep(60)
    return _write_pdf(self, *args, **kwargs)


weasyprint.HTML.write_pdf = slow_write_pdf
