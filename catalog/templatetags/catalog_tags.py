"""Template filters of the catalogue pages: display only, no rules."""

from django import template

from catalog.models import RequiredProcedure
from decisions.rules import in_language

register = template.Library()


@register.filter
def procedures(codes):
    """["PP", "LR", "CD"] → "公众参与、合法性审查、集体讨论决定" (履行程序 as published)."""
    labels = dict(RequiredProcedure.choices)
    return in_language("、", ", ").join(str(labels.get(code, code)) for code in codes or [])
