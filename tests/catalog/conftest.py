"""Catalogue test helpers; organs, casts and profile variants come from tests/conftest.py."""

from datetime import timedelta

import pytest
from django.utils import timezone

from catalog import rules as catalogue_rules
from catalog import services
from catalog.models import AnnualCatalogue, CatalogueAdjustment, CatalogueDocument, CatalogueEntry
from decisions.models import (
    Decision,
    Document,
    DocumentType,
    HandoverTask,
    Position,
    StageRecord,
)
from decisions.rules import ProcedureRefused
from decisions.walkthrough import consultation as consult_walk
from decisions.walkthrough import doc
from decisions.walkthrough import initiation as walk
from decisions.walkthrough import legality as legality_walk
from decisions.walkthrough import meeting as meeting_walk
from tests.records import record_events

# -- catalogue helpers ---------------------------------------------------------------------------

ORDER = [
    "COLLECTING",
    "COMPILED",
    "VETTED",
    "GOV_APPROVED",
    "PARTY_CONSENTED",
    "PUBLISHED",
    "YEAR_END_REPORTED",
    "CLOSED",
]


def upload(title="材料"):
    return doc(DocumentType.OTHER, title)


class Kit:
    """Drive catalogues of one cast through the services with valid input, step by step."""

    def __init__(self, cast):
        self.cast = cast
        self.office = cast["GOV_OFFICE"]
        self.today = timezone.localdate()
        self.year = self.today.year

    def item(self, **overrides):
        data = {
            "name": "市本级新能源汽车推广应用地方补助实施办法",
            "lead_unit": self.cast.lead_unit,
            "category": Decision.Category.PUBLIC_POLICY,
            "required_procedures": ["PP", "LR", "CD"],
            "planned_submission_text": "8月份",
        }
        data.update(overrides)
        return data

    def proposal(self, title="关于调整公交票价的决策建议"):
        return walk.propose(self.cast, title=title)

    # step inputs, all valid
    def open(self, year=None):
        return services.open_catalogue(
            self.office, self.cast.organ, year or self.year, call_for_proposals=upload("征集通知")
        )

    def add(self, catalogue, decision=None, **overrides):
        return services.add_entry(self.office, catalogue, decision=decision, **self.item(**overrides))

    def compile(self, catalogue):
        return services.compile(self.office, catalogue, compiled_list=upload("汇总清单"))

    def vet(self, catalogue):
        return services.vet(self.cast["LEGAL_REVIEWER"], catalogue, opinion=upload("审核意见"))

    def approve(self, catalogue):
        return services.approve_by_government(self.office, catalogue, approval=upload("常务会议纪要"))

    def return_(self, catalogue):
        return services.return_to_collecting(self.office, catalogue, reason="部分事项不属于重大行政决策范围")

    def consent(self, catalogue, issued_on=None):
        return services.record_party_consent(
            self.cast["PARTY_LIAISON"],
            catalogue,
            consent=upload("党委同意"),
            issued_on=issued_on or self.today,
            issued_by="中共某市委",
        )

    def non_consent(self, catalogue):
        return services.record_party_non_consent(self.cast["PARTY_LIAISON"], catalogue, reason="请补充民生类事项")

    def notice(self, **overrides):
        data = {
            "notice_number": "湖政办发〔2026〕21号",
            "notice_date": self.today,
            "notice_url": "https://www.huzhou.gov.cn/art/catalogue",
            "notice": upload("公布通知"),
        }
        data.update(overrides)
        return data

    def publish(self, catalogue, **overrides):
        return services.publish(self.office, catalogue, **self.notice(**overrides))

    def report(self, catalogue, dispositions=None, **overrides):
        data = {"report": upload("年度完成情况报告"), "published_on": self.today}
        data.update(overrides)
        if dispositions is None:
            dispositions = {
                e.key: "CARRY_OVER"
                for e in catalogue.entries_at()
                if catalogue_rules.year_end_status(e.decision) == "IN_PROGRESS"
            }
        return services.report_year_end(self.office, catalogue, dispositions=dispositions, **data)

    def close(self, catalogue):
        return services.close_if_due(catalogue_rules.year_end(catalogue.year) + timedelta(seconds=1), catalogue)

    def build(self, state, *, year=None, decisions=(), entries=None):
        """Return a catalogue in `state`, with one entry per decision (or a fresh proposal) plus `entries`."""
        catalogue = self.open(year)
        for decision in decisions or [self.proposal()]:
            self.add(catalogue, decision=decision, name=decision.title)
        for item in entries or ():
            services.add_entry(self.office, catalogue, **self.item(**item))
        path = {
            "COMPILED": [self.compile],
            "VETTED": [self.compile, self.vet],
            "GOV_APPROVED": [self.compile, self.approve],
            "PARTY_CONSENTED": [self.compile, self.approve, self.consent],
            "PUBLISHED": [self.compile, self.approve, self.consent, self.publish],
            "YEAR_END_REPORTED": [self.compile, self.approve, self.consent, self.publish, self.report],
            "CLOSED": [self.compile, self.approve, self.consent, self.publish, self.report, self.close],
        }.get(state, [])
        for step in path:
            step(catalogue)
            catalogue.refresh_from_db()
        assert catalogue.state == state
        return catalogue

    def advance(self, decision, state):
        """Take a LISTED decision along the normal path to `state` with the other areas' walkthroughs."""
        decision.refresh_from_db()
        order = ["INITIATED", "CONSULTATION", "LEGAL_REVIEW_DONE", "READY_FOR_MEETING", "SCHEDULED", "DECIDED"]
        cast = self.cast
        for target in order[: order.index(state) + 1]:
            if target == "INITIATED":
                decision = walk.initiate(cast, decision, co_units=[])
            elif target == "CONSULTATION":
                decision = walk.draft(cast, decision)
            elif target == "LEGAL_REVIEW_DONE":
                consult_walk.consult(cast, decision, expert=False, risk=False)
                decision = legality_walk.review(cast, Decision.objects.get(pk=decision.pk))
            elif target == "READY_FOR_MEETING":
                decision = legality_walk.to_ready_for_meeting(cast, decision)
            elif target == "SCHEDULED":
                decision = meeting_walk.schedule(cast, decision)
            elif target == "DECIDED":
                decision = meeting_walk.decide(cast, decision, Position.APPROVE)
        decision.refresh_from_db()
        assert decision.state == state
        return decision

    # adjustments
    def propose(self, catalogue, kind, actor=None, **kwargs):
        kwargs.setdefault("reason", "工作安排调整")
        return services.propose_adjustment(actor or self.office, catalogue, kind=kind, **kwargs)

    def review(self, adjustment):
        return services.review_adjustment(self.office, adjustment, review=upload("调整审核记录"))

    def approve_adjustment(self, adjustment):
        return services.approve_adjustment(self.office, adjustment, approval=upload("政府同意调整"))

    def consent_adjustment(self, adjustment, issued_on=None):
        return services.record_adjustment_consent(
            self.cast["PARTY_LIAISON"],
            adjustment,
            consent=upload("党委同意调整"),
            issued_on=issued_on or self.today,
            issued_by="中共某市委",
        )

    def publish_adjustment(self, adjustment, **overrides):
        return services.publish_adjustment(self.office, adjustment, **self.notice(**overrides))

    def adjustment_at(self, catalogue, state, kind, **kwargs):
        adjustment = self.propose(catalogue, kind, **kwargs)
        path = {
            "REVIEWED": [self.review],
            "GOV_APPROVED": [self.review, self.approve_adjustment],
            "PARTY_CONSENTED": [self.review, self.approve_adjustment, self.consent_adjustment],
            "PUBLISHED": [self.review, self.approve_adjustment, self.consent_adjustment, self.publish_adjustment],
        }.get(state, [])
        for step in path:
            adjustment = step(adjustment)
        adjustment.refresh_from_db()
        assert adjustment.state == state
        return adjustment


