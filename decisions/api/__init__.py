"""The JSON API of the decision engine (Django REST framework, described by drf-spectacular).

Thin like the pages: reading goes through decisions.permissions (the same role cases as the pages),
every change through the same service functions, for actions through the very form classes the pages
use (decisions.actions), so the API can neither skip a rule nor refuse differently. Refusals come back
as JSON with code, article and the message in Chinese and English (errors.py).
"""
