"""What the public may see of a decision (决策公开, 第十五条、第十八条、第三十二条), and the public's pages of decisions.

The one place that decides it: the public pages here and the JSON API read decisions only through
`published_decisions()`, `open_consultations()` and `public_decision()`, which return querysets and plain
dicts. The public reads a decision once it is published through at least one channel (never one issued
without publication, never one withheld by law), and a decision whose comment notice is open today, of
which it sees the notice and the form, not the record. Commenters appear by name only with their consent
(`comments.public_name`); phone, e-mail, ID number and staff names never leave the ledger.

The pages need no login: the list, a decision, the online comment form (线上参与平台) and its receipt, and
the switch of the larger-text mode for older readers (适老化).
"""

import uuid

from django import forms
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Q
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from decisions import lifecycle
from decisions.accounts.policy import request_address
from decisions.calendar import localdate
from decisions.comment_input import MAX_LENGTHS, normalised, problems
from decisions.models import Comment, CommentPeriod, Decision, DecisionState, Publication
from decisions.profiles import PUBLICATION_CHANNEL_LABELS
from decisions.rules import ProcedureRefused, facts, in_language, source_language
from decisions.services import comments

S = DecisionState
# Published decisions in these states are public (第三十二条); ISSUED_NOT_PUBLIC never is.
PUBLISHED_STATES = (S.PUBLISHED, S.IMPLEMENTING, S.SUSPENDED, S.POST_EVALUATION, S.ADJUSTING, S.STOPPED, S.ARCHIVED)
# A comment per address per hour beyond this is refused: a brake on floods, not on people.
COMMENTS_PER_HOUR = 10
ELDERLY_COOKIE = "juece_elderly"
ELDERLY_COOKIE_AGE = 365 * 24 * 3600
PAGE_SIZE = 50


def _today(today=None):
    return today or localdate(timezone.now())


# -- what the public may see ------------------------------------------------------------------------------


def published_decisions():
    """Return the decisions the public may read: published through a channel and not withheld by law.

    A decision in force that is being re-run after a major adjustment (T27) stays public: its published
    version is still in force (in_force_version).
    """
    published = Publication.objects.filter(decision=OuterRef("pk"), not_public_basis="").exclude(channels=[])
    return (
        Decision.objects.filter(
            Q(state__in=PUBLISHED_STATES) | Q(state__in=lifecycle.RERUN_STATES, in_force_version__isnull=False)
        )
        .exclude(confidential_by_law=True)
        .filter(Exists(published))
    )


def open_consultations(today=None):
    """Return the comment notices (公开征求意见) open to the public today, newest deadline last."""
    return (
        comments.open_periods(_today(today))
        .select_related("stage_record__decision__organ", "stage_record__decision__lead_unit")
        .order_by("deadline_date", "id")
    )


def readable_ids(decision_ids, today=None):
    """Return which of `decision_ids` the public may open: published, or with a notice open today."""
    published = published_decisions().filter(pk__in=decision_ids).values_list("pk", flat=True)
    consulting = open_consultations(today).filter(stage_record__decision__in=decision_ids)
    return set(published) | set(consulting.values_list("stage_record__decision", flat=True))


def _phase(decision):
    """The public phase of a decision: its state's name, or 重大调整 while an adjustment is re-run."""
    if decision.state in lifecycle.RERUN_STATES:
        return str(S.ADJUSTING.label)
    if decision.state == S.CONSULTATION:
        return gettext("公开征求意见")
    return str(S(decision.state).label)


def _channel_labels(codes, other=""):
    labels = [gettext(PUBLICATION_CHANNEL_LABELS.get(code, code)) for code in codes if code != "OTHER"]
    if "OTHER" in codes:
        labels.append(other or gettext("其他"))
    return "、".join(labels)


def _notice(period):
    """What a comment notice publishes (第十五条): dates, channels, how to comment, a shortened period's reason."""
    channels = dict(CommentPeriod.Channel.choices)
    return {
        "id": period.pk,
        "publish_date": period.publish_date,
        "deadline_date": period.deadline_date,
        "channels": "、".join(
            str(channels.get(c, c)) if c != "OTHER" else period.other_channel_text or gettext("其他")
            for c in period.channels
        ),
        "how_to_comment": period.how_to_comment,
        "shortening_reason": period.shortening_reason,
        "includes_draft": period.includes_draft,
        "includes_explanation": period.includes_explanation,
    }


def _publications(decision):
    rows = []
    for publication in decision.publications.filter(not_public_basis="").select_related("final_document"):
        if not publication.channels:
            continue
        document = publication.final_document
        rows.append(
            {
                "published_on": localdate(publication.published_at),
                "channels": _channel_labels(publication.channels),
                "final_document": {"id": document.pk, "title": document.title} if document else None,
            }
        )
    return sorted(rows, key=lambda row: row["published_on"])


