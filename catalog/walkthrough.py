"""Take matters into a published catalogue through the catalogue services (B9): used by seed_demo and the tests.

Nothing here bypasses a rule: every step is a service call by the user of the
right role, with the records the rules ask for. `publish_catalogue` leaves each
linked decision LISTED (T3), which is how a decision starts where the profile
requires the catalogue (P19).
"""

import zlib
from datetime import date

from django.utils import timezone

from catalog import services
from catalog.models import AnnualCatalogue, CatalogueAdjustment, CatalogueState
from decisions.models import Decision, DocumentType, Role
from decisions.walkthrough import doc
from decisions.walkthrough.initiation import PROPOSAL_FIELDS

DEFAULT_PROCEDURES = ["PP", "LR", "CD"]
PARTY_COMMITTEE = "中共{name}委员会"


def _party_committee(cast):
    return PARTY_COMMITTEE.format(name=cast.organ.name.replace("人民政府", ""))


def entry_data(cast, item=None, decision=None):
    """Return service input for one entry from a simple dict (name, lead_unit, category, required_procedures, planned)."""
    item = dict(item or {})
    decision = item.pop("decision", decision)
    planned = item.pop("planned", None)
    data = {
        "name": decision.title if decision is not None else "",
        "lead_unit": cast.lead_unit,
        "category": (decision.category if decision is not None else "") or Decision.Category.PUBLIC_POLICY,
        "required_procedures": list(DEFAULT_PROCEDURES),
        "planned_submission_text": planned or "9月份",
    }
    if decision is None:
        # P25: the compilation creates the decision; a department put it forward with its 第十条(二) fields.
        data["proposer_type"] = Decision.SourceType.DEPARTMENT
        data["proposal_fields"] = dict(PROPOSAL_FIELDS)
    data.update(item)
    return decision, data


def _today():
    return timezone.localdate()


def _publication(cast, what):
    number = zlib.crc32(f"{cast.organ.code}{what}".encode())
    return {
        "notice_number": f"{cast.organ.code}政办发〔{_today().year}〕{number % 90 + 10}号",
        "notice_date": _today(),
        "notice_url": f"https://www.example.gov.cn/{cast.organ.code}/catalogue/{number}",
        "notice": doc(DocumentType.OTHER, f"{what}公布通知"),
    }


def publish_catalogue(cast, year=None, entries=(), decisions=()):
    """Open, collect, compile, (vet,) approve, consent and publish a catalogue; return it, its decisions LISTED.

    `entries` are simple dicts (a "decision" key links an existing PROPOSED decision);
    `decisions` are existing decisions listed with entry data taken from them. If the
    organ already has a published catalogue for the year, the matters are added to it
    by ADD adjustments instead.
    """
    year = year or _today().year
    items = [entry_data(cast, item) for item in entries] + [entry_data(cast, None, d) for d in decisions]
    existing = AnnualCatalogue.objects.filter(organ=cast.organ, year=year, state=CatalogueState.PUBLISHED).first()
    if existing is not None:
        for decision, data in items:
            add_to_catalogue(cast, existing, decision=decision, **data)
        existing.refresh_from_db()
        return existing
    office = cast[Role.GOV_OFFICE]
    catalogue = services.open_catalogue(
        office, cast.organ, year, call_for_proposals=doc(DocumentType.OTHER, "征集通知")
    )
    for decision, data in items:
        services.add_entry(office, catalogue, decision=decision, **data)
    catalogue = services.compile(office, catalogue, compiled_list=doc(DocumentType.OTHER, "目录汇总清单"))
    if catalogue.profile.params.get("catalogue_vetting_required"):
        catalogue = services.vet(cast[Role.LEGAL_REVIEWER], catalogue, opinion=doc(DocumentType.OTHER, "审核意见"))
    catalogue = services.approve_by_government(office, catalogue, approval=doc(DocumentType.MINUTES, "常务会议纪要"))
    catalogue = services.record_party_consent(
        cast[Role.PARTY_LIAISON],
        catalogue,
        consent=doc(DocumentType.OTHER, "党委同意文件"),
        issued_on=_today(),
        issued_by=_party_committee(cast),
    )
    return services.publish(office, catalogue, **_publication(cast, f"{year}年度目录"))


def adjust(cast, catalogue, kind, *, reason="根据工作需要调整", entry=None, decision=None, data=None, actor=None):
    """Propose an adjustment and take it through review, approval, consent and publication; return it published."""
    office = cast[Role.GOV_OFFICE]
    adjustment = services.propose_adjustment(
        actor or office, catalogue, kind=kind, reason=reason, entry=entry, decision=decision, data=data
    )
    adjustment = services.review_adjustment(office, adjustment, review=doc(DocumentType.OTHER, "调整审核记录"))
    adjustment = services.approve_adjustment(office, adjustment, approval=doc(DocumentType.MINUTES, "同意调整"))
    if adjustment.catalogue.profile.params.get("catalogue_adjustment_requires_party_consent", True):
        adjustment = services.record_adjustment_consent(
            cast[Role.PARTY_LIAISON],
            adjustment,
            consent=doc(DocumentType.OTHER, "党委同意调整"),
            issued_on=_today(),
            issued_by=_party_committee(cast),
        )
    return services.publish_adjustment(office, adjustment, **_publication(cast, f"目录调整{adjustment.pk}"))


def add_to_catalogue(cast, catalogue, decision=None, **fields):
    """ADD an entry (and its decision, created if none is given) to a published catalogue; the decision is LISTED."""
    _, data = entry_data(cast, fields, decision)
    return adjust(
        cast, catalogue, CatalogueAdjustment.Kind.ADD, reason="年度中新增决策事项", decision=decision, data=data
    )


def remove_from_catalogue(cast, catalogue, decision, reason="情况变化，不再作出决策"):
    """REMOVE the decision's entry from a published catalogue; the decision is withdrawn (T29)."""
    entry = catalogue.entries_at().get(decision=decision)
    return adjust(cast, catalogue, CatalogueAdjustment.Kind.REMOVE, reason=reason, entry=entry)


def report_year_end(cast, catalogue, dispositions=None, published_on=None):
    """Publish the year-end completion report with each in-progress entry's disposition (P21)."""
    return services.report_year_end(
        cast[Role.GOV_OFFICE],
        catalogue,
        report=doc(DocumentType.OTHER, "年度完成情况报告"),
        published_on=published_on or min(_today(), date(catalogue.year, 12, 31)),
        dispositions=dispositions,
    )
