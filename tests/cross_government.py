"""Two governments that must not see or change each other's record (issue 8).

Government A (甲市) gets a rich record made through the services: a published catalogue with
adjustments, a catalogue being collected with an Excel import, decisions in public participation
(with commenters' personal data), after legality review, decided and published, a bare proposal,
sign-offs, dossiers, an auditor export, the workflow's tasks. Every piece carries a marker: an ASCII
token (so it is found in HTML, JSON with escaped Chinese, and files alike) that is "private" where only
A may read it and "public" where A published it. Two outsiders get a user for every role: an unrelated
city (乙市) and a county under A (甲市东县), which must not read its superior's record either.

`expanded_urls` turns every URL pattern of the project into requests filled with A's objects;
`Snapshot` reads every row so that a request that changed A's record is found.
"""

import base64
import re
import secrets
from dataclasses import dataclass, field

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.db.models import Max
from django.test import TestCase
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from catalog import actions as catalogue_actions
from catalog import imports, services
from catalog import walkthrough as catalogue_walk
from catalog.models import CatalogueAdjustment, CatalogueImport
from decisions import actions as decision_actions
from decisions import calendar, profiles
from decisions.models import (
    AuditEvent,
    Comment,
    Decision,
    DocumentType,
    HearingParticipant,
    Organisation,
    Role,
    RuleProfile,
    WorkingCalendarYear,
)
from decisions.services import comments
from decisions.walkthrough import build_cast, doc
from decisions.walkthrough import consultation as consult
from decisions.walkthrough import initiation as walk
from decisions.walkthrough import legality as legality_walk
from reports import exports
from reports.models import BundleExport, Dossier
from tests.decisions import test_public_pages as public_pages

BUSINESS_ROLES = [r for r in Role.values if r != Role.PUBLIC]
# The apps whose rows make up a government's record (and the queues and devices that act on it).
RECORD_APPS = ("decisions", "catalog", "reports", "workflows", "viewflow", "django_tasks_database", "otp_totp")
# Rows that change with anyone's request and belong to no government: the audit chain's head moves with
# every event (B's own sign-in events too); audit events are compared by what they are about instead.
NOT_COMPARED = {"decisions.chainhead", "decisions.auditevent", "decisions.formsubmission"}


class Markers:
    """Unique ASCII tokens placed in A's record; `private` ones only A may read, `public` ones A published."""

    def __init__(self):
        self.private, self.public = set(), set()

    def _make(self, label, into):
        token = f"X{secrets.token_hex(5)}"
        into.add(token)
        return f"{label}{token}"

    def secret(self, label):
        return self._make(label, self.private)

    def published(self, label):
        return self._make(label, self.public)


@dataclass
class Record:
    a: object  # the Cast of 甲市
    outsiders: dict  # name -> Cast: "peer" (乙市), "below" (甲市东县, under 甲市)
    markers: Markers
    decisions: dict  # name -> Decision
    catalogues: dict  # name -> AnnualCatalogue
    objects: dict = field(default_factory=dict)  # model -> [pk, …] of A's rows
    online_token: str = ""
    user_pk: int = 0

    def pks(self, model):
        return self.objects.get(model, [])

    def references(self):
        return [d.reference for d in self.decisions.values()]


def _existing_pks():
    return {m: set(m.objects.values_list("pk", flat=True)) for m in record_models()}


def record_models():
    return [m for m in apps.get_models() if m._meta.app_label in RECORD_APPS and not m._meta.proxy]


