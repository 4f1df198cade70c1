"""The procedure's actions over the API: the very form classes of the pages (decisions.actions).

`POST /api/v1/decisions/{reference}/actions/{name}/` binds the action's form to the request's data
and files, checks it field by field (400), and calls the same `run()` → the same one service; a
refusal by a rule is a 409 with its code and article, a role the action does not take is a 403.
Each action is described in the OpenAPI schema with its own fields (a serializer made from the form
for the schema only: validation stays the form's, so there is one set of checks).
"""

from django import forms
from rest_framework import serializers

from decisions import actions
from decisions.actions import UploadField


def _field(form_field):
    """The schema's description of one form field."""
    common = {
        "required": form_field.required,
        "help_text": str(form_field.help_text or form_field.label or ""),
    }
    if isinstance(form_field, (UploadField, forms.FileField)):
        return serializers.FileField(**common)
    if isinstance(form_field, forms.ModelMultipleChoiceField):
        return serializers.ListField(child=serializers.IntegerField(), **common)
    if isinstance(form_field, forms.ModelChoiceField):
        return serializers.IntegerField(**common)
    if isinstance(form_field, forms.MultipleChoiceField):
        if not _choices(form_field):  # choices made per decision
            return serializers.ListField(child=serializers.CharField(), **common)
        return serializers.MultipleChoiceField(choices=_choices(form_field), **common)
    if _plain_choice(form_field) and _choices(form_field):
        return serializers.ChoiceField(choices=_choices(form_field), **common)
    if isinstance(form_field, forms.BooleanField):
        return serializers.BooleanField(required=False, help_text=common["help_text"])
    if isinstance(form_field, forms.DateField):
        return serializers.DateField(**common)
    if isinstance(form_field, forms.IntegerField):
        return serializers.IntegerField(**common)
    return serializers.CharField(allow_blank=not form_field.required, **common)


def _choices(form_field):
    try:
        return [(value, str(label)) for value, label in form_field.choices if value not in ("", None)]
    except TypeError:  # choices made per decision when the form is bound
        return []


def _plain_choice(form_field):
    return isinstance(form_field, forms.ChoiceField) and not isinstance(form_field, forms.ModelChoiceField)


_INPUTS = {}


def form_serializer(name, form_class):
    """Return (and remember) a serializer describing a Django form's fields, for the schema only."""
    if name not in _INPUTS:
        fields = {field_name: _field(field) for field_name, field in form_class.base_fields.items()}
        camel = "".join(part.capitalize() for part in name.replace("_", "-").split("-"))
        _INPUTS[name] = type(f"{camel}Input", (serializers.Serializer,), fields)
    return _INPUTS[name]


def input_serializer(form_class):
    """The schema serializer of an action's form."""
    return form_serializer(form_class.name, form_class)


def describe(form_class, decision=None, roles=()):
    """What a client needs to know of an action: where it is offered and its fields."""
    return {
        "name": form_class.name,
        "label": str(form_class.label),
        "tid": form_class.tid,
        "article": form_class.article,
        "roles": list(form_class.placement.roles),
        "in_place": form_class.in_place(decision) if decision is not None else None,
        "yours": form_class.may(roles),
        "multipart": any(isinstance(f, forms.FileField) for f in form_class.base_fields.values()),
        "fields": [
            {
                "name": name,
                "type": type(field).__name__,
                "required": field.required,
                "label": str(field.label or name),
                "help_text": str(field.help_text or ""),
                "choices": _choices(field) if _plain_choice(field) else [],
            }
            for name, field in form_class.base_fields.items()
        ],
    }


def registry():
    return actions.load()
