import json
from datetime import UTC, date, datetime

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError

from decisions import calendar
from decisions.models import CalendarDay, WorkingCalendarYear


@pytest.fixture
def shipped_calendar(db):
    """Make sure the shipped notices 2019–2026 are loaded (a transactional test may have flushed them)."""
    calendar.load_shipped()


@pytest.fixture
def notice_file(tmp_path):
    """Return a factory that writes a holiday-notice JSON file and returns its path."""

    def make(year=2027, off=(), work=(), notice=None, raw=None, **extra):
        data = {
            "year": year,
            "notice": f"测试数据：国务院办公厅关于{year}年部分节假日安排的通知" if notice is None else notice,
            "off": [{"date": d, "name": name} for d, name in off],
            "work": [{"date": d, "name": name} for d, name in work],
            **extra,
        }
        path = tmp_path / f"{year}-{len(list(tmp_path.iterdir()))}.json"
        path.write_text(raw if raw is not None else json.dumps(data, ensure_ascii=False), encoding="utf-8")
        return path

    return make


# A made-up 2027 notice for the tests: 元旦 on Friday 2027-01-01 and a make-up Saturday.
TEST_2027_OFF = [("2027-01-01", "元旦")]
TEST_2027_WORK = [("2027-01-09", "元旦")]


def table_counts():
    return WorkingCalendarYear.objects.count(), CalendarDay.objects.count()


def test_shipped_notices_cover_2019_to_2026(shipped_calendar):
    assert {2019, 2020, 2021, 2022, 2023, 2024, 2025, 2026} <= calendar.years_loaded()
    assert (
        WorkingCalendarYear.objects.get(year=2025).notice
        == "国务院办公厅关于2025年部分节假日安排的通知（国办发明电〔2024〕12号）"
    )


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2025, 1, 26), True),  # 春节 make-up Sunday
        (date(2025, 1, 28), False),  # 除夕: the 2025 rules add it to 春节
        (date(2025, 2, 4), False),  # 正月初七, last day of the 8-day block
        (date(2025, 2, 8), True),  # 春节 make-up Saturday
        (date(2025, 4, 4), False),  # 清明节 (Friday)
        (date(2025, 4, 7), True),  # an ordinary Monday
        (date(2025, 4, 12), False),  # an ordinary Saturday
        (date(2025, 9, 28), True),  # 国庆节 make-up Sunday
        (date(2025, 10, 6), False),  # 中秋节 inside the 国庆 block
        (date(2025, 10, 8), False),
        (date(2025, 10, 11), True),  # 国庆节 make-up Saturday
        (date(2026, 2, 23), False),  # 2026 春节 runs 02-15..02-23
        (date(2026, 2, 28), True),
    ],
)
def test_is_working_day_follows_the_state_council_notice(shipped_calendar, day, working):
    assert calendar.is_working_day(day) is working


def test_an_ordinary_week_gives_seven_working_days_scenario_30(shipped_calendar):
    count = calendar.working_days_between(date(2025, 4, 7), date(2025, 4, 17))
    assert count == calendar.Count(7)
    assert count.provisional is False


def test_four_days_apart_gives_three_working_days_scenario_31(shipped_calendar):
    assert calendar.working_days_between(date(2025, 4, 14), date(2025, 4, 18)).days == 3


def test_national_day_block_counts_make_up_days_and_skips_the_holiday(shipped_calendar):
    # Strictly between Fri 09-26 and Mon 10-13: Sun 09-28 (调休), Mon 09-29, Tue 09-30,
    # 10-01..10-08 off, Thu 10-09, Fri 10-10, Sat 10-11 (调休) = 6.
    count = calendar.working_days_between(date(2025, 9, 26), date(2025, 10, 13))
    assert count.days == 6
    assert not count.provisional


def test_spring_festival_2025_counts_make_up_days_and_skips_the_eight_day_block(shipped_calendar):
    # Strictly between Fri 01-24 and Mon 02-10: Sun 01-26 (调休), Mon 01-27,
    # 01-28..02-04 off, Wed 02-05, Thu 02-06, Fri 02-07, Sat 02-08 (调休) = 6.
    assert calendar.working_days_between(date(2025, 1, 24), date(2025, 2, 10)).days == 6


