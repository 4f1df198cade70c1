"""Charts of catalogue progress as server-side SVG: no JavaScript, readable at a glance, printable.

* `phase_chart(phases)`: horizontal bars, decisions by pipeline phase (catalog.dashboard.PHASES).
* `government_chart(rows)`: one stacked bar per government of a roll-up (GovernmentRow), by phase.
* `coverage_chart(coverage)`: the catalogue coverage as a bar against the 100% target line.

Each returns a `mark_safe` string `<svg role="img">` with a `<title>` and a `<desc>` that says in
words what the bars show; every label is escaped (a unit may name itself anything). Each bar
carries its number as text, so that the chart is readable without colour; white numbers sit
only on colours dark enough for them (contrast at least 4.5:1), other text is near-black on
white. The page (or the report) shows the same numbers as a table beside the chart. The SVG
embeds in HTML for browsers and for WeasyPrint alike.
"""

import hashlib

from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, ngettext

from catalog.dashboard import PHASE_LABELS
from decisions.rules import in_language
from reports.fonts import SANS_FAMILIES

FONT_FAMILY = ", ".join([*(f"'{name}'" for name in SANS_FAMILIES), "sans-serif"])
TEXT = "#111827"
MUTED = "#4b5563"
TRACK = "#e5e7eb"
TARGET = "#991b1b"
ON_BAR = "#ffffff"
# One colour per phase, each dark enough for white numbers on it (WCAG contrast ≥ 4.5:1).
PHASE_COLOURS = {
    "PROPOSAL": "#475569",
    "DRAFTING": "#1d4ed8",
    "CONSULTATION": "#0e7490",
    "LEGALITY": "#6d28d9",
    "MEETING": "#c2410c",
    "DECIDED": "#15803d",
    "DEFERRED": "#854d0e",
    "REJECTED": "#b91c1c",
    "WITHDRAWN": "#374151",
    "ARCHIVED": "#86198f",
    "NOT_STARTED": "#57534e",
}
COVERAGE_COLOUR = "#1d4ed8"
FONT_SIZE = 12


def text_width(text, size=FONT_SIZE):
    """Estimate the width of `text`: a CJK or full-width character is one em, others about 0.6 em."""
    return sum(size if ord(ch) > 0x2E7F else 0.6 * size for ch in str(text))


def _fmt(x):
    return f"{x:.1f}".rstrip("0").rstrip(".")


def _text(x, y, content, *, size=FONT_SIZE, fill=TEXT, anchor="start", weight=None):
    bold = f' font-weight="{weight}"' if weight else ""
    return (
        f'<text x="{_fmt(x)}" y="{_fmt(y)}" font-size="{size}" fill="{fill}" text-anchor="{anchor}"'
        f' dominant-baseline="central"{bold}>{escape(content)}</text>'
    )


def _rect(x, y, width, height, fill, *, extra="", tooltip=None):
    shape = f'<rect x="{_fmt(x)}" y="{_fmt(y)}" width="{_fmt(width)}" height="{_fmt(height)}" fill="{fill}"{extra}'
    return f"{shape}><title>{escape(tooltip)}</title></rect>" if tooltip else f"{shape}/>"


def _svg(width, height, title, desc, parts):
    body = "".join(parts)
    ident = "chart-" + hashlib.sha256(f"{title}{desc}{body}".encode()).hexdigest()[:10]
    return mark_safe(
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="{ident}-t {ident}-d"'
        f' width="{_fmt(width)}" height="{_fmt(height)}" viewBox="0 0 {_fmt(width)} {_fmt(height)}"'
        f' font-family="{escape(FONT_FAMILY)}">'
        f'<title id="{ident}-t">{escape(title)}</title><desc id="{ident}-d">{escape(desc)}</desc>{body}</svg>'
    )


def _items(count):
    return ngettext("%(count)s 项", "%(count)s 项", count) % {"count": count}


def _total(count):
    return ngettext("共 %(count)s 项", "共 %(count)s 项", count) % {"count": count}


def phase_chart(phases, *, title=None, bar_width=320):
    """Return horizontal bars of `phases` (PhaseCount rows, in pipeline order), each with its number."""
    title = title or gettext("决策事项按办理阶段分布")
    phases = list(phases)
    total = sum(p.count for p in phases)
    row, bar, pad = 21, 14, 8
    label_width = max((text_width(p.label) for p in phases), default=0) + pad
    top = 4
    width = label_width + bar_width + text_width("9999") + 2 * pad
    height = top + row * len(phases) + 4
    peak = max((p.count for p in phases), default=0) or 1
    parts = []
    for index, phase in enumerate(phases):
        y = top + index * row
        middle = y + row / 2
        parts.append(_text(label_width - pad, middle, phase.label, anchor="end"))
        length = bar_width * phase.count / peak
        if phase.count:
            parts.append(_rect(label_width, middle - bar / 2, length, bar, PHASE_COLOURS.get(phase.code, MUTED)))
        parts.append(_text(label_width + length + 4, middle, str(phase.count), weight="bold"))
    listed = in_language("；", "; ").join(f"{p.label} {_items(p.count)}" for p in phases)
    desc = gettext("%(total)s。%(listed)s。") % {"total": _total(total), "listed": listed}
    return _svg(width, height, title, desc, parts)


