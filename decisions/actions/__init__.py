"""The forms a person fills in to take a step of the procedure or add to a stage's record (B5, B8).

Each action is one form class, registered with `@action`: its fields are the input of exactly one
service function, which `run()` calls. The form checks the shape of the input (required fields,
dates in order, file type and size) with field-level Chinese messages; everything the law decides is
left to the service and its rule objects, whose refusal the page shows with code and article.

An action says where it belongs: the B5 row it takes (`tid`: roles, states and article come from
decisions.lifecycle.STEPS), or for record-keeping actions the roles and decision states (and, for a
consultation sub-stage, the record's statuses) where it is offered. `offered()` and `may()` read
only that; the service decides again when the form is sent.

The area modules (initiation, consultation, legality, meeting, publication, implementation) hold the
forms; importing this package registers them all.
"""

import importlib
import importlib.util
from dataclasses import dataclass

from django import forms
from django.conf import settings
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from decisions import lifecycle, uploads
from decisions.models import Role, StageStatus
from decisions.rules import in_language
from decisions.services.common import Upload

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
AREAS = ("initiation", "consultation", "comments", "legality", "meeting", "publication", "implementation")

REGISTRY: dict[str, type["ActionForm"]] = {}


@dataclass(frozen=True)
class Placement:
    """Where an action is offered: decision states, sub-stage record statuses, roles."""

    states: tuple
    roles: tuple
    stage: str = ""
    stage_statuses: tuple = ()


def action(name, *, label, tid="", roles=(), states=(), stage="", stage_statuses=(), article="", danger=False):
    """Register a form class as the action `name` (its URL slug)."""

    def wrap(cls):
        if name in REGISTRY:
            raise ValueError(f"action {name!r} is registered twice")
        if not callable(getattr(cls, "run", None)):
            raise TypeError(f"action {name!r} defines no run(user)")
        step = lifecycle.STEPS.get(tid) if tid else None
        cls.name, cls.label, cls.tid, cls.danger = name, label, tid, danger
        cls.article = article or (step.article if step else "")
        cls.placement = Placement(
            states=tuple(states) or (step.sources if step else ()),
            roles=tuple(roles) or (step.roles if step else ()),
            stage=stage,
            stage_statuses=tuple(stage_statuses),
        )
        REGISTRY[name] = cls
        return cls

    return wrap


def load():
    """Import every area module so that all actions are registered (idempotent)."""
    for area in AREAS:
        module = f"decisions.actions.{area}"
        if importlib.util.find_spec(module) is not None:  # an area whose forms are still being written is skipped
            importlib.import_module(module)
    return REGISTRY


class UploadField(forms.FileField):
    """A file that becomes a record of one B8 type; limited in extension and size as the services are (B10)."""

    def __init__(self, doc_type, *, signed=False, sealed=False, **kwargs):
        self.doc_type, self.signed, self.sealed = doc_type, signed, sealed
        kwargs.setdefault(
            "help_text", lazy_format(_("PDF、OFD、Word、WPS、Excel 或图片，不超过 %(mb)d MB"), mb=_max_mb)
        )
        super().__init__(**kwargs)

    def clean(self, data, initial=None):
        uploaded = super().clean(data, initial)
        if uploaded:
            check_file(uploaded)
        return uploaded


def check_file(uploaded):
    """Refuse an upload of a type, size or content the services would not store (forms.ValidationError)."""
    extension = uploaded.name.rsplit(".", 1)[-1].lower() if "." in uploaded.name else ""
    if extension not in settings.JUECE_UPLOAD_EXTENSIONS:
        raise forms.ValidationError(
            _("不接受 .%(ext)s 文件；可上传：%(allowed)s"),
            code="file_type",
            params={
                "ext": extension or "?",
                "allowed": in_language("、", ", ").join(settings.JUECE_UPLOAD_EXTENSIONS),
            },
        )
    if uploaded.size > settings.JUECE_UPLOAD_MAX_BYTES:
        raise forms.ValidationError(_("文件超过 %(mb)d MB 上限"), code="file_size", params={"mb": _max_mb()})
    if uploaded.size == 0:
        raise forms.ValidationError(_("文件为空"), code="file_empty")
    uploaded.seek(0)
    mismatch = uploads.mismatch(uploaded.name, uploaded.read())  # the services' check (B10), shown at the field
    uploaded.seek(0)
    if mismatch:
        raise forms.ValidationError(mismatch.message(), code="file_content")


