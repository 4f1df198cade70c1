"""The published versions of an annual catalogue and what changed between them (目录版本与调整情况, B9).

Read-only. Version 1 is the original publication; each published adjustment (目录调整) makes the
next version. Entry rows carry `valid_from`/`valid_to`, so every version can be read back as it was
published; an entry keeps its `key` across versions.

API (used by the public catalogue page and the publication notice PDF):

* `versions(catalogue)` → list of `Version`, oldest first: number, date, notice number/date/url,
  the adjustment that made it (None for version 1), its kind and reason, and the entry count.
* `changes(catalogue, version)` → `Changes` from version-1 to `version`: `added`, `removed` and
  `modified` lists of `EntryChange`, each with `fields`, a list of `FieldChange` (Chinese label,
  old value → new value, as display text: organisations by name, procedures by Chinese name).
  For version 1 `original` is True and `added` holds the whole original list.
* `entry_rows(catalogue, version)` → the entry rows of `version` in 序号 order, organisations loaded.
* `display_values(row)` → an entry row's compared fields as display text, by field name.
* `proposed_changes(adjustment)` → the `FieldChange`s an adjustment not yet published proposes.

Each call runs a constant number of queries, whatever the number of entries or versions.
"""

from dataclasses import dataclass, field
from datetime import date, datetime

from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from catalog import entries as entry_fields
from catalog.models import AdjustmentState, CatalogueAdjustment, CatalogueEntry, RequiredProcedure
from decisions.models import Decision
from decisions.rules import in_language

# The fields of an entry that a published catalogue shows, in the order a diff lists them.
# proposer_type and proposal_fields feed the decision the compilation creates; they are not published.
FIELD_LABELS = {
    "name": _("决策事项名称"),
    "main_content": _("主要内容"),
    "category": _("事项类别"),
    "decision_body": _("决策主体"),
    "lead_unit": _("承办单位"),
    "co_units": _("协办单位"),
    "legal_policy_basis": _("法律政策依据"),
    "required_procedures": _("履行程序"),
    "planned_submission_from": _("拟提交审议时间（起）"),
    "planned_submission_to": _("拟提交审议时间（止）"),
    "planned_submission_text": _("拟提交审议时间"),
    "planned_completion": _("计划完成时间"),
    "remarks": _("备注"),
}
ORIGINAL_KIND_LABEL = _("首次公布")


@dataclass(frozen=True)
class Version:
    """One published version of a catalogue."""

    number: int
    date: date | None  # the notice's date (公布日期), else the day it was recorded as published
    published_at: datetime | None
    notice_number: str
    notice_date: date | None
    notice_url: str
    adjustment: CatalogueAdjustment | None  # None for version 1, the original publication
    kind: str  # "" for version 1, else the adjustment's kind (ADD, REMOVE, MODIFY)
    kind_label: str  # 首次公布 / 新增 / 撤出 / 调整
    reason: str
    entry_count: int


@dataclass(frozen=True)
class FieldChange:
    """One field of one entry, before and after, as display text ("" where there was none)."""

    field: str
    label: str
    old: str
    new: str


@dataclass
class EntryChange:
    """One entry that a version added, removed or modified, with its field-by-field diff."""

    key: str
    seq_no: int
    name: str
    row: CatalogueEntry  # the row in `version` (for a removal: the row it retired)
    previous: CatalogueEntry | None  # the row in version-1 (None for an addition)
    fields: list = field(default_factory=list)  # FieldChange: every filled field for an addition or removal


@dataclass
class Changes:
    """What changed from version-1 to `version`."""

    version: int
    original: bool  # version 1: `added` is the whole original list
    adjustment: CatalogueAdjustment | None
    added: list = field(default_factory=list)
    removed: list = field(default_factory=list)
    modified: list = field(default_factory=list)

    @property
    def empty(self):
        return not (self.added or self.removed or self.modified)


