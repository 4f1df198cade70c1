"""Record seals: a keyed MAC over each important record's fields (完整性, 密评 GB/T 39786-2021 §8.3; issue 7).

An important record — a sign-off, a stored document (drafts, legality opinions, minutes, published texts …),
an issued legality opinion, a collective decision, a publication — carries ``record_mac`` and
``record_mac_algorithm``: the MAC of its sealed fields (below) under the audit key, with the current profile's
MAC (HMAC-SHA256, or HMAC-SM3 under 国密). A row changed behind the application's back (a direct UPDATE) no
longer matches its seal; ``manage.py verify_audit`` checks every sealed row with the algorithm it names, so
switching profile keeps older seals verifiable. Under 国密 a document also keeps the SM3 of its file
(``digest_sm3``) beside its SHA-256, sealed with it.

What a seal covers is the record as made final, never the notes added later by their own audited steps: a
document's ``supersedes`` (an expert's resubmitted opinion links back afterwards), a legality review's stale
mark or closure, a collective decision's ``superseded_by_party_reply`` (T21a). A legality review is sealed when
its opinion is issued (T14, or the stop's review, T28); an open round changes (returned, resubmitted) and is not
sealed yet. Rows made before seals existed keep an empty ``record_mac`` and are reported as unsealed, not as
failures.

One place for each seal: SEALED lists each model with its fields; ``seal`` computes a row's seal (called where
the row is written), ``problems_of`` checks one, ``verify_sealed_records`` checks them all.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from decisions import audit, crypto

# Model label → the fields its seal covers (their names are the keys of the sealed text; foreign keys by id).
# SignOff's list must stay as decisions/signing.py first wrote it: older sign-offs are checked against it.
SEALED = {
    "decisions.SignOff": (
        "decision",
        "stage_record",
        "user",
        "role",
        "at",
        "subject",
        "content_sha256",
        "content_sm3",
        "supersedes",
        "signature",
        "signature_algorithm",
        "signing_key",
        "signer_public_key",
    ),
    "decisions.Document": (
        "decision",
        "stage_record",
        "doc_type",
        "title",
        "file",
        "original_name",
        "size",
        "sha256",
        "digest_sm3",
        "signed",
        "sealed",
        "uploaded_by",
        "uploaded_role",
        "uploaded_at",
    ),
    "decisions.LegalityReview": (
        "decision",
        "stage_record",
        "round",
        "subject",
        "draft_version",
        "reviewer_dept",
        "submitted_on",
        "complete_on",
        "outcome",
        "authority",
        "procedure",
        "content",
        "legal_risk_statement",
        "issued_at",
        "issued_by",
    ),
    "decisions.CollectiveOutcome": (
        "agenda_item",
        "outcome",
        "controllability_judgement",
        "chief_differs_from_majority",
        "chief_reason",
        "amendments",
        "adopted_version",
        "recorded_by",
        "recorded_at",
    ),
    "decisions.Publication": (
        "decision",
        "channels",
        "published_at",
        "not_public_basis",
        "recorded_by",
        "stage_record",
        "draft_version",
        "final_document",
        "interpretation_document",
        "proofs",
    ),
}
SEAL_FIELDS = ["record_mac", "record_mac_algorithm"]  # for save(update_fields=…) when a row is sealed later


def _value(instance, name):
    model_field = instance._meta.get_field(name)
    value = getattr(instance, model_field.attname)  # a foreign key by its id
    if hasattr(value, "name") and hasattr(value, "storage"):  # a stored file: where it is (its content: sha256)
        return value.name
    # As the row reads back (a 1 saved to a BooleanField reads back True), so a seal made before saving holds.
    return model_field.to_python(value)


def record_text(instance) -> str:
    """The canonical text a row's seal covers: its sealed fields (SEALED), foreign keys by id."""
    return audit.canonical({name: _value(instance, name) for name in SEALED[instance._meta.label]})


def seal(instance):
    """Set `instance`'s record MAC (audit key, current profile's MAC) over its sealed fields; return the instance."""
    instance.record_mac_algorithm, instance.record_mac = crypto.profile().mac(
        crypto.key_for("audit"), record_text(instance).encode()
    )
    return instance


def seal_document(document, content: bytes):
    """Complete an unsaved Document: the SM3 of its file under 国密, then its seal (after its file is stored)."""
    document.digest_sm3 = crypto.digest_with("SM3", content) if crypto.profile().digest_algorithm == "SM3" else ""
    return seal(document)


def create(model, **fields):
    """Create a row of a sealed `model`, sealed (the one way such rows are written)."""
    instance = model(**fields)
    seal(instance)
    instance.save(force_insert=True)
    return instance


def mac_holds(instance) -> bool:
    """Tell whether a sealed row still matches its seal, with the algorithm the row names."""
    try:
        return crypto.mac_matches(
            instance.record_mac_algorithm,
            crypto.key_for("audit"),
            record_text(instance).encode(),
            instance.record_mac,
        )
    except crypto.UnknownAlgorithm:
        return False


def problems_of(instance) -> list[str]:
    """What is wrong with one row's seal: ["record_mac"] if it does not hold; nothing for an unsealed row."""
    return [] if not instance.record_mac or mac_holds(instance) else ["record_mac"]


@dataclass
class RecordCheck:
    """What checking one kind of record found."""

    label: str  # the model's label ("decisions.Document")
    name: str  # its name for people, Chinese and English
    checked: int = 0
    unsealed: int = 0  # rows written before seals existed (or, for a review, before seals existed at issue)
    algorithms: dict = field(default_factory=dict)  # MAC algorithm → sealed rows
    problems: list = field(default_factory=list)  # (row id, [what failed])

    @property
    def ok(self) -> bool:
        return not self.problems

    def count(self, row, problems):
        self.checked += 1
        if row.record_mac:
            name = row.record_mac_algorithm
            self.algorithms[name] = self.algorithms.get(name, 0) + 1
        else:
            self.unsealed += 1
        if problems:
            self.problems.append((row.pk, problems))


def _rows(model):
    rows = model._base_manager.order_by("id")
    if model._meta.label == "decisions.LegalityReview":
        rows = rows.filter(issued_at__isnull=False)  # an open round is sealed when its opinion is issued
    return rows


def verify_sealed_records(batch_size=2000) -> list[RecordCheck]:
    """Check the seal of every sealed row of each model but SignOff (decisions/signing.py checks sign-offs whole)."""
    from django.apps import apps

    results = []
    for label in SEALED:
        if label == "decisions.SignOff":
            continue
        model = apps.get_model(label)
        result = RecordCheck(label, f"{model._meta.verbose_name} {model.__name__}")
        for row in _rows(model).iterator(chunk_size=batch_size):
            result.count(row, problems_of(row))
        results.append(result)
    return results
