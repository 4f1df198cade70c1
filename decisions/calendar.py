"""The PRC working-day calendar: statutory days off and make-up working days (调休), as data (procedure.md P4, B2).

Each year's 国务院办公厅关于…部分节假日安排的通知 is loaded as a `WorkingCalendarYear` with one
`CalendarDay` per date that differs from the weekday rule: a day off (法定节假日, including the
weekend days inside a holiday block) or a make-up working day (调休上班). A date in a year whose
notice is not loaded yet is counted by the plain weekday rule (Monday to Friday) and the count is
marked provisional: never a silent guess (P4, `calendar_provisional_policy`).

No function here rolls a date forward for holidays (P4): the guards use dates as published or delivered.
"""

import json
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import NamedTuple
from zoneinfo import ZoneInfo

from django.db import transaction

DATA_DIR = Path(__file__).resolve().parent / "data" / "calendar"
SHANGHAI = ZoneInfo("Asia/Shanghai")

# CalendarDay.Kind values, spelled out so that the loader also works on historical models in migrations.
OFF = "OFF"
WORK = "WORK"

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_NOTICE_KEYS = {"year", "notice", "source", "off", "work"}
_NOTICE_MAX = 200  # WorkingCalendarYear.notice / .source
_NAME_MAX = 60  # CalendarDay.name


@dataclass(frozen=True)
class Count:
    """A number of days, provisional when a year it counted has no holiday notice loaded (P4)."""

    days: int
    provisional_years: tuple[int, ...] = ()

    @property
    def provisional(self) -> bool:
        """Return True when some counted date fell in a year counted by the plain weekday rule."""
        return bool(self.provisional_years)


class WorkingDate(NamedTuple):
    """A date reached by counting working days, and whether the count was provisional."""

    date: date
    provisional: bool


class NoticeError(ValueError):
    """A holiday-notice file that cannot be loaded; names the bad entry in Chinese and English."""

    def __init__(self, zh: str, en: str, entry=None):
        self.zh, self.en, self.entry = zh, en, entry
        where = f": {json.dumps(entry, ensure_ascii=False)}" if entry is not None else ""
        super().__init__(f"{zh} / {en}{where}")


def localdate(value: datetime | date) -> date:
    """Return the Asia/Shanghai calendar date of an aware timestamp; a plain date is returned as it is (P4)."""
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("a naive datetime has no calendar date in Asia/Shanghai: store aware timestamps")
        return value.astimezone(SHANGHAI).date()
    if isinstance(value, date):
        return value
    raise TypeError(f"expected a date or an aware datetime, got {type(value).__name__}")


def _models(apps=None):
    if apps is None:
        from decisions.models import CalendarDay, WorkingCalendarYear
    else:
        WorkingCalendarYear = apps.get_model("decisions", "WorkingCalendarYear")
        CalendarDay = apps.get_model("decisions", "CalendarDay")
    return WorkingCalendarYear, CalendarDay


def _exceptions(first: date, last: date) -> dict[date, str]:
    """Return the days off and make-up working days from `first` to `last` inclusive, in one query."""
    _WorkingCalendarYear, CalendarDay = _models()
    return dict(CalendarDay.objects.filter(date__gte=first, date__lte=last).values_list("date", "kind"))


def _unloaded_years(first: date, last: date) -> tuple[int, ...]:
    """Return the years from `first` to `last` whose holiday notice is not loaded."""
    WorkingCalendarYear, _CalendarDay = _models()
    loaded = set(
        WorkingCalendarYear.objects.filter(year__gte=first.year, year__lte=last.year).values_list("year", flat=True)
    )
    return tuple(y for y in range(first.year, last.year + 1) if y not in loaded)


def _is_working(d: date, days: dict[date, str]) -> bool:
    kind = days.get(d)
    if kind is not None:
        return kind == WORK
    return d.weekday() < 5


def is_working_day(d: date | datetime) -> bool:
    """Return True if `d` is a working day: a make-up day (调休上班), or Monday to Friday and not a day off.

    In a year whose notice is not loaded this is the weekday rule: `years_loaded()` tells whether it is provisional.
    """
    d = localdate(d)
    return _is_working(d, _exceptions(d, d))


