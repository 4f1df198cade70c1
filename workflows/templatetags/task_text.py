"""Template filters of the inbox: what a task's data keeps in Chinese, shown in the page's language.

A task's data is written once, in Chinese (the source language): the steps and parts of work to do,
"；"-joined (workflows.routing), and what its deadline rests on (decisions.deadlines). Pages translate
it when they show it; texts with a number or a stage in them are read back through the form they
were made from, so the catalogue holds one entry per form.
"""

import re

from django import template
from django.utils.translation import gettext

from decisions import deadlines
from decisions.rules import active_language, in_language
from workflows import routing

register = template.Library()

SEPARATOR = "；"
FORMS = (*deadlines.BASES, routing.WAIVER_APPROVAL)


def _pattern(form):
    pieces = re.split(r"%\((\w+)\)s", form)  # text, name, text, name, … text
    body = "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>.+?)" for i, p in enumerate(pieces))
    return re.compile(f"^{body}$")


PATTERNS = [(form, _pattern(form)) for form in FORMS]


def _translate(text):
    if not text:
        return text
    translated = gettext(text)
    if translated != text:
        return translated
    for form, pattern in PATTERNS:
        found = pattern.match(text)
        if found:
            return gettext(form) % {name: gettext(value) for name, value in found.groupdict().items()}
    return text


@register.filter
def task_text(text):
    """Return a task's stored label or deadline basis in the active language, each "；"-joined part translated."""
    if not text or active_language() == "zh":
        return text
    parts, shown, start = text.split(SEPARATOR), [], 0
    while start < len(parts):
        # The longest run of parts that is one known text: a label may hold "；" itself (署名；专业机构盖章).
        for end in range(len(parts), start, -1):
            piece = SEPARATOR.join(parts[start:end])
            translated = _translate(piece)
            if translated != piece or end == start + 1:
                shown.append(translated)
                start = end
                break
    return in_language(SEPARATOR, "; ").join(shown)