class RecordsField(forms.ModelMultipleChoiceField):
    """A choice of several records by id; an id no database column can hold is refused as invalid.

    Django passes such an id on to the database, where SQLite raises OverflowError (a server error)
    instead of answering that the choice is not valid.
    """

    def _check_values(self, value):
        for pk in value if isinstance(value, (list, tuple)) else ():
            try:
                number = int(str(pk))
            except ValueError:
                continue  # Django's own check names it
            if not -(2**63) <= number < 2**63:
                raise forms.ValidationError(
                    self.error_messages["invalid_pk_value"], code="invalid_pk_value", params={"pk": pk}
                )
        return super()._check_values(value)


def _max_mb():
    return settings.JUECE_UPLOAD_MAX_BYTES // (1024 * 1024)


def lazy_format(message, **params):
    """Return `message % params`, made when shown (in the page's language); a callable param is called then."""
    return lazy(lambda: str(message) % {k: v() if callable(v) else v for k, v in params.items()}, str)()


class ActionForm(forms.Form):
    """Base of every action: knows its decision and user, turns its files into Uploads, calls one service."""

    name = label = tid = article = ""
    danger = False
    placement = Placement(states=(), roles=())
    # Codes of rules this form's input answers (decisions.progress shows them as "to provide", not as blockers).
    supplies: frozenset = frozenset()
    # The page the form is shown on (not Django's Form.template_name, which renders the form itself).
    page_template = "decisions/action.html"
    do_not_call_in_templates = True  # pages list the action classes themselves

    def __init__(self, *args, decision, user, **kwargs):
        self.decision, self.user = decision, user
        super().__init__(*args, **kwargs)

    # -- where it is offered ------------------------------------------------------------------------

    @classmethod
    def in_place(cls, decision):
        """Return True if the decision stands where this action belongs (state, and sub-stage record)."""
        place = cls.placement
        if place.states and decision.state not in place.states:
            return False
        if place.stage:
            record = decision.current_record(place.stage)
            if record is None or record.frozen_at is not None or record.status not in place.stage_statuses:
                return False
        return True

    @classmethod
    def may(cls, roles):
        """Return True if one of `roles` (the user's roles for the decision) may take this action."""
        return bool(set(cls.placement.roles) & set(roles))

    @classmethod
    def offered(cls, decision, roles):
        return cls.in_place(decision) and cls.may(roles)

    @classmethod
    def role_labels(cls):
        return in_language("、", ", ").join(str(Role(r).label) for r in cls.placement.roles if r in Role.values)

    # -- input ---------------------------------------------------------------------------------------

    @property
    def multipart(self):
        return any(isinstance(f, forms.FileField) for f in self.fields.values())

    def upload(self, name, title=""):
        """Return the Upload for file field `name`, or None if no file was given."""
        uploaded = self.cleaned_data.get(name)
        if not uploaded:
            return None
        field = self.fields[name]
        uploaded.seek(0)
        return Upload(
            doc_type=field.doc_type,
            name=uploaded.name,
            content=uploaded.read(),
            title=title or str(field.label),
            signed=getattr(field, "signed", False),
            sealed=getattr(field, "sealed", False),
        )

    def uploads(self, *names):
        """Return the Uploads of the given file fields (all of them if none named), skipping empty ones."""
        names = names or [n for n, f in self.fields.items() if isinstance(f, UploadField)]
        return [u for u in (self.upload(n) for n in names) if u is not None]

    # run(self, user): call the one service of the action and return what it returns (every action defines it).


class AlreadySubmitted(Exception):
    """The one-time token was used: the first submission's effect stands and is not repeated."""


def run_once(user, decision, name, token, run):
    """Run `run()` unless `token` (a UUID) was already used; the token is kept only if the action took effect.

    The pages send a form's token, the API an Idempotency-Key: a form or a request sent twice acts once.
    """
    from django.db import IntegrityError, transaction

    from decisions.models import FormSubmission

    try:
        with transaction.atomic():
            FormSubmission.objects.create(token=token, user=user, decision=decision, action=name)
            return run()
    except IntegrityError as error:
        if FormSubmission.objects.filter(token=token).exists():
            raise AlreadySubmitted from error
        raise


def offered_actions(decision, roles):
    """Return the actions offered to someone holding `roles` on the decision as it stands, in registry order."""
    load()
    return [cls for cls in REGISTRY.values() if cls.offered(decision, roles)]


OPEN = (StageStatus.IN_PROGRESS,)
PENDING_OR_OPEN = (StageStatus.PENDING, StageStatus.IN_PROGRESS)

__all__ = [
    "DATE_INPUT",
    "OPEN",
    "PENDING_OR_OPEN",
    "REGISTRY",
    "ActionForm",
    "UploadField",
    "action",
    "lazy_format",
    "load",
    "offered_actions",
]