def build_record():
    """Make A's record and the two outsiders through the services; return the Record."""
    profiles.load()
    if not WorkingCalendarYear.objects.exists():
        calendar.load_shipped()
    params = {**profiles.resolved_params("huzhou"), "catalogue_required": False}  # decisions may start directly
    profile = RuleProfile.objects.create(code="huzhou-cross-gov", version=1, name="huzhou-cross-gov", params=params)
    city = Organisation.Level.CITY
    a = build_cast(code="jiashi", name="甲市人民政府", level=city, profile=profile.code)
    outsiders = {
        "peer": build_cast(code="yishi", name="乙市人民政府", level=city, profile=profile.code),
        "below": build_cast(
            code="jiashi-dongxian",
            name="甲市东县人民政府",
            level=Organisation.Level.COUNTY,
            parent=a.organ,
            profile=profile.code,
        ),
    }
    before = _existing_pks()
    markers = Markers()
    lead, office = a[Role.UNDERTAKING_LEAD], a[Role.GOV_OFFICE]
    today = timezone.localdate()
    # Run the after-commit routing, so the workflow's tasks exist as in a committed transaction.
    with TestCase.captureOnCommitCallbacks(execute=True):
        consulting = walk.draft(a, walk.initiate(a, walk.propose(a, title=markers.published("征求意见中"))))
        consult.comment(a, consulting, ended_days_ago=-5)  # the notice is open: its title is public
        comments.add_comment(
            lead,
            consulting,
            text=markers.secret("意见正文"),
            commenter_name=markers.secret("意见人"),
            phone="13955550101",
            email=f"{markers.secret('mail')}@example.cn",
            received_on=today,
            channel=Comment.Channel.EMAIL,
        )
        period = consulting.current_record("PP").comment_periods.get()
        online = comments.submit_online_comment(period, text="网上意见", commenter_name="网友")

        reviewed = walk.draft(a, walk.initiate(a, walk.propose(a, title=markers.secret("合法性审查已完成"))))
        consult.consult(a, reviewed, hearing=True, expert=False, risk=False)
        reviewed = legality_walk.review(a, Decision.objects.get(pk=reviewed.pk))

        published = public_pages.published_with_comments(a)  # a ledger with a commenter who did not consent
        markers.private.update({public_pages.PHONE, public_pages.EMAIL, public_pages.ID_NUMBER, public_pages.PRIVATE})
        proposal = walk.propose(a, title=markers.secret("尚未启动的建议"))

        catalogue = catalogue_walk.publish_catalogue(a, entries=[{"name": markers.published("目录事项")}])
        catalogue_walk.add_to_catalogue(a, catalogue, name=markers.published("调整新增事项"))
        _, data = catalogue_walk.entry_data(a, {"name": markers.secret("拟新增事项")})
        services.propose_adjustment(
            office, catalogue, kind=CatalogueAdjustment.Kind.ADD, reason=markers.secret("调整理由"), data=data
        )
        collecting = services.open_catalogue(
            office,
            a.organ,
            today.year + 1,
            call_for_proposals=doc(DocumentType.OTHER, markers.secret("征集通知")),
            title=markers.secret("下年度目录"),
        )
        _, data = catalogue_walk.entry_data(a, {"name": markers.secret("征集中事项")})
        services.add_entry(office, collecting, **data)
        imports.preview_upload(office, collecting, f"{markers.secret('导入文件')}.xlsx", b"not a workbook")

        export = exports.request_export(a[Role.SUPERVISOR], decision=reviewed)
    # Stand-ins for what the worker makes (rendering PDFs is slow and tested in tests/reports): a finished
    # dossier and a finished export whose stored files carry a private marker.
    dossier = Dossier.objects.filter(decision=reviewed).order_by("pk").first()
    content = f"%PDF-1.4 {markers.secret('案卷')}".encode()
    dossier.file.save("dossier.pdf", ContentFile(content), save=False)
    Dossier.objects.filter(pk=dossier.pk).update(
        status=Dossier.Status.DONE, file=dossier.file.name, sha256="0" * 64, size=len(content), pages=1
    )
    export.file.save("bundle.zip", ContentFile(markers.secret("导出包").encode()), save=False)
    BundleExport.objects.filter(pk=export.pk).update(
        status=BundleExport.Status.DONE, file=export.file.name, label=markers.secret("导出"), sha256="0" * 64
    )
    # A second factor of one of A's people (not the office's: its sign-in stays one-factor for the checks).
    TOTPDevice.objects.create(user=a[Role.ARCHIVIST], name=markers.secret("令牌"), confirmed=True)

    for decision in (reviewed, proposal):
        markers.private.add(decision.reference)
    for decision in (consulting, published):
        markers.public.add(decision.reference)
    record = Record(
        a=a,
        outsiders=outsiders,
        markers=markers,
        decisions={"consulting": consulting, "reviewed": reviewed, "published": published, "proposal": proposal},
        catalogues={"published": catalogue, "collecting": collecting},
        online_token=str(Comment.objects.get(pk=online.pk).online_token),
    )
    for model, existing in before.items():  # whatever was made after the casts is A's
        record.objects[model] = sorted(set(model.objects.values_list("pk", flat=True)) - existing)
    organs = Organisation.objects.filter(pk=a.organ.pk) | a.organ.children.exclude(kind=Organisation.Kind.GOVERNMENT)
    record.objects[Organisation] = list(organs.values_list("pk", flat=True))
    record.objects[get_user_model()] = sorted({u.pk for u in a.users.values()} | {office.pk})
    record.user_pk = office.pk
    assert record.pks(Dossier) and record.pks(CatalogueImport) and record.pks(HearingParticipant)
    return record