def working_days_between(start: date | datetime, end: date | datetime) -> Count:
    """Count working days strictly after `start` and strictly before `end` (the legality-review clock, B2).

    Neither end is counted: complete materials received on Monday 2025-04-07 and a meeting on
    Thursday 2025-04-17 leave 7 working days. An `end` on or before the day after `start` gives 0.
    """
    start, end = localdate(start), localdate(end)
    first, last = start + timedelta(days=1), end - timedelta(days=1)
    if last < first:
        return Count(0)
    days = _exceptions(first, last)
    count = sum(1 for i in range((last - first).days + 1) if _is_working(first + timedelta(days=i), days))
    return Count(count, _unloaded_years(first, last))


def calendar_days_between(start: date | datetime, end: date | datetime) -> int:
    """Return `end − start` in calendar days: the start day is not counted (03-01 to 03-31 is 30 days, P4)."""
    return (localdate(end) - localdate(start)).days


def add_working_days(start: date | datetime, n: int) -> WorkingDate:
    """Return the `n`-th working day after `start` (the start day not counted), and whether it is provisional."""
    start = localdate(start)
    if n < 0:
        raise ValueError("count working days forwards: n must not be negative")
    if n == 0:
        return WorkingDate(start, False)
    d, found, first = start, 0, start + timedelta(days=1)
    # Fetch the calendar in windows wide enough for the longest holiday block; usually one window suffices.
    window = n * 2 + 21
    while True:
        chunk_first, chunk_last = d + timedelta(days=1), d + timedelta(days=window)
        days = _exceptions(chunk_first, chunk_last)
        while d < chunk_last:
            d += timedelta(days=1)
            if _is_working(d, days):
                found += 1
                if found == n:
                    return WorkingDate(d, bool(_unloaded_years(first, d)))


def years_loaded() -> frozenset[int]:
    """Return the years whose State Council holiday notice is loaded.

    A count that touched any other year is provisional (P4). When a new year's notice is loaded
    (`manage.py load_holiday_notice`), every provisional count covering that year must be re-run:
    a guard that now fails blocks a transition not yet taken; one already taken is not reversed,
    but GOV_OFFICE and the LEGAL_REVIEWER are warned (`calendar_provisional_policy`).
    """
    WorkingCalendarYear, _CalendarDay = _models()
    return frozenset(WorkingCalendarYear.objects.values_list("year", flat=True))


def _parse_entries(data: dict, key: str, year: int) -> dict[date, str]:
    entries = data[key]
    if not isinstance(entries, list):
        raise NoticeError(f"“{key}”必须是列表", f"“{key}” must be a list", entries)
    parsed: dict[date, str] = {}
    for entry in entries:
        if not isinstance(entry, dict) or set(entry) - {"date", "name"} or "date" not in entry:
            raise NoticeError(
                '每一项须为 {"date": "YYYY-MM-DD", "name": "节日名称"}',
                'each entry must be {"date": "YYYY-MM-DD", "name": "holiday name"}',
                entry,
            )
        raw, name = entry["date"], entry.get("name", "")
        if not isinstance(raw, str) or not _ISO_DATE.match(raw):
            raise NoticeError("日期不是 ISO 格式 (YYYY-MM-DD)", "the date is not an ISO date (YYYY-MM-DD)", entry)
        try:
            d = date.fromisoformat(raw)
        except ValueError:
            raise NoticeError("日期不存在", "no such date", entry) from None
        if d.year != year:
            raise NoticeError(f"日期不在{year}年内", f"the date is outside the year {year}", entry)
        if not isinstance(name, str) or len(name) > _NAME_MAX or (key == "off" and not name.strip()):
            raise NoticeError(
                f"名称须为不超过{_NAME_MAX}字的文字（休息日须写明节日名称）",
                f"the name must be text of at most {_NAME_MAX} characters (a day off names its holiday)",
                entry,
            )
        if d in parsed:
            raise NoticeError(f"日期在“{key}”中重复", f"the date appears twice in “{key}”", entry)
        if key == "work" and d.weekday() < 5:
            raise NoticeError(
                "调休上班日应为周六或周日", "a make-up working day (调休上班) must fall on a Saturday or Sunday", entry
            )
        parsed[d] = name.strip()
    return parsed