def _published_adjustments(catalogue):
    return list(
        CatalogueAdjustment.objects.filter(
            catalogue_id=catalogue.pk, state=AdjustmentState.PUBLISHED, published_version__isnull=False
        ).order_by("published_version")
    )


def _valid_in(valid_from, valid_to, version):
    return valid_from <= version and (valid_to is None or valid_to > version)


def versions(catalogue):
    """Return one `Version` per published version of `catalogue`, oldest first ([] before publication)."""
    if not catalogue.version:
        return []
    adjustments = _published_adjustments(catalogue)
    spans = list(CatalogueEntry.objects.filter(catalogue_id=catalogue.pk).values_list("valid_from", "valid_to"))

    def count(number):
        return sum(1 for start, end in spans if _valid_in(start, end, number))

    published_on = timezone.localdate(catalogue.published_at) if catalogue.published_at else None
    found = [
        Version(
            number=1,
            date=catalogue.notice_date or published_on,
            published_at=catalogue.published_at,
            notice_number=catalogue.notice_number,
            notice_date=catalogue.notice_date,
            notice_url=catalogue.notice_url,
            adjustment=None,
            kind="",
            kind_label=ORIGINAL_KIND_LABEL,
            reason="",
            entry_count=count(1),
        )
    ]
    for adjustment in adjustments:
        recorded = timezone.localdate(adjustment.published_at) if adjustment.published_at else None
        found.append(
            Version(
                number=adjustment.published_version,
                date=adjustment.notice_date or recorded,
                published_at=adjustment.published_at,
                notice_number=adjustment.notice_number,
                notice_date=adjustment.notice_date,
                notice_url=adjustment.notice_url,
                adjustment=adjustment,
                kind=adjustment.kind,
                kind_label=str(adjustment.get_kind_display()),
                reason=adjustment.reason,
                entry_count=count(adjustment.published_version),
            )
        )
    return found


def entry_rows(catalogue, version):
    """Return the entry rows of `version` in 序号 order, with lead and co-units loaded (two queries)."""
    return list(
        catalogue.entries_at(version)
        .select_related("lead_unit", "decision")
        .prefetch_related("co_units")
        .order_by("seq_no", "id")
    )


def _month(value):
    """Planned periods are year-months (B9); a day other than the 1st is shown as well."""
    if value is None:
        return ""
    if value.day == 1:
        return in_language(f"{value.year}年{value.month}月", date_format(value, "YEAR_MONTH_FORMAT"))
    return in_language(f"{value.year}年{value.month}月{value.day}日", date_format(value, "DATE_FORMAT"))


def procedure_names(codes):
    """Return required procedures as their Chinese names, in the published order (公众参与、听证、…)."""
    codes = set(codes or ())
    known = [str(p.label) for p in RequiredProcedure if p.value in codes]
    unknown = sorted(c for c in codes if c not in RequiredProcedure.values)
    return in_language("、", ", ").join(known + unknown)


def _display(values):
    """Return entry model values (catalog.entries) as display text, by field name."""
    category = values.get("category") or ""
    if category in Decision.Category.values:
        category = Decision.Category(category).label
    co_units = sorted((unit for unit in values.get("co_units") or () if unit is not None), key=lambda unit: unit.pk)
    lead_unit = values.get("lead_unit")
    return {
        "name": values.get("name") or "",
        "main_content": values.get("main_content") or "",
        "category": str(category),
        "decision_body": values.get("decision_body") or "",
        "lead_unit": lead_unit.name if lead_unit is not None else "",
        "co_units": in_language("、", ", ").join(unit.name for unit in co_units),
        "legal_policy_basis": values.get("legal_policy_basis") or "",
        "required_procedures": procedure_names(values.get("required_procedures")),
        "planned_submission_from": _month(values.get("planned_submission_from")),
        "planned_submission_to": _month(values.get("planned_submission_to")),
        "planned_submission_text": values.get("planned_submission_text") or "",
        "planned_completion": values.get("planned_completion") or "",
        "remarks": values.get("remarks") or "",
    }