# -- every URL pattern, filled with A's objects -------------------------------------------------------


def patterns(resolver=None, prefix=""):
    """Yield (route, callback) of every URL pattern, walking included resolvers (admin, viewflow Site …)."""
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            yield from patterns(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.callback


def admin_model(callback):
    """The model of an admin view (the ModelAdmin wraps its views and keeps itself on them), or None."""
    seen = callback
    while seen is not None:
        owner = getattr(seen, "model_admin", None) or getattr(seen, "__self__", None)
        if getattr(owner, "model", None) is not None:
            return owner.model
        seen = getattr(seen, "__wrapped__", None)
    return None


PARAMETER = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>|\(\?P<(?P<rname>\w+)>[^)]*\)")
# The collection a path names before an integer parameter → the model whose A rows fill it.
COLLECTIONS = {
    "tasks": "viewflow.Task",
    "catalog": "catalog.AnnualCatalogue",
    "catalogues": "catalog.AnnualCatalogue",
    "entries": "catalog.CatalogueEntry",
    "import": "catalog.CatalogueImport",
    "adjustments": "catalog.CatalogueAdjustment",
    "dossiers": "reports.Dossier",
    "exports": "reports.BundleExport",
    "consultations": "decisions.CommentPeriod",
    "documents": "decisions.Document",
    "comments": "decisions.Comment",
    "hearing-participants": "decisions.HearingParticipant",
}
# Slug names whose values a view's own registry lists.
ACTION_NAMES = {
    "decisions.views.decision_action": lambda: sorted(decision_actions.load()),
    "catalog.views.catalogue_act": lambda: sorted(catalogue_actions.CATALOGUE_ACTIONS),
    "catalog.views.adjustment_act": lambda: sorted(catalogue_actions.ADJUSTMENT_ACTIONS),
}
# Parameters that cannot name an A object, filled with a value the route accepts (still requested).
NO_OBJECT = {
    "provider": ["oidc", "zzd"],  # an external login provider, no government's
    "url": ["no-such-page/"],  # the admin's catch-all
    "token": ["set-password"],  # a password reset token is the holder's own secret
}


def _values(record, route, callback, name, converter):
    view = f"{getattr(callback, '__module__', '')}.{getattr(callback, '__name__', '')}"
    before = route.split("<" + (f"{converter}:" if converter else "") + name + ">")[0].rstrip("/").split("/")[-1]
    if name == "reference":
        return record.references()
    if name == "name" and view in ACTION_NAMES:
        return ACTION_NAMES[view]()
    if name in ("object_id", "id", "pk") and admin_model(callback) is not None and route.startswith("admin/"):
        return record.pks(admin_model(callback))[:1] or [0]
    if name == "object_id" and route.startswith("admin/r/"):  # the admin's "view on site" of a Decision
        return record.pks(Decision)[:2]
    if name == "content_type_id":
        return [ContentType.objects.get_for_model(Decision).pk]
    if name == "app_label":
        return ["decisions", "catalog", "reports", "workflows"]
    if name == "code":
        return [record.a.organ.code]
    if name in ("year",):
        return [timezone.localdate().year, timezone.localdate().year + 1]
    if name == "version":
        return [1, 2]
    if name == "uidb64":
        return [base64.urlsafe_b64encode(str(record.user_pk).encode()).decode().rstrip("=")]
    if name == "token" and converter == "uuid":
        return [record.online_token]
    if name in NO_OBJECT:
        return NO_OBJECT[name]
    collection = {"entry_pk": "entries", "import_pk": "import", "period_id": "consultations"}.get(name, before)
    if collection in COLLECTIONS:
        return record.pks(apps.get_model(COLLECTIONS[collection]))[:3]
    raise LookupError(f"<{name}> of {route!r} ({view})")