@pytest.mark.parametrize(
    ("start", "end"),
    [(date(2025, 4, 7), date(2025, 4, 8)), (date(2025, 4, 7), date(2025, 4, 7)), (date(2025, 4, 9), date(2025, 4, 7))],
)
def test_no_working_days_lie_between_adjacent_or_reversed_dates(shipped_calendar, start, end):
    assert calendar.working_days_between(start, end) == calendar.Count(0)


def test_counting_a_long_range_takes_two_queries(shipped_calendar, django_assert_num_queries):
    with django_assert_num_queries(2):
        assert calendar.working_days_between(date(2019, 1, 1), date(2026, 12, 31)).days > 1900


def test_a_year_without_a_notice_is_counted_by_weekday_rule_and_marked_provisional(shipped_calendar):
    # Mon 2027-01-04 to Fri 2027-01-15: Tue–Fri and Mon–Thu = 8 by the weekday rule.
    count = calendar.working_days_between(date(2027, 1, 4), date(2027, 1, 15))
    assert count.days == 8
    assert count.provisional is True
    assert count.provisional_years == (2027,)


def test_a_count_spanning_2026_into_2027_is_provisional(shipped_calendar):
    # Tue 12-29, Wed 12-30, Thu 12-31, Fri 01-01, Mon 01-04, Tue 01-05.
    count = calendar.working_days_between(date(2026, 12, 28), date(2027, 1, 6))
    assert (count.days, count.provisional, count.provisional_years) == (6, True, (2027,))


def test_loading_a_notice_makes_the_count_final_and_applies_its_holidays(shipped_calendar, notice_file):
    path = notice_file(off=TEST_2027_OFF, work=TEST_2027_WORK)

    call_command("load_holiday_notice", str(path))

    assert 2027 in calendar.years_loaded()
    count = calendar.working_days_between(date(2026, 12, 28), date(2027, 1, 6))
    assert (count.days, count.provisional) == (5, False)
    assert calendar.is_working_day(date(2027, 1, 9))


def test_the_loader_reports_how_many_days_it_loaded(shipped_calendar, notice_file, capsys):
    call_command("load_holiday_notice", str(notice_file(off=TEST_2027_OFF, work=TEST_2027_WORK)))
    assert "Loaded 2 days" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("kwargs", "named", "reason"),
    [
        ({"off": [("2026-12-31", "元旦")]}, "2026-12-31", "outside the year 2027"),
        ({"off": [("2027-01-02", "元旦")], "work": [("2027-01-02", "元旦")]}, "2027-01-02", "both a day off and"),
        ({"off": [("2027-1-1", "元旦")]}, "2027-1-1", "not an ISO date"),
        ({"off": [("2027/01/01", "元旦")]}, "2027/01/01", "not an ISO date"),
        ({"off": [("2027-02-30", "春节")]}, "2027-02-30", "no such date"),
        ({"off": [("2027-01-01", "")]}, "2027-01-01", "names its holiday"),
        ({"work": [("2027-01-05", "元旦")]}, "2027-01-05", "must fall on a Saturday or Sunday"),  # a Tuesday
        ({"off": [("2027-01-01", "元旦"), ("2027-01-01", "元旦")]}, "2027-01-01", "appears twice"),
        ({"notice": "  "}, "notice", "must be given"),
        ({"year": "2027"}, "2027", "whole year number"),
        ({"offf": []}, "offf", "unknown keys"),
    ],
)
def test_a_bad_notice_file_is_refused_and_changes_nothing(shipped_calendar, notice_file, kwargs, named, reason):
    before = table_counts()

    with pytest.raises(CommandError) as excinfo:
        call_command("load_holiday_notice", str(notice_file(**kwargs)))

    message = str(excinfo.value)
    assert named in message and reason in message
    assert "未载入" in message and "Nothing was loaded" in message
    assert excinfo.value.returncode == 1
    assert table_counts() == before
    assert 2027 not in calendar.years_loaded()