def validate_notice(data) -> tuple[int, str, str, dict[date, str], dict[date, str]]:
    """Check a holiday-notice document and return (year, notice, source, off, work); raise NoticeError if bad."""
    if not isinstance(data, dict):
        raise NoticeError("文件内容须为 JSON 对象", "the file must hold a JSON object")
    missing = {"year", "notice", "off", "work"} - set(data)
    if missing:
        raise NoticeError("缺少字段", "missing keys", sorted(missing))
    unknown = set(data) - _NOTICE_KEYS
    if unknown:
        raise NoticeError("未知字段", "unknown keys", sorted(unknown))
    year = data["year"]
    if not isinstance(year, int) or isinstance(year, bool) or not 1949 <= year <= 2200:
        raise NoticeError("年度须为整数年份", "the year must be a whole year number", year)
    notice, source = data["notice"], data.get("source", "")
    if not isinstance(notice, str) or not notice.strip() or len(notice) > _NOTICE_MAX:
        raise NoticeError(
            f"须写明通知标题/文号（不超过{_NOTICE_MAX}字）",
            f"the notice title/number must be given (at most {_NOTICE_MAX} characters)",
            notice,
        )
    if not isinstance(source, str) or len(source) > _NOTICE_MAX:
        raise NoticeError(
            f"来源须为不超过{_NOTICE_MAX}字的文字",
            f"the source must be text of at most {_NOTICE_MAX} characters",
            source,
        )
    off = _parse_entries(data, "off", year)
    work = _parse_entries(data, "work", year)
    both = sorted(set(off) & set(work))
    if both:
        raise NoticeError(
            "同一日期既是休息日又是调休上班日",
            "a date is both a day off and a make-up working day",
            {"date": both[0].isoformat()},
        )
    return year, notice.strip(), source.strip(), off, work


def load_notice(data, *, replace: bool = False, apps=None) -> int:
    """Validate and load one year's holiday notice atomically; return the number of days loaded.

    A year already loaded is refused unless `replace`; then its days are replaced as a whole.
    `apps` is the historical app registry when called from a data migration.
    """
    year, notice, source, off, work = validate_notice(data)
    WorkingCalendarYear, CalendarDay = _models(apps)
    with transaction.atomic():
        existing = WorkingCalendarYear.objects.select_for_update().filter(year=year).first()
        if existing is not None and not replace:
            raise NoticeError(
                f"{year}年的节假日安排已载入（如需替换请使用 --replace）",
                f"the calendar for {year} is already loaded (use --replace to replace it)",
            )
        if existing is not None:
            CalendarDay.objects.filter(year=existing).delete()
            existing.delete()
        row = WorkingCalendarYear.objects.create(year=year, notice=notice, source=source)
        CalendarDay.objects.bulk_create(
            [CalendarDay(date=d, year=row, kind=OFF, name=name) for d, name in sorted(off.items())]
            + [CalendarDay(date=d, year=row, kind=WORK, name=name) for d, name in sorted(work.items())]
        )
    return len(off) + len(work)


def read_notice_file(path: Path | str) -> dict:
    """Read a holiday-notice JSON file; raise NoticeError when it is not valid JSON."""
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except json.JSONDecodeError as exc:
        raise NoticeError("文件不是有效的 JSON", f"the file is not valid JSON ({exc})") from None
    except UnicodeDecodeError:
        raise NoticeError("文件须为 UTF-8 编码", "the file must be UTF-8 encoded") from None


def load_shipped(apps=None) -> int:
    """Load every shipped notice in decisions/data/calendar/ whose year is not loaded yet; return days loaded."""
    WorkingCalendarYear, _CalendarDay = _models(apps)
    loaded = set(WorkingCalendarYear.objects.values_list("year", flat=True))
    total = 0
    for path in sorted(DATA_DIR.glob("*.json")):
        data = read_notice_file(path)
        if data.get("year") not in loaded:
            total += load_notice(data, apps=apps)
    return total
