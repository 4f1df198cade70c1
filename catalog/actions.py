"""The steps of a catalogue and of an adjustment (B9, P20) as forms: each a step of catalog.lifecycle,
its form, and the one service call. The pages (catalog.views) and the API (catalog.api) both take them
from here, so a step is offered, checked and run the same way wherever it is taken."""

from collections.abc import Callable
from dataclasses import dataclass

from catalog import forms, lifecycle, services


def as_upload(form, field="document"):
    return forms.as_upload(form.cleaned_data.get(field), title=form.cleaned_data.get("title", ""))


@dataclass(frozen=True)
class Action:
    """A B9 step offered as a form: the step, its form, and the service call."""

    step: str
    form: type
    run: Callable
    danger: bool = False


CATALOGUE_ACTIONS = {
    "compile": Action(
        "catalogue.compile", forms.UploadForm, lambda u, c, f: services.compile(u, c, compiled_list=as_upload(f))
    ),
    "vet": Action("catalogue.vet", forms.UploadForm, lambda u, c, f: services.vet(u, c, opinion=as_upload(f))),
    "approve": Action(
        "catalogue.approve",
        forms.UploadForm,
        lambda u, c, f: services.approve_by_government(u, c, approval=as_upload(f)),
    ),
    "return": Action(
        "catalogue.return",
        forms.ReasonForm,
        lambda u, c, f: services.return_to_collecting(u, c, reason=f.cleaned_data["reason"]),
        danger=True,
    ),
    "consent": Action(
        "catalogue.consent",
        forms.ConsentForm,
        lambda u, c, f: services.record_party_consent(
            u, c, consent=as_upload(f), issued_on=f.cleaned_data["issued_on"], issued_by=f.cleaned_data["issued_by"]
        ),
    ),
    "non_consent": Action(
        "catalogue.non_consent",
        forms.NonConsentForm,
        lambda u, c, f: services.record_party_non_consent(
            u,
            c,
            reason=f.cleaned_data["reason"],
            document=as_upload(f),
            issued_on=f.cleaned_data["issued_on"],
            issued_by=f.cleaned_data["issued_by"],
        ),
        danger=True,
    ),
    "publish": Action(
        "catalogue.publish",
        forms.PublishForm,
        lambda u, c, f: services.publish(
            u,
            c,
            notice_number=f.cleaned_data["notice_number"],
            notice_date=f.cleaned_data["notice_date"],
            notice_url=f.cleaned_data["notice_url"],
            notice=as_upload(f),
        ),
    ),
    "year_end": Action(
        "catalogue.year_end",
        forms.YearEndForm,
        lambda u, c, f: services.report_year_end(
            u, c, report=as_upload(f), published_on=f.cleaned_data["published_on"]
        ),
    ),
}

ADJUSTMENT_ACTIONS = {
    "review": Action(
        "adjustment.review", forms.UploadForm, lambda u, a, f: services.review_adjustment(u, a, review=as_upload(f))
    ),
    "approve": Action(
        "adjustment.approve", forms.UploadForm, lambda u, a, f: services.approve_adjustment(u, a, approval=as_upload(f))
    ),
    "consent": Action(
        "adjustment.consent",
        forms.ConsentForm,
        lambda u, a, f: services.record_adjustment_consent(
            u, a, consent=as_upload(f), issued_on=f.cleaned_data["issued_on"], issued_by=f.cleaned_data["issued_by"]
        ),
    ),
    "publish": Action(
        "adjustment.publish",
        forms.PublishForm,
        lambda u, a, f: services.publish_adjustment(
            u,
            a,
            notice_number=f.cleaned_data["notice_number"],
            notice_date=f.cleaned_data["notice_date"],
            notice_url=f.cleaned_data["notice_url"],
            notice=as_upload(f),
        ),
    ),
    "reject": Action(
        "adjustment.reject",
        forms.NonConsentForm,
        lambda u, a, f: services.reject_adjustment(u, a, reason=f.cleaned_data["reason"], document=as_upload(f)),
        danger=True,
    ),
}


def offered(actions, obj, roles):
    """The actions whose step the table defines from obj's state and whose roles the user holds."""
    defined = set(lifecycle.steps_from(obj))
    return [
        (name, action, lifecycle.STEPS[action.step])
        for name, action in actions.items()
        if action.step in defined and roles & set(lifecycle.STEPS[action.step].roles)
    ]
