"""P4: a count made while a year's holiday notice was missing is re-run when the notice is loaded."""

import json
from datetime import timedelta

from django.core.management import call_command
from django.utils import timezone

from decisions import calendar
from decisions.models import AgendaItem, AuditEvent, WorkingCalendarYear
from decisions.walkthrough import initiation as walk
from decisions.walkthrough import legality, meeting
from decisions.walkthrough.consultation import consult


def _weekdays_after(start, n):
    """Return the date by which `n` weekdays lie strictly after `start` (plain weekday rule)."""
    day, seen = start, 0
    while seen < n:
        day += timedelta(days=1)
        if day.weekday() < 5:
            seen += 1
    return day


def test_loading_the_notice_reruns_a_provisional_review_count_and_warns_when_it_is_now_short(
    open_cast, tmp_path, capsys
):
    today = timezone.localdate()
    received_on = today - timedelta(days=1)
    meeting_date = _weekdays_after(received_on, 8) + timedelta(days=1)  # 8 weekdays strictly between
    # Test set-up: this year's notice "not yet loaded", so the count at scheduling is provisional.
    WorkingCalendarYear.objects.filter(year__in={today.year, meeting_date.year}).delete()
    decision = walk.draft(open_cast, walk.initiate(open_cast, walk.propose(open_cast)))
    consult(open_cast, decision)
    decision = legality.to_ready_for_meeting(open_cast, legality.review(open_cast, decision, received_on=received_on))
    scheduled = meeting.schedule(open_cast, decision, date=meeting_date)
    assert scheduled.state == "SCHEDULED"
    assert any(w["code"] == "WORKING_DAYS_PROVISIONAL" for w in scheduled.warnings)
    item = AgendaItem.objects.get(decision=decision, stage_record__isnull=False)
    assert item.review_days_provisional and item.review_working_days == 8

    # The notice turns three of those weekdays into days off (a hypothetical notice, for the test).
    off = [d for d in (received_on + timedelta(days=i) for i in range(1, 15)) if d.weekday() < 5][:3]
    year = max({d.year for d in off}, key=lambda y: sum(d.year == y for d in off))  # ≥ 2 of the 3 days
    path = tmp_path / "notice.json"
    path.write_text(
        json.dumps(
            {
                "year": year,
                "notice": f"国务院办公厅关于{year}年部分节假日安排的通知(测试)",
                "off": [{"date": d.isoformat(), "name": "测试假日"} for d in off if d.year == year],
                "work": [],
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    for other in {received_on.year, meeting_date.year} - {year}:  # the whole span must become final
        calendar.load_notice({"year": other, "notice": "测试", "off": [], "work": []})
    call_command("load_holiday_notice", str(path))

    item.refresh_from_db()
    decision.refresh_from_db()
    assert decision.state == "SCHEDULED"  # a step taken is not reversed
    assert item.review_working_days == 8  # both counts are kept
    assert item.review_working_days_rechecked == 8 - len([d for d in off if d.year == year])
    assert not item.review_days_provisional
    event = AuditEvent.objects.filter(action="calendar:recheck", decision_id_ref=decision.pk).get()
    assert event.payload["now_short"] is True
    assert event.payload["notify"] == ["GOV_OFFICE", "LEGAL_REVIEWER"]
    assert "审查时间不足" in capsys.readouterr().out


def test_a_count_made_on_a_loaded_calendar_is_not_rechecked(open_cast):
    decision = walk.draft(open_cast, walk.initiate(open_cast, walk.propose(open_cast)))
    consult(open_cast, decision)
    decision = legality.to_ready_for_meeting(open_cast, legality.review(open_cast, decision))
    meeting.schedule(open_cast, decision, date=timezone.localdate() + timedelta(days=3))
    from decisions.services.meeting import recheck_provisional_counts

    assert recheck_provisional_counts([timezone.localdate().year]) == []