def expanded_urls(record, routes, fixed=None):
    """Every (route, url) with each parameter taken by A's objects (combinations of the values);
    `fixed` gives the values of some parameters (the API schema lists the names of actions)."""
    found, unfilled = [], []
    for route, callback in routes:
        urls = ["/" + route.lstrip("^").rstrip("$")]
        for match in PARAMETER.finditer(route):
            name = match["name"] or match["rname"]
            try:
                values = (fixed or {}).get(name) or _values(record, route, callback, name, match["converter"])
            except LookupError as missing:
                unfilled.append(str(missing))
                values = []
            if len(PARAMETER.findall(route)) > 1 and name != "name":
                values = values[:1]  # with a second parameter, one A object is enough to reach the view's gate
            urls = [url.replace(match[0], str(value), 1) for url in urls for value in values]
        found.extend((route, url.replace("\\", "")) for url in urls)
    assert not unfilled, "say in tests/cross_government.py which A objects fill: " + "; ".join(unfilled)
    return found


# -- A's record, read before and after -----------------------------------------------------------------


def _rows(model):
    names = [f.attname for f in model._meta.concrete_fields]
    return {row[0]: row for row in model.objects.order_by("pk").values_list("pk", *names)}


class Snapshot:
    """Every row of the record's tables; `changes_since` names what a request changed of A's record."""

    def __init__(self, record):
        self.record = record
        self.tables = {m: _rows(m) for m in record_models() if m._meta.label_lower not in NOT_COMPARED}
        self.audit_top = AuditEvent.objects.aggregate(top=Max("seq"))["top"] or 0

    def changes_since(self):
        a_pks = {m: set(pks) for m, pks in self.record.objects.items()}
        changes = []
        for model, rows in self.tables.items():
            now = _rows(model)
            for pk, row in rows.items():
                if now.get(pk) != row:
                    changes.append(f"{model._meta.label} {pk} {'deleted' if pk not in now else 'changed'}")
            for pk in now.keys() - rows.keys():
                if model is Comment and Comment.objects.filter(pk=pk, channel=Comment.Channel.ONLINE_FORM).exists():
                    continue  # the public's online comment: anyone may send one while the notice is open
                if _refers_to(model, now[pk], a_pks) or model._meta.app_label == "django_tasks_database":
                    changes.append(f"{model._meta.label} {pk} added about A")
        a_decisions = set(self.record.objects.get(Decision, [])) | {d.pk for d in self.record.decisions.values()}
        for event in AuditEvent.objects.filter(seq__gt=self.audit_top):
            if event.action == "comment:online":
                continue
            if not event.action.startswith("security:") or event.decision_id_ref in a_decisions:
                changes.append(f"audit event {event.action} {event.object_type} {event.object_id}")
        return changes


def _refers_to(model, row, a_pks):
    """Whether a row points at one of A's rows through a foreign key."""
    for f, value in zip(model._meta.concrete_fields, row[1:], strict=True):
        if f.is_relation and value in a_pks.get(f.related_model, ()):
            return True
    return False


def leaked(body, markers, url=""):
    """The markers found in a response body (text, or bytes of a file); a page may repeat the URL it was asked."""
    return sorted(m for m in markers if m.encode() in body and m not in url)
