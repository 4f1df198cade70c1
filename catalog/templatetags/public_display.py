"""The public pages' display switch (适老化): whether the reader chose the larger-text mode."""

from django import template

from decisions.public import elderly_mode

register = template.Library()


@register.simple_tag(takes_context=True)
def larger_text(context):
    """Return True when the reader's cookie asks for the larger-text mode (set at /public/display/)."""
    return elderly_mode(context.get("request"))
