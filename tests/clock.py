"""A clock the tests set and advance: patched in for `django.utils.timezone.now` (and whatever imports it by name)."""

from datetime import timedelta

from django.utils import timezone


class Clock:
    def __init__(self):
        self.at = timezone.now()

    def __call__(self):
        return self.at

    def timestamp(self):
        return self.at.timestamp()

    def advance(self, **delta):
        self.at += timedelta(**delta)