@pytest.fixture
def kit(cast):
    """Catalogue helpers for an organ under the huzhou profile."""
    return Kit(cast)


@pytest.fixture
def kit_for(cast_factory, profile_variant):
    """Return a factory: catalogue helpers for a new organ whose profile changes some huzhou parameters."""

    def make(**params):
        return Kit(cast_factory(profile=profile_variant("huzhou", **params).code))

    return make


@pytest.fixture
def snapshot(db):
    """Return a function that reads what a refused service must leave unchanged."""

    def take():
        return {
            "catalogues": list(
                AnnualCatalogue.objects.order_by("pk").values_list(
                    "pk", "state", "version", "return_reason", "notice_number", "year_end_reported_at", "closed_at"
                )
            ),
            "entries": list(
                CatalogueEntry.objects.order_by("pk").values_list(
                    "pk",
                    "key",
                    "valid_from",
                    "valid_to",
                    "decision_id",
                    "name",
                    "lead_unit_id",
                    "category",
                    "year_end_disposition",
                    "year_end_status",
                )
            ),
            "adjustments": list(
                CatalogueAdjustment.objects.order_by("pk").values_list(
                    "pk", "state", "decision_id", "rejection_reason", "published_version"
                )
            ),
            "catalogue_documents": CatalogueDocument.objects.count(),
            "documents": Document.objects.count(),
            "decisions": list(Decision.objects.order_by("pk").values_list("pk", "state", "lead_unit_id")),
            "stage_records": list(StageRecord.objects.order_by("pk").values_list("pk", "status", "frozen_at")),
            "handovers": HandoverTask.objects.count(),
            "audit": record_events().count(),
        }

    return take


@pytest.fixture
def refused(snapshot):
    """Call a service that must be refused; check the database is unchanged and return the refusal."""

    def call(fn, *args, **kwargs):
        before = snapshot()
        with pytest.raises(ProcedureRefused) as info:
            fn(*args, **kwargs)
        assert snapshot() == before
        return info.value

    return call