def _catalogue_entry(decision):
    entry = facts.catalogue_entry(decision)
    if entry is None or entry.catalogue.version < 1:  # only a published catalogue is public
        return None
    return {
        "catalogue_id": entry.catalogue_id,
        "year": entry.catalogue.year,
        "seq": entry.seq_no,
        "name": entry.name,
    }


def _ledger(decision):
    """The 采纳情况 of the ledger as the adoption statement prints it (names only with consent)."""
    summary = comments.adoption_summary(decision)
    return {
        "periods": summary["periods"],
        "total": summary["total"],
        "counts": summary["counts"],
        "figures": summary["figures"],
        "rows": summary["rows"],
    }


def public_decision(decision, today=None):
    """Return what the public may read of `decision` as a plain dict, or None when it may read nothing.

    A published decision gives its publication, catalogue entry, comment notices and the ledger's 采纳情况;
    a decision whose comment notice is open today gives that notice only (`published` is False).
    """
    open_notices = [_notice(p) for p in open_consultations(today).filter(stage_record__decision=decision)]
    published = published_decisions().filter(pk=decision.pk).exists()
    if not published and not open_notices:
        return None
    shown = {
        "reference": decision.reference,
        "title": decision.title,
        "organ": decision.organ.name,
        "lead_unit": decision.lead_unit.name if decision.lead_unit_id else "",
        "phase": _phase(decision),
        "published": published,
        "open_consultations": open_notices,
        "catalogue_entry": _catalogue_entry(decision),
    }
    if published:
        shown["publications"] = _publications(decision)
        shown["ledger"] = _ledger(decision)
    return shown


# -- the larger-text mode (适老化) ----------------------------------------------------------------------------


def elderly_mode(request):
    """Whether the reader chose the larger-text mode on a public page (a cookie, no login, no JavaScript)."""
    return request is not None and request.COOKIES.get(ELDERLY_COOKIE) == "1"


