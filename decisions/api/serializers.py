"""What the API shows of a decision and its record. Read-only: changes are actions (views.DecisionActionView)."""

from rest_framework import serializers

from decisions.models import (
    AuditEvent,
    Comment,
    Decision,
    Document,
    Organisation,
    SignOff,
    StageRecord,
)
from decisions.personal import contact_details


class OrganisationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organisation
        fields = ["id", "code", "name", "kind", "level"]


class StageRecordSerializer(serializers.ModelSerializer):
    stage_label = serializers.CharField(source="get_stage_display", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    draft_version = serializers.IntegerField(source="draft_version.number", allow_null=True, read_only=True)

    class Meta:
        model = StageRecord
        fields = [
            "id",
            "stage",
            "stage_label",
            "status",
            "status_label",
            "round",
            "draft_version",
            "started_at",
            "completed_at",
            "outcome",
            "reason_code",
            "reason_text",
            "methods",
            "frozen_at",
            "frozen_reason",
            "supersedes",
        ]


class DecisionSerializer(serializers.ModelSerializer):
    """One decision in a list."""

    state_label = serializers.CharField(source="get_state_display", read_only=True)
    organ = OrganisationSerializer(read_only=True)
    lead_unit = OrganisationSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Decision
        fields = ["reference", "title", "state", "state_label", "category", "organ", "lead_unit", "created_at"]


class ConditionSerializer(serializers.Serializer):
    code = serializers.CharField()
    article = serializers.CharField()
    zh = serializers.CharField()
    en = serializers.CharField()
    state = serializers.ChoiceField(choices=["met", "blocker", "input"], help_text="met | blocker | input")
    detail = serializers.CharField(allow_blank=True)


class NextStepSerializer(serializers.Serializer):
    """A step open from where the decision stands, and what stops it (为什么不能办理下一步)."""

    tid = serializers.CharField()
    label = serializers.CharField()
    article = serializers.CharField()
    roles = serializers.ListField(child=serializers.CharField())
    yours = serializers.BooleanField()
    ready = serializers.BooleanField()
    stage = serializers.CharField(allow_blank=True)
    conditions = ConditionSerializer(many=True)


class DecisionDetailSerializer(DecisionSerializer):
    """One decision: its facts, stage records, and the steps open now with their conditions."""

    profile = serializers.SerializerMethodField()
    draft_version = serializers.SerializerMethodField()
    stage_records = StageRecordSerializer(many=True, read_only=True)
    next_steps = serializers.SerializerMethodField()
    your_roles = serializers.SerializerMethodField()

    class Meta(DecisionSerializer.Meta):
        fields = [
            *DecisionSerializer.Meta.fields,
            "source_type",
            "proposer_type",
            "proposer_name",
            "problem",
            "reasons_and_basis",
            "preliminary_plan",
            "necessity",
            "feasibility",
            "suspended",
            "closing_reason",
            "profile",
            "draft_version",
            "your_roles",
            "stage_records",
            "next_steps",
        ]

    def get_profile(self, decision) -> dict:
        return {"code": decision.profile.code, "version": decision.profile.version}

    def get_draft_version(self, decision) -> int | None:
        draft = decision.current_draft
        return draft.number if draft is not None else None

    def get_your_roles(self, decision) -> list[str]:
        return sorted(self.context.get("roles", ()))

    def get_next_steps(self, decision) -> list[dict]:
        return NextStepSerializer(self.context.get("steps", ()), many=True).data


class DocumentSerializer(serializers.ModelSerializer):
    doc_type_label = serializers.CharField(source="get_doc_type_display", read_only=True)
    stage = serializers.CharField(source="stage_record.stage", allow_null=True, read_only=True)
    uploaded_by = serializers.CharField(source="uploaded_by.username", read_only=True)
    superseded = serializers.SerializerMethodField()

    class Meta:
        model = Document
        fields = [
            "id",
            "stage_record",
            "stage",
            "doc_type",
            "doc_type_label",
            "title",
            "original_name",
            "size",
            "sha256",
            "signed",
            "sealed",
            "uploaded_by",
            "uploaded_role",
            "uploaded_at",
            "supersedes",
            "supersede_reason",
            "superseded",
        ]

    def get_superseded(self, document) -> bool:
        return document.pk in self.context.get("replaced", ())


class SignOffSerializer(serializers.ModelSerializer):
    user = serializers.CharField(source="user.username", read_only=True)

    class Meta:
        model = SignOff
        fields = ["id", "stage_record", "user", "role", "at", "subject", "content_sha256", "supersedes"]


class AuditEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = [
            "seq",
            "at",
            "actor_label",
            "role",
            "action",
            "object_type",
            "object_id",
            "payload",
            "algorithm",
            "prev_mac",
            "mac",
        ]


class CommentSerializer(serializers.ModelSerializer):
    """A comment of the ledger; contact details masked for every reader (个人信息保护法): POST …/reveal/ shows them."""

    channel_label = serializers.CharField(source="get_channel_display", read_only=True)
    disposition_label = serializers.CharField(source="get_disposition_display", read_only=True)
    # The same masking as the ledger page (decisions.personal), whatever the reader's role.
    phone = serializers.SerializerMethodField()
    email = serializers.SerializerMethodField()
    id_number = serializers.SerializerMethodField()

    class Meta:
        model = Comment
        fields = [
            "id",
            "seq",
            "received_on",
            "channel",
            "channel_label",
            "text",
            "commenter_name",
            "commenter_organisation",
            "phone",
            "email",
            "id_number",
            "name_public",
            "disposition",
            "disposition_label",
            "reason",
            "answered_at",
        ]

    def get_phone(self, comment) -> str:
        return contact_details(comment)["phone"]

    def get_email(self, comment) -> str:
        return contact_details(comment)["email"]

    def get_id_number(self, comment) -> str:
        return contact_details(comment)["id_number"]


class RevealedContactSerializer(serializers.Serializer):
    """A record's contact details in full, as one audited unmasking returns them (security:personal_data_view)."""

    id = serializers.IntegerField()
    phone = serializers.CharField(allow_blank=True)
    email = serializers.CharField(allow_blank=True)
    id_number = serializers.CharField(allow_blank=True)


class ErasureInput(serializers.Serializer):
    reason = serializers.CharField(help_text="删除理由，如：本人申请删除 (the reason, recorded in the audit chain)")


class ErasedSerializer(serializers.Serializer):
    """What is left of a person's data after erasure: the placeholder name and no contact details."""

    id = serializers.IntegerField()
    name = serializers.CharField()