def government_chart(rows, *, title=None, bar_width=360):
    """Return one stacked bar per government (GovernmentRow), segments by phase, with a legend."""
    title = title or gettext("各级政府目录事项办理阶段分布")
    rows = list(rows)
    row, bar, pad = 28, 18, 8
    label_width = max((text_width(r.organ) for r in rows), default=0) + pad
    peak = max((r.entries for r in rows), default=0) or 1
    used = [code for code in PHASE_LABELS if any(p.code == code and p.count for r in rows for p in r.phases)]
    legend_top = 4 + row * len(rows) + 10
    legend_row = 20
    per_line = 3
    legend_lines = (len(used) + per_line - 1) // per_line
    width = max(label_width + bar_width + text_width(_total(9999)) + 2 * pad, per_line * 200)
    height = legend_top + legend_lines * legend_row + 4
    parts = []
    for index, gov in enumerate(rows):
        middle = 4 + index * row + row / 2
        parts.append(_text(label_width - pad, middle, gov.organ, anchor="end"))
        x = label_width
        for phase in gov.phases:
            if not phase.count:
                continue
            length = bar_width * phase.count / peak
            colour = PHASE_COLOURS.get(phase.code, MUTED)
            tooltip = gettext("%(organ)s：%(phase)s %(items)s") % {
                "organ": gov.organ,
                "phase": phase.label,
                "items": _items(phase.count),
            }
            extra = ' stroke="#ffffff" stroke-width="0.5"'
            parts.append(_rect(x, middle - bar / 2, length, bar, colour, extra=extra, tooltip=tooltip))
            if text_width(str(phase.count), 11) + 4 <= length:
                parts.append(_text(x + length / 2, middle, str(phase.count), size=11, fill=ON_BAR, anchor="middle"))
            x += length
        parts.append(_text(x + 4, middle, _total(gov.entries), weight="bold"))
    for index, code in enumerate(used):
        x = pad + (index % per_line) * 200
        y = legend_top + (index // per_line) * legend_row + legend_row / 2
        parts.append(_rect(x, y - 6, 12, 12, PHASE_COLOURS.get(code, MUTED)))
        parts.append(_text(x + 16, y, PHASE_LABELS[code], size=11))
    lines = []
    for gov in rows:
        detail = in_language("、", ", ").join(f"{p.label} {_items(p.count)}" for p in gov.phases if p.count)
        line = gettext("%(organ)s：%(total)s") % {"organ": gov.organ, "total": _total(gov.entries)}
        lines.append(line + (gettext("，其中%(detail)s") % {"detail": detail} if detail else ""))
    return _svg(width, height, title, in_language("；", "; ").join(lines) + gettext("。"), parts)


def _target(percent):
    return gettext("目标 %(percent)s%%") % {"percent": percent}


def coverage_chart(coverage, *, title=None, bar_width=360):
    """Return the coverage as a bar from 0 to 100% with the 100% target marked (catalog.dashboard.Coverage)."""
    title = title or gettext("重大行政决策目录覆盖率")
    pad, bar = 8, 22
    left = pad
    width = left + bar_width + text_width(_target(100)) + 3 * pad
    height = 78
    percent = coverage.percent
    if percent is None:
        summary = gettext("%(year)s年度尚无经集体讨论决定的重大行政决策事项") % {"year": coverage.year}
    else:
        summary = gettext(
            "%(year)s年度经集体讨论决定 %(decided)s 项，其中列入目录 %(listed)s 项，"
            "覆盖率 %(percent)s%%（目标 %(target)s%%）"
        ) % {
            "year": coverage.year,
            "decided": coverage.decided,
            "listed": coverage.through_catalogue,
            "percent": _fmt(percent),
            "target": coverage.target_percent,
        }
    parts = [_text(left, 12, summary, size=11)]
    y = 28
    parts.append(_rect(left, y, bar_width, bar, TRACK))
    filled = bar_width * min(percent or 0, 100) / 100
    if filled:
        parts.append(_rect(left, y, filled, bar, COVERAGE_COLOUR))
    label = "—" if percent is None else f"{_fmt(percent)}%"
    if filled >= text_width(label) + 8:
        parts.append(_text(left + filled - 4, y + bar / 2, label, fill=ON_BAR, anchor="end", weight="bold"))
    else:
        parts.append(_text(left + filled + 4, y + bar / 2, label, weight="bold"))
    target_x = left + bar_width * coverage.target_percent / 100
    parts.append(
        f'<line x1="{_fmt(target_x)}" y1="{y - 4}" x2="{_fmt(target_x)}" y2="{y + bar + 4}" stroke="{TARGET}"'
        ' stroke-width="2" stroke-dasharray="4 2"/>'
    )
    parts.append(_text(target_x + 4, y + bar + 14, _target(coverage.target_percent), size=11, fill=TARGET))
    parts.append(_text(left, y + bar + 14, "0%", size=11, fill=MUTED))
    if coverage.outside:
        parts.append(
            _text(
                left + 40,
                y + bar + 14,
                gettext("未经目录 %(count)s 项") % {"count": len(coverage.outside)},
                size=11,
                fill=TEXT,
                weight="bold",
            )
        )
    return _svg(width, height, title, summary + gettext("。"), parts)


__all__ = ["phase_chart", "government_chart", "coverage_chart", "PHASE_COLOURS", "text_width"]
