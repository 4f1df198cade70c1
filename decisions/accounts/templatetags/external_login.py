"""The login page's buttons for external sign-in: one per configured provider, none when nothing is configured."""

from django import template

from decisions.accounts import external

register = template.Library()


@register.simple_tag
def external_login_providers():
    return external.configured_providers()
