"""The catalogue's own state machine (procedure.md B9) and that of its adjustments (P20).

Only these methods move `AnnualCatalogue.state` and `CatalogueAdjustment.state`;
catalog/services.py checks roles and rules first and audits the move.
"""

from django_fsm import transition

COLLECTING = "COLLECTING"
COMPILED = "COMPILED"
VETTED = "VETTED"
GOV_APPROVED = "GOV_APPROVED"
PARTY_CONSENTED = "PARTY_CONSENTED"
PUBLISHED = "PUBLISHED"
YEAR_END_REPORTED = "YEAR_END_REPORTED"
CLOSED = "CLOSED"

PROPOSED = "PROPOSED"
REVIEWED = "REVIEWED"
REJECTED = "REJECTED"


class CatalogueLifecycle:
    """Transitions of AnnualCatalogue."""

    @transition(field="state", source=COLLECTING, target=COMPILED)
    def compile(self):
        pass

    @transition(field="state", source=COMPILED, target=VETTED)
    def vet(self):
        pass

    @transition(field="state", source=[COMPILED, VETTED], target=GOV_APPROVED)
    def approve_by_government(self):
        pass

    @transition(field="state", source=[COMPILED, VETTED], target=COLLECTING)
    def return_to_collecting(self):
        pass

    @transition(field="state", source=GOV_APPROVED, target=PARTY_CONSENTED)
    def record_party_consent(self):
        pass

    @transition(field="state", source=GOV_APPROVED, target=COMPILED)
    def record_party_non_consent(self):
        pass

    @transition(field="state", source=PARTY_CONSENTED, target=PUBLISHED)
    def publish(self, at, notice_number, notice_url):
        self.version = 1
        self.published_at = at
        self.notice_number = notice_number
        self.notice_url = notice_url

    @transition(field="state", source=PUBLISHED, target=YEAR_END_REPORTED)
    def report_year_end(self):
        pass

    @transition(field="state", source=YEAR_END_REPORTED, target=CLOSED)
    def close(self):
        pass

    def bump_version(self):
        """An adjustment's publication makes catalogue version n+1 (B9)."""
        self.version += 1
        return self.version


class AdjustmentLifecycle:
    """Transitions of CatalogueAdjustment."""

    @transition(field="state", source=PROPOSED, target=REVIEWED)
    def review(self):
        pass

    @transition(field="state", source=REVIEWED, target=GOV_APPROVED)
    def approve_by_government(self):
        pass

    @transition(field="state", source=GOV_APPROVED, target=PARTY_CONSENTED)
    def record_party_consent(self):
        pass

    @transition(field="state", source=[GOV_APPROVED, PARTY_CONSENTED], target=PUBLISHED)
    def publish(self, at, version, notice_number, notice_url):
        self.published_at = at
        self.published_version = version
        self.notice_number = notice_number
        self.notice_url = notice_url

    @transition(field="state", source=[PROPOSED, REVIEWED, GOV_APPROVED, PARTY_CONSENTED], target=REJECTED)
    def reject(self, reason):
        self.rejection_reason = reason