def display_mode(request):
    """Switch the larger-text mode on or off, remember it in a cookie, and go back to the page it came from."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    wanted = request.POST.get("next", "")
    safe = url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    response = redirect(wanted if safe and wanted else reverse("public:decisions"))
    if request.POST.get("elderly") == "1":
        response.set_cookie(ELDERLY_COOKIE, "1", max_age=ELDERLY_COOKIE_AGE, samesite="Lax", httponly=True)
    else:
        response.delete_cookie(ELDERLY_COOKIE, samesite="Lax")
    return response


# -- the online comment form (线上参与平台) ---------------------------------------------------------------


class OnlineCommentForm(forms.Form):
    """A comment sent by the commenter itself: only what answering it needs (个人信息保护法, 最小必要)."""

    text = forms.CharField(
        label=_("意见内容"),
        widget=forms.Textarea(attrs={"rows": 8}),
        max_length=MAX_LENGTHS["text"],
        error_messages={"required": _("请填写意见内容。")},
    )
    commenter_name = forms.CharField(
        label=_("姓名或名称"),
        required=False,
        max_length=MAX_LENGTHS["commenter_name"],
        help_text=_("可不填；不填的，按“匿名”登记。"),
    )
    commenter_organisation = forms.CharField(
        label=_("单位(可不填)"), required=False, max_length=MAX_LENGTHS["commenter_organisation"]
    )
    phone = forms.CharField(
        label=_("联系电话(可不填)"),
        required=False,
        max_length=MAX_LENGTHS["phone"],
        help_text=_("仅供承办单位就您的意见与您联系。"),
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    email = forms.CharField(
        label=_("电子邮箱(可不填)"),
        required=False,
        max_length=MAX_LENGTHS["email"],
        widget=forms.TextInput(attrs={"autocomplete": "email", "inputmode": "email"}),
    )
    name_public = forms.BooleanField(
        label=_("我同意在意见采纳情况说明中公开我的姓名或名称"),
        required=False,
        help_text=_("不勾选的，公开时显示为“匿名”或“某单位”。"),
    )
    # The one-time token: a form sent twice records one comment (a form without one is still taken once).
    submission = forms.UUIDField(widget=forms.HiddenInput, required=False)
    website = forms.CharField(required=False, label=_("请勿填写此项"))  # a honeypot: people leave it empty

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")  # labels stand above their fields; no colon after a sentence
        super().__init__(*args, **kwargs)

    def clean(self):
        cleaned = super().clean()
        # The ledger's own checks (decisions.comment_input), shown beside the field they concern.
        values = normalised({key: cleaned.get(key, "") for key in ("text", "commenter_name", "phone", "email")})
        named = bool(values["commenter_name"])
        values.update(
            commenter_name=values["commenter_name"] or comments.ANONYMOUS,
            received_on=_today(),
            channel=Comment.Channel.ONLINE_FORM,
        )
        for key, message in problems(values, values["received_on"]):
            if key in self.fields and key not in self.errors:
                self.add_error(key, message)
        if cleaned.get("name_public") and not named:
            self.add_error("name_public", gettext("同意公开姓名或名称的，请填写姓名或名称。"))
        return cleaned

    def full_clean(self):
        super().full_clean()
        # Each field's error is announced with it (WCAG 3.3.1): the input points at its error list.
        for name in self.errors:
            if name in self.fields:
                field = self[name]
                described = [f"{field.auto_id}_error"]
                if field.help_text:
                    described.append(f"{field.auto_id}_helptext")
                self.fields[name].widget.attrs["aria-describedby"] = " ".join(described)

    def service_values(self):
        data = self.cleaned_data
        return {key: data[key] for key in ("text", "commenter_name", "commenter_organisation", "phone", "email")} | {
            "name_public": data["name_public"]
        }


def _address(request):
    return request_address(request) or "unknown"


def _comment_key(request):
    return f"juece:public-comment:{_address(request)}"


def may_comment_now(request):
    """Return False once an address has sent COMMENTS_PER_HOUR comments this hour (the page and the API)."""
    return cache.get(_comment_key(request), 0) < COMMENTS_PER_HOUR


def count_comment(request):
    key = _comment_key(request)
    cache.set(key, cache.get(key, 0) + 1, 3600)


def public_period(period_id):
    """Return a published notice of a decision not withheld by law, open or not; 404 for anything else."""
    return get_object_or_404(
        CommentPeriod.objects.filter(published_at__isnull=False)
        .exclude(stage_record__decision__confidential_by_law=True)
        .select_related("stage_record__decision__organ", "stage_record__decision__lead_unit"),
        pk=period_id,
    )


def comment_form(request, period_id):
    """The online comment form of an open notice; a closed notice says so and takes no comment (第十八条)."""
    period = public_period(period_id)
    decision = period.stage_record.decision
    is_open = open_consultations().filter(pk=period.pk).exists()
    if not is_open and not published_decisions().filter(pk=decision.pk).exists():
        raise Http404("not public")
    sent = request.method == "POST"
    form = OnlineCommentForm(request.POST if sent else None, initial={"submission": uuid.uuid4()})
    status = 200
    if sent and form.is_valid():
        if form.cleaned_data.get("website"):
            return redirect("public:decision", reference=decision.reference)  # a bot filled the honeypot
        if not may_comment_now(request):
            form.add_error(None, gettext("提交过于频繁，请一小时后再试。"))
            status = 429
        else:
            try:
                # The ledger is kept in the source language whatever the page's language.
                with source_language():
                    comment = comments.submit_online_comment(
                        period, token=form.cleaned_data["submission"] or uuid.uuid4(), **form.service_values()
                    )
            except ProcedureRefused as refused:
                for failure in refused.failures:
                    detail = in_language(f"：{failure.detail}", f": {failure.detail}") if failure.detail else ""
                    form.add_error(
                        None,
                        gettext("%(message)s%(detail)s（%(article)s）")
                        % {"message": failure.text, "detail": detail, "article": failure.rule.citation},
                    )
                status = 409
            else:
                count_comment(request)
                return redirect("public:comment_receipt", period_id=period.pk, token=comment.online_token)
    context = {"period": period, "notice": _notice(period), "decision": decision, "form": form, "is_open": is_open}
    return render(request, "decisions/public/comment_form.html", context, status=status)


def comment_receipt(request, period_id, token):
    """The receipt of an online comment: its number in the ledger (序号) and the receipt code."""
    comment = get_object_or_404(
        Comment.objects.select_related("stage_record__decision"), online_token=token, period_id=period_id
    )
    context = {
        "comment": comment,
        "decision": comment.stage_record.decision,
        "receipt_code": comments.receipt_code(comment),
    }
    return render(request, "decisions/public/comment_receipt.html", context)


# -- the decisions' pages --------------------------------------------------------------------------------


def decision_index(request):
    """Published decisions, and the notices open for comment today."""
    decisions = published_decisions().select_related("organ", "lead_unit").order_by("-created_at", "reference")
    page = Paginator(decisions, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [{"decision": d, "phase": _phase(d)} for d in page]
    consultations = [{"period": p, "decision": p.stage_record.decision} for p in open_consultations()]
    return render(request, "decisions/public/index.html", {"page": page, "rows": rows, "consultations": consultations})


def decision_page(request, reference):
    decision = get_object_or_404(Decision.objects.select_related("organ", "lead_unit"), reference=reference)
    shown = public_decision(decision)
    if shown is None:
        raise Http404("not public")
    return render(request, "decisions/public/decision.html", {"shown": shown})


urlpatterns = [
    path("decisions/", decision_index, name="decisions"),
    path("decisions/<str:reference>/", decision_page, name="decision"),
    path("consultations/<int:period_id>/comment/", comment_form, name="comment"),
    path("consultations/<int:period_id>/comment/receipt/<uuid:token>/", comment_receipt, name="comment_receipt"),
    path("display/", display_mode, name="display"),
]