def display_values(row):
    """Return `row`'s published fields as display text, by field name (co_units must be prefetched)."""
    return _display(entry_fields.of_entry(row))


def _comparable(row):
    # Compared on stored values, so that two dates shown alike still count as a change.
    values = {name: getattr(row, name) for name in FIELD_LABELS if name not in ("co_units", "required_procedures")}
    values["lead_unit"] = row.lead_unit_id
    values["co_units"] = sorted(unit.pk for unit in row.co_units.all())
    values["required_procedures"] = sorted(set(row.required_procedures or ()))
    return values


def _diff(old, new):
    """Return the FieldChanges from row `old` to row `new`; either may be None (an addition or a removal)."""
    before = display_values(old) if old is not None else dict.fromkeys(FIELD_LABELS, "")
    after = display_values(new) if new is not None else dict.fromkeys(FIELD_LABELS, "")
    if old is not None and new is not None:
        stored_old, stored_new = _comparable(old), _comparable(new)
        names = [name for name in FIELD_LABELS if stored_old[name] != stored_new[name]]
    else:
        names = [name for name in FIELD_LABELS if before[name] or after[name]]
    return [FieldChange(name, FIELD_LABELS[name], before[name], after[name]) for name in names]


def changes(catalogue, version):
    """Return the `Changes` that made `version` of `catalogue` from version-1 (version 1: the original list)."""
    if not 1 <= version <= catalogue.version:
        raise ValueError(f"{catalogue} has no published version {version} (current: {catalogue.version})")
    rows = list(
        catalogue.entries.filter(valid_from__lte=version)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=version - 1))
        .select_related("lead_unit", "decision")
        .prefetch_related("co_units")
        .order_by("seq_no", "id")
    )
    adjustment = None
    if version > 1:
        adjustment = CatalogueAdjustment.objects.filter(
            catalogue_id=catalogue.pk, published_version=version, state=AdjustmentState.PUBLISHED
        ).first()
    before = {row.key: row for row in rows if version > 1 and _valid_in(row.valid_from, row.valid_to, version - 1)}
    after = {row.key: row for row in rows if _valid_in(row.valid_from, row.valid_to, version)}
    result = Changes(version=version, original=version == 1, adjustment=adjustment)
    for key, row in after.items():
        old = before.get(key)
        if old is None:
            result.added.append(EntryChange(str(key), row.seq_no, row.name, row, None, _diff(None, row)))
        elif old.pk != row.pk:
            result.modified.append(EntryChange(str(key), row.seq_no, row.name, row, old, _diff(old, row)))
    for key, old in before.items():
        if key not in after:
            result.removed.append(EntryChange(str(key), old.seq_no, old.name, old, old, _diff(old, None)))
    return result


def proposed_changes(adjustment):
    """Return the FieldChanges an open or rejected `adjustment` proposes against the current catalogue.

    ADD lists every filled field of the new entry, REMOVE every field of the entry it takes out,
    MODIFY only the fields it changes. A published adjustment is shown by `changes()` instead.
    """
    catalogue = adjustment.catalogue
    current = None
    if adjustment.kind != CatalogueAdjustment.Kind.ADD and catalogue.version:
        current = (
            catalogue.entries_at()
            .filter(key=adjustment.entry_key)
            .select_related("lead_unit")
            .prefetch_related("co_units")
            .first()
        )
    before = entry_fields.of_entry(current) if current is not None else {}
    if adjustment.kind == CatalogueAdjustment.Kind.REMOVE:
        after = {}
    else:
        after = {**before, **entry_fields.to_model_values(adjustment.new_entry_data)}
    old, new = _display(before), _display(after)
    return [
        FieldChange(name, label, old[name], new[name]) for name, label in FIELD_LABELS.items() if old[name] != new[name]
    ]


__all__ = [
    "FIELD_LABELS",
    "Changes",
    "EntryChange",
    "FieldChange",
    "Version",
    "changes",
    "display_values",
    "entry_rows",
    "procedure_names",
    "proposed_changes",
    "versions",
]