def test_a_file_that_is_not_json_is_refused(shipped_calendar, notice_file):
    with pytest.raises(CommandError, match="not valid JSON"):
        call_command("load_holiday_notice", str(notice_file(raw="{not json")))


def test_reloading_a_loaded_year_is_refused_without_replace(shipped_calendar, notice_file):
    before = table_counts()

    with pytest.raises(CommandError, match="already loaded"):
        call_command("load_holiday_notice", str(notice_file(year=2025, off=[("2025-01-01", "元旦")])))

    assert table_counts() == before
    assert not calendar.is_working_day(date(2025, 10, 8))


def test_replace_reloads_a_year_and_warns(shipped_calendar, notice_file, capsys):
    path = notice_file(year=2025, off=[("2025-01-01", "元旦")], notice="国务院办公厅关于2025年部分节假日安排的通知")

    call_command("load_holiday_notice", str(path), "--replace")

    assert "Warning" in capsys.readouterr().err
    assert CalendarDay.objects.filter(year=2025).count() == 1
    assert calendar.is_working_day(date(2025, 10, 8))  # the test file has no 国庆 block


def test_a_failure_while_writing_keeps_the_old_calendar(shipped_calendar, notice_file, monkeypatch):
    def fail(*args, **kwargs):
        raise IntegrityError("disk full")

    monkeypatch.setattr(CalendarDay.objects, "bulk_create", fail)
    before = list(CalendarDay.objects.filter(year=2025).values_list("date", "kind", "name"))

    with pytest.raises(IntegrityError):
        call_command("load_holiday_notice", str(notice_file(year=2025, off=[("2025-01-01", "元旦")])), "--replace")

    assert list(CalendarDay.objects.filter(year=2025).values_list("date", "kind", "name")) == before
    assert WorkingCalendarYear.objects.filter(year=2025).exists()


def test_calendar_days_exclude_the_start_day_scenario_12():
    assert calendar.calendar_days_between(date(2025, 3, 1), date(2025, 3, 31)) == 30


def test_add_working_days_crosses_the_national_day_block(shipped_calendar):
    assert calendar.add_working_days(date(2025, 9, 26), 6) == (date(2025, 10, 11), False)
    assert calendar.add_working_days(date(2025, 9, 26), 4) == (date(2025, 10, 9), False)
    assert calendar.add_working_days(date(2025, 9, 26), 0) == (date(2025, 9, 26), False)


def test_add_working_days_into_an_unloaded_year_is_provisional(shipped_calendar):
    result = calendar.add_working_days(date(2026, 12, 30), 3)
    assert result.date == date(2027, 1, 4)  # Thu 12-31, Fri 01-01 (weekday rule), Mon 01-04
    assert result.provisional is True


def test_add_working_days_agrees_with_working_days_between(shipped_calendar):
    start = date(2025, 1, 20)
    for n in (1, 5, 20, 60):
        end = calendar.add_working_days(start, n).date
        assert calendar.working_days_between(start, end).days == n - 1
        assert calendar.is_working_day(end)


def test_localdate_uses_the_shanghai_calendar_date():
    assert calendar.localdate(datetime(2025, 3, 31, 16, 30, tzinfo=UTC)) == date(2025, 4, 1)
    assert calendar.localdate(datetime(2025, 3, 31, 15, 59, tzinfo=UTC)) == date(2025, 3, 31)


def test_localdate_refuses_a_naive_timestamp():
    with pytest.raises(ValueError, match="naive"):
        calendar.localdate(datetime(2025, 3, 31, 16, 30))


def test_counts_accept_aware_timestamps_by_their_shanghai_date(shipped_calendar):
    received = datetime(2025, 4, 6, 16, 30, tzinfo=UTC)  # 2025-04-07 00:30 in Shanghai
    assert calendar.working_days_between(received, date(2025, 4, 17)).days == 7
