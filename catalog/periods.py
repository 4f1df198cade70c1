"""Planned periods of catalogue entries (拟提交审议时间 / 计划完成时间, procedure.md B9).

Catalogues write the planned time in words (“8月份”, “2026年3月至5月”, “三季度”, “年底前”); the
overdue warning of B9 needs dates. `parse_period` reads the common wordings into (from, to) and
never guesses: wording it cannot read gives None, and the text is kept verbatim. `format_period`
writes dates back in words that `parse_period` reads to the same dates. The services derive the
dates from the wording when only the wording is given (catalog.entries.with_planned_dates), so an
entry typed in a form, imported from Excel or proposed in an adjustment is read the same way.
"""

import calendar
import re
import unicodedata
from dataclasses import dataclass
from datetime import date

_CN_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_DASHES = re.compile(r"[—–―‒−~]+")  # NFKC turns ～ into ~ and － into -; a plain "-" also separates dates
_POINTS = [
    re.compile(p)
    for p in (
        r"(?P<y>\d{4})[.\-/](?P<m>\d{1,2})[.\-/](?P<d>\d{1,2})",
        r"(?P<y>\d{4})年(?P<m>\d{1,2})月(?P<d>\d{1,2})[日号]?",
        r"(?P<m>\d{1,2})月(?P<d>\d{1,2})[日号]",
        r"(?P<y>\d{4})年(?P<m>\d{1,2})月(?P<part>上旬|中旬|下旬|初|底)?",
        r"(?P<y>\d{4})[.\-/](?P<m>\d{1,2})",
        r"(?P<m>\d{1,2})月(?P<part>上旬|中旬|下旬|初|底)?",
    )
]
_MONTH_RANGE = re.compile(r"(?:(?P<y>\d{4})年)?(?P<a>\d{1,2})月?(?:至|到|—|-)(?P<b>\d{1,2})月")
_QUARTER = re.compile(r"(?:(?P<y>\d{4})年)?第?(?P<q>[1-4])季度")
_HALF = re.compile(r"(?:(?P<y>\d{4})年)?(?P<h>上半年|下半年)")
_WHOLE_YEAR = re.compile(r"(?P<y>\d{4})年度?内?|(?:本|今|当)?年度?内|全年|本年度?|今年|当年")
_YEAR_END = re.compile(r"(?:(?P<y>\d{4})|本|今)?年底(?P<before>前)?")
_NEXT_YEAR = ("次年", "翌年", "明年", "第二年")
_FILLERS = re.compile(r"(左右|前后)?(完成|提交审议|提交|审议|出台)?$")


@dataclass(frozen=True)
class _Span:
    start: date
    end: date
    year_given: bool
    exact_end: bool  # a day, or the end of a month (月底): “…前” may follow it


def _cn_number(text):
    """十二 → 12, 三 → 3, 十 → 10 (months, quarters and days only)."""
    if text.startswith("十"):
        return 10 + _CN_DIGITS.get(text[1:], 0) if len(text) > 1 else 10
    if text.endswith("十"):
        return _CN_DIGITS[text[0]] * 10
    if "十" in text:
        tens, units = text.split("十")
        return _CN_DIGITS[tens] * 10 + _CN_DIGITS[units]
    return _CN_DIGITS[text]


def _clean_period(text):
    s = re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(text)))
    s = _DASHES.sub("—", s)
    for old, new in (("月份", "月"), ("以前", "前"), ("之前", "前"), ("月末", "月底"), ("年末", "年底")):
        s = s.replace(old, new)
    s = re.sub(r"[一二三四五六七八九十两]+(?=月|季度|日|号)", lambda m: str(_cn_number(m.group())), s)
    s = s.rstrip("。.;,")
    return _FILLERS.sub("", s) if len(s) > 2 else s


def _last_day(year, month):
    return date(year, month, calendar.monthrange(year, month)[1])


def _point(text, year):
    """Return the span one date expression names (a day, a month or part of one), or None."""
    for pattern in _POINTS:
        m = pattern.fullmatch(text)
        if not m:
            continue
        groups = m.groupdict()
        y = int(groups["y"]) if groups.get("y") else year
        month = int(m["m"])
        if not 1 <= month <= 12 or not 1900 < y < 3000:
            return None
        try:
            if groups.get("d"):
                day = date(y, month, int(m["d"]))
                return _Span(day, day, bool(groups.get("y")), True)
        except ValueError:
            return None
        last = _last_day(y, month)
        part = groups.get("part")
        start, end = {
            "上旬": (date(y, month, 1), date(y, month, 10)),
            "初": (date(y, month, 1), date(y, month, 10)),
            "中旬": (date(y, month, 11), date(y, month, 20)),
            "下旬": (date(y, month, 21), last),
            "底": (date(y, month, 21), last),
        }.get(part, (date(y, month, 1), last))
        return _Span(start, end, bool(groups.get("y")), part == "底")
    return None


