"""The fields of a catalogue entry (B9 "Catalogue entry fields"): reading, storing in an adjustment, checking.

An adjustment keeps the proposed entry data as JSON until it is published; these
helpers turn service input into model values and back, and list what an entry lacks.
"""

from datetime import date

from catalog.models import RequiredProcedure
from catalog.periods import parse_period
from decisions.models import Decision, Organisation

ENTRY_FIELDS = (
    "name",
    "main_content",
    "category",
    "decision_body",
    "lead_unit",
    "co_units",
    "legal_policy_basis",
    "required_procedures",
    "planned_submission_from",
    "planned_submission_to",
    "planned_submission_text",
    "planned_completion",
    "proposer_type",
    "proposal_fields",
    "remarks",
)
DATE_FIELDS = ("planned_submission_from", "planned_submission_to")
PROPOSAL_FIELDS = ("problem", "reasons_and_basis", "preliminary_plan", "necessity", "feasibility")
# Who may have put an entry forward (P25): every source but the compilation itself.
PROPOSER_TYPES = tuple(t for t in Decision.SourceType.values if t != Decision.SourceType.CATALOGUE_COMPILATION)


def check_names(fields):
    """Raise TypeError for a field that is not an entry field (a programming error, not a refusal)."""
    unknown = set(fields) - set(ENTRY_FIELDS)
    if unknown:
        raise TypeError(f"unknown catalogue entry fields: {sorted(unknown)}")


def _organisation(value):
    if value is None or value == "" or isinstance(value, Organisation):
        return value or None
    return Organisation.objects.filter(pk=value).first()


def _date(value):
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def to_model_values(fields):
    """Return entry `fields` as model values: organisations for ids, dates for ISO strings."""
    check_names(fields)
    values = dict(fields)
    if "lead_unit" in values:
        values["lead_unit"] = _organisation(values["lead_unit"])
    if "co_units" in values:
        values["co_units"] = [_organisation(u) for u in values["co_units"] or ()]
    for name in DATE_FIELDS:
        if name in values:
            values[name] = _date(values[name])
    if "required_procedures" in values:
        values["required_procedures"] = list(values["required_procedures"] or [])
    if "proposal_fields" in values:
        values["proposal_fields"] = dict(values["proposal_fields"] or {})
    for name in set(values) - {"lead_unit", "co_units", "required_procedures", "proposal_fields", *DATE_FIELDS}:
        values[name] = "" if values[name] is None else values[name]
    return values


def to_json(fields):
    """Return entry `fields` as JSON-ready data (ids for organisations, ISO strings for dates)."""
    values = to_model_values(fields)
    out = {}
    for name, value in values.items():
        if name == "lead_unit":
            out[name] = value.pk if value else None
        elif name == "co_units":
            out[name] = [u.pk for u in value if u is not None]
        elif name in DATE_FIELDS:
            out[name] = value.isoformat() if value else None
        else:
            out[name] = value
    return out


def with_planned_dates(values, year):
    """Return `values` with the planned dates read from the planned wording when only the wording is given.

    The B9 overdue warning needs dates, while offices write words (“8月份”, “三季度”). Dates given
    explicitly (even empty, as an import that could not read the wording gives them) are kept;
    wording that cannot be read leaves the dates empty (catalog.periods never guesses).
    """
    if "planned_submission_text" not in values or any(name in values for name in DATE_FIELDS):
        return values
    period = parse_period(values["planned_submission_text"] or "", year)
    start, end = period if period is not None else (None, None)
    return {**values, "planned_submission_from": start, "planned_submission_to": end}


def of_entry(entry):
    """Return an entry row's fields as model values."""
    values = {name: getattr(entry, name) for name in ENTRY_FIELDS if name != "co_units"}
    values["co_units"] = list(entry.co_units.all()) if entry.pk else []
    return values


def problems(values, *, linked):
    """Return what the entry lacks (B9: name, lead unit, category, planned period, required procedures)."""
    found = []
    if not str(values.get("name") or "").strip():
        found.append("缺少事项名称")
    if values.get("lead_unit") is None:
        found.append("缺少承办单位")
    if values.get("category") not in Decision.Category.values:
        found.append("缺少事项类别(第三条第一款第(一)至(五)项)")
    start, end = values.get("planned_submission_from"), values.get("planned_submission_to")
    text = (
        str(values.get("planned_submission_text") or "").strip() or str(values.get("planned_completion") or "").strip()
    )
    if not (start or end or text):
        found.append("缺少计划时间(拟提交审议时间或计划完成时间)")
    elif start and end and start > end:
        found.append("计划时间起止颠倒")
    procedures = values.get("required_procedures") or []
    if not procedures:
        found.append("缺少履行程序要求")
    elif any(p not in RequiredProcedure.values for p in procedures):
        unknown = "、".join(str(p) for p in procedures if p not in RequiredProcedure.values)
        found.append(f"履行程序要求含有未知程序({unknown})")
    if not linked and values.get("proposer_type") not in PROPOSER_TYPES:
        # P25: a decision the compilation creates records who put the entry forward.
        found.append("未关联决策事项的，须注明提出主体类别")
    return found


def label(values, seq_no=None):
    name = str(values.get("name") or "").strip() or "(未命名)"
    return f"第{seq_no}项“{name}”" if seq_no else f"“{name}”"