def _range(text, year):
    """“2025.12—2026.01”, “2026年3月至5月”, “12月至次年2月”: split at a separator both sides of which are dates."""
    for separator in ("至", "到", "—", "-"):
        at = text.find(separator)
        while at != -1:
            left = _point(text[:at], year)
            right_text = text[at + len(separator) :]
            if left is not None and right_text:
                right_year = left.start.year
                for prefix in _NEXT_YEAR:
                    if right_text.startswith(prefix):
                        right_text, right_year = right_text[len(prefix) :], right_year + 1
                        break
                right = _point(right_text, right_year)
                if right is None and (m := re.fullmatch(r"(\d{1,2})[日号]", right_text)):
                    try:
                        end = left.start.replace(day=int(m[1]))
                    except ValueError:
                        end = None
                    right = end and _Span(end, end, False, True)
                if right is not None:
                    return left.start, right.end
            at = text.find(separator, at + 1)
    return None


def parse_period(text, year):
    """Read a planned time into (from, to) dates, either of which may be None; None if it cannot be read.

    `year` is the catalogue's year, used where the text names no year (“8月份”). Months run from
    their first to their last day; quarters, halves (上半年/下半年) and 年内 likewise; “…前” and
    “年底前” give only the end. A range whose end is earlier than its start is returned as it is:
    the caller reports it (entries.problems: 计划时间起止颠倒).
    """
    s = _clean_period(text)
    if not s:
        return None
    if (span := _point(s, year)) is not None:
        return span.start, span.end
    if (found := _range(s, year)) is not None:
        return found
    if m := _MONTH_RANGE.fullmatch(s):
        y, a, b = int(m["y"] or year), int(m["a"]), int(m["b"])
        if 1 <= a <= 12 and 1 <= b <= 12:
            return date(y, a, 1), _last_day(y, b)
        return None
    if m := _QUARTER.fullmatch(s):
        y, q = int(m["y"] or year), int(m["q"])
        return date(y, 3 * q - 2, 1), _last_day(y, 3 * q)
    if m := _HALF.fullmatch(s):
        y = int(m["y"] or year)
        return (date(y, 1, 1), date(y, 6, 30)) if m["h"] == "上半年" else (date(y, 7, 1), date(y, 12, 31))
    if m := _WHOLE_YEAR.fullmatch(s):
        y = int(m["y"] or year)
        return date(y, 1, 1), date(y, 12, 31)
    if m := _YEAR_END.fullmatch(s):
        y = int(m["y"] or year)
        return (None, date(y, 12, 31)) if m["before"] else (date(y, 12, 1), date(y, 12, 31))
    if s.endswith("前") and (span := _point(s[:-1], year)) is not None and span.exact_end:
        # “8月底前”, “8月15日前”; a bare “8月前” stays unread: offices write it for “by August” and “before August”.
        return None, span.end
    if s.endswith(("起", "以后")) and (span := _point(s.rstrip("起").removesuffix("以后"), year)) is not None:
        return span.start, None
    return None


def format_period(start, end):
    """Write a period in the Chinese a catalogue uses; parse_period reads it back to the same dates."""

    def month_or_day(day, at_end):
        if (at_end and day == _last_day(day.year, day.month)) or (not at_end and day.day == 1):
            return f"{day.year}年{day.month}月"
        return f"{day.year}年{day.month}月{day.day}日"

    if start is None and end is None:
        return ""
    if start is None:
        return (
            f"{end.year}年{end.month}月底前"
            if end == _last_day(end.year, end.month)
            else f"{month_or_day(end, True)}前"
        )
    if end is None:
        return f"{month_or_day(start, False)}起"
    if start == end:
        return f"{start.year}年{start.month}月{start.day}日"
    if (start.year, start.month) == (end.year, end.month) and start.day == 1 and end == _last_day(end.year, end.month):
        return f"{start.year}年{start.month}月"
    return f"{month_or_day(start, False)}至{month_or_day(end, True)}"
