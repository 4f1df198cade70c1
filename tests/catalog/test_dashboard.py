"""The progress dashboard: phases, overdue list, year-end statuses, coverage, roll-up, charts (B4, B9, P4).

Every number below was counted by hand from the data each test builds; none is recomputed with
the code under test. The data is made through the services (walkthroughs), never written directly.
"""

import re
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog import charts, dashboard
from catalog import rules as catalogue_rules
from catalog.models import CatalogueAdjustment
from decisions.models import Decision, DecisionState, Organisation, Position, WorkingCalendarYear
from decisions.services import legality
from decisions.walkthrough import consultation as consult_walk
from decisions.walkthrough import implementation as implementation_walk
from decisions.walkthrough import legality as legality_walk
from decisions.walkthrough import meeting as meeting_walk
from tests.catalog.conftest import Kit

COUNTY = Organisation.Level.COUNTY
SCRIPT = "<script>alert(1)</script>"


def publish_with(kit, items):
    """Publish a catalogue of `kit`'s organ with one entry per (title, entry fields); return it and its decisions."""
    catalogue = kit.open()
    proposals = []
    for title, fields in items:
        decision = kit.proposal(title)
        kit.add(catalogue, decision=decision, name=title, **fields)
        proposals.append(decision)
    for step in (kit.compile, kit.approve, kit.consent, kit.publish):
        step(catalogue)
        catalogue.refresh_from_db()
    return catalogue, [Decision.objects.get(pk=d.pk) for d in proposals]


def planned(start, end):
    return {"planned_submission_from": start, "planned_submission_to": end, "planned_submission_text": ""}


def comment_closing_in(kit, decision, days):
    """CONSULTATION with a public-comment notice whose deadline is `days` from today."""
    decision = kit.advance(decision, "CONSULTATION")
    consult_walk.comment(kit.cast, decision, ended_days_ago=-days)
    return decision


def under_review(kit, decision, received_on):
    """LEGAL_REVIEW_IN_PROGRESS with complete materials received on `received_on`."""
    decision = kit.advance(decision, "CONSULTATION")
    consult_walk.consult(kit.cast, decision, expert=False, risk=False)
    decision = legality_walk.submit(kit.cast, Decision.objects.get(pk=decision.pk), received_on=received_on)
    return legality.accept_submission(kit.cast["LEGAL_REVIEWER"], decision)


@pytest.fixture
def world(cast_factory, profile_variant):
    """A city (catalogue not required, so it can decide outside the catalogue) with two counties.

    City catalogue, in entry order: 甲 decided; 乙 in consultation, planned period ended 10 days
    ago; 丙 in consultation, comment period ends in 2 days; 丁 removed by a published REMOVE;
    戊 deferred at the meeting, planned period ended 5 days ago; 己 scheduled, planned period
    ended 3 days ago; 庚 just listed. Outside the catalogue: 辛 decided. County A (its name has a
    <script> in it): one listed, one with the legality opinion issued, one rejected and archived.
    County B: one decided.
    """
    city = cast_factory(
        profile=profile_variant("huzhou", catalogue_required=False).code, code="city", name="测试市人民政府"
    )
    county_a = cast_factory(code="county-a", name=f"{SCRIPT}县人民政府", level=COUNTY, parent=city.organ)
    county_b = cast_factory(code="county-b", name="测试乙县人民政府", level=COUNTY, parent=city.organ)
    kit = Kit(city)
    today = kit.today
    catalogue, (jia, yi, bing, ding, wu, ji, geng) = publish_with(
        kit,
        [
            ("甲：已决定事项", {}),
            ("乙：逾期事项", planned(today - timedelta(days=70), today - timedelta(days=10))),
            ("丙：征求意见即将截止", planned(today + timedelta(days=30), today + timedelta(days=60))),
            ("丁：调整撤出事项", {}),
            ("戊：暂缓事项", planned(today - timedelta(days=40), today - timedelta(days=5))),
            ("己：已列入会议", planned(today - timedelta(days=40), today - timedelta(days=3))),
            ("庚：刚列入目录", {"planned_submission_text": "视前期工作进展确定"}),
        ],
    )
    kit.advance(jia, "DECIDED")
    kit.advance(yi, "CONSULTATION")
    comment_closing_in(kit, bing, 2)
    kit.adjustment_at(
        catalogue, "PUBLISHED", CatalogueAdjustment.Kind.REMOVE, entry=catalogue.entries_at().get(decision=ding)
    )
    meeting_walk.decide(city, kit.advance(wu, "SCHEDULED"), Position.DEFER)
    kit.advance(ji, "SCHEDULED")
    outside = kit.advance(kit.proposal("辛：未列入目录即决定的事项"), "DECIDED")

    kit_a = Kit(county_a)
    later = planned(today + timedelta(days=30), today + timedelta(days=60))  # nothing late in the counties
    catalogue_a, (_listed_a, reviewed_a, rejected_a) = publish_with(
        kit_a, [("县甲：已列入", later), ("县乙：审查意见已出具", later), ("县丁：未通过已归档", later)]
    )
    kit_a.advance(reviewed_a, "LEGAL_REVIEW_DONE")
    meeting_walk.decide(county_a, kit_a.advance(rejected_a, "SCHEDULED"), Position.REJECT)
    implementation_walk.archive(county_a, rejected_a)
    kit_b = Kit(county_b)
    catalogue_b, (decided_b,) = publish_with(kit_b, [("县丙：已决定", later)])
    kit_b.advance(decided_b, "DECIDED")
    catalogue.refresh_from_db()
    return {
        "city": city,
        "county_a": county_a,
        "county_b": county_b,
        "catalogue": catalogue,
        "catalogue_a": catalogue_a,
        "today": today,
        "year": kit.year,
        "decisions": {"甲": jia, "乙": yi, "丙": bing, "丁": ding, "戊": wu, "己": ji, "庚": geng, "辛": outside},
    }


def counts(phases):
    return {p.code: p.count for p in phases if p.count}


def test_every_decision_state_maps_to_exactly_one_phase():
    mapped = [state for _code, _label, states in dashboard.PHASES for state in states]
    assert sorted(mapped) == sorted(DecisionState.values)
    assert len(mapped) == len(set(mapped))
    assert [label for _code, label, _states in dashboard.PHASES][:10] == [
        "建议/列入目录",
        "启动与起草",
        "公众参与·专家论证·风险评估",
        "合法性审查",
        "提请审议/列入会议",
        "已决定(含公布、执行、后评估)",
        "暂缓",
        "不同意",
        "撤出",
        "归档",
    ]
    assert dashboard.phase_of(None) == "PROPOSAL"
    assert dashboard.phase_of("REVISING") == "LEGALITY" and dashboard.phase_of("STOPPED") == "DECIDED"


def test_the_catalogue_dashboard_counts_phases_rows_and_year_end_statuses(world):
    progress = dashboard.catalogue_progress(world["catalogue"], world["today"])
    assert progress.published and progress.version == 2 and progress.total == 6
    assert counts(progress.phases) == {"PROPOSAL": 1, "CONSULTATION": 2, "MEETING": 1, "DECIDED": 1, "DEFERRED": 1}
    assert len(progress.phases) == len(dashboard.PHASES)
    rows = {r.seq_no: r for r in progress.entries}
    assert sorted(rows) == [1, 2, 3, 5, 6, 7]  # 丁 (4) was removed in version 2
    assert [(r.name, r.state, r.phase, r.year_end_status) for r in progress.entries] == [
        ("甲：已决定事项", "DECIDED", "DECIDED", "DECIDED"),
        ("乙：逾期事项", "CONSULTATION", "CONSULTATION", "IN_PROGRESS"),
        ("丙：征求意见即将截止", "CONSULTATION", "CONSULTATION", "IN_PROGRESS"),
        ("戊：暂缓事项", "DEFERRED", "DEFERRED", "IN_PROGRESS"),
        ("己：已列入会议", "SCHEDULED", "MEETING", "IN_PROGRESS"),
        ("庚：刚列入目录", "LISTED", "PROPOSAL", "IN_PROGRESS"),
    ]
    assert rows[1].lead_unit == "测试市发展和改革委员会" and rows[1].decision_lead_unit == ""
    assert rows[5].state_label == "暂缓" and rows[5].phase_label == "暂缓"
    assert rows[7].planned_period == "视前期工作进展确定"
    assert {s.code: s.count for s in progress.year_end} == {
        "DECIDED": 1,
        "REJECTED": 0,
        "WITHDRAWN": 0,
        "IN_PROGRESS": 5,
    }
    assert progress.removed == 1
    (adjustment,) = progress.adjustments
    assert (adjustment.kind, adjustment.state, adjustment.entry_name, adjustment.version) == (
        "REMOVE",
        "PUBLISHED",
        "丁：调整撤出事项",
        2,
    )
    assert adjustment.decision_reference == world["decisions"]["丁"].reference
    # The statuses fetched in bulk are those the year-end rule derives one decision at a time.
    county = dashboard.catalogue_progress(world["catalogue_a"], world["today"])
    assert [(r.phase, r.year_end_status) for r in county.entries] == [
        ("PROPOSAL", "IN_PROGRESS"),
        ("LEGALITY", "IN_PROGRESS"),
        ("ARCHIVED", "REJECTED"),  # archived from REJECTED
    ]
    for catalogue, rows in ((world["catalogue"], progress.entries), (world["catalogue_a"], county.entries)):
        entries = {e.seq_no: e for e in catalogue.entries_at().select_related("decision")}
        for row in rows:
            assert row.year_end_status == catalogue_rules.year_end_status(entries[row.seq_no].decision)


def test_the_overdue_list_has_the_planned_periods_passed_and_the_comment_period_closing(world):
    today = world["today"]
    progress = dashboard.catalogue_progress(world["catalogue"], today)
    assert [(a.seq_no, a.kind, a.passed, a.days) for a in progress.overdue] == [
        (2, "PLANNED_PERIOD", True, 10),
        (3, "COMMENT_PERIOD", False, 2),
        (5, "PLANNED_PERIOD", True, 5),  # DEFER does not pause the planned period
    ]
    yi, bing, wu = progress.overdue
    assert yi.due == today - timedelta(days=10) and "已过10天" in yi.text and "公众参与/专家论证/风险评估" in yi.text
    assert bing.due == today + timedelta(days=2) and "还剩2天" in bing.text
    rows = {r.seq_no: r for r in progress.entries}
    assert [s for s, r in rows.items() if r.overdue] == [2, 3, 5]
    assert rows[6].overdue is False  # 己 is SCHEDULED: it reached the meeting
    # The same entries as the rule that warns the lead unit (B9 "Planned vs actual").
    expected = {e.seq_no for e in catalogue_rules.planned_submission_overdue(world["catalogue"], today)}
    assert {a.seq_no for a in progress.overdue if a.kind == "PLANNED_PERIOD"} == expected == {2, 5}


def test_the_clocks_move_with_the_day_asked_about(world):
    today = world["today"]
    # On the last day of 乙's planned period it is not overdue yet; the day after, it is (one day).
    yi_end = today - timedelta(days=10)
    on_last_day = dashboard.catalogue_progress(world["catalogue"], yi_end)
    assert 2 not in {a.seq_no for a in on_last_day.overdue if a.kind == "PLANNED_PERIOD"}
    next_day = dashboard.catalogue_progress(world["catalogue"], yi_end + timedelta(days=1))
    assert [a.days for a in next_day.overdue if a.seq_no == 2] == [1]
    # 丙's comment period: 6 days before the deadline nothing, on the deadline "today", after it run out.
    deadline = today + timedelta(days=2)
    assert not [
        a
        for a in dashboard.catalogue_progress(world["catalogue"], deadline - timedelta(days=6)).overdue
        if a.seq_no == 3
    ]
    (on_deadline,) = [a for a in dashboard.catalogue_progress(world["catalogue"], deadline).overdue if a.seq_no == 3]
    assert (on_deadline.passed, on_deadline.days) == (False, 0) and "今日" in on_deadline.text
    late = dashboard.catalogue_progress(world["catalogue"], deadline + timedelta(days=1))
    (after,) = [a for a in late.overdue if a.seq_no == 3]
    assert (after.passed, after.days) == (True, -1) and "已于" in after.text


def test_coverage_counts_the_decisions_made_outside_the_catalogue(world):
    coverage = dashboard.catalogue_progress(world["catalogue"], world["today"]).coverage
    assert (coverage.year, coverage.decided, coverage.through_catalogue, coverage.percent) == (
        world["year"],
        2,
        1,
        50.0,
    )
    (finding,) = coverage.outside
    assert (finding.title, finding.reference, finding.decided_on) == (
        "辛：未列入目录即决定的事项",
        world["decisions"]["辛"].reference,
        world["today"],
    )
    # Another year has nothing decided.
    other = dashboard.government_progress(world["city"].organ, world["year"] - 1, world["today"])
    assert (other.coverage.decided, other.coverage.percent, other.entries) == (0, None, 0)


def test_the_city_rolls_up_its_counties_and_a_county_not_its_city(world):
    progress = dashboard.government_progress(world["city"].organ, world["year"], world["today"])
    assert [r.organ for r in progress.rows] == ["测试市人民政府", f"{SCRIPT}县人民政府", "测试乙县人民政府"]
    assert [(r.entries, r.overdue, r.coverage.decided, r.coverage.through_catalogue) for r in progress.rows] == [
        (6, 2, 2, 1),
        (3, 0, 0, 0),
        (1, 0, 1, 1),
    ]
    assert [counts(r.phases) for r in progress.rows] == [
        {"PROPOSAL": 1, "CONSULTATION": 2, "MEETING": 1, "DECIDED": 1, "DEFERRED": 1},
        {"PROPOSAL": 1, "LEGALITY": 1, "ARCHIVED": 1},
        {"DECIDED": 1},
    ]
    assert progress.rows[0].catalogue_id == world["catalogue"].pk and progress.rows[0].catalogue_state == "PUBLISHED"
    assert progress.entries == 10 and progress.overdue == 2
    assert counts(progress.phases) == {
        "PROPOSAL": 2,
        "CONSULTATION": 2,
        "LEGALITY": 1,
        "MEETING": 1,
        "DECIDED": 2,
        "DEFERRED": 1,
        "ARCHIVED": 1,
    }
    assert (progress.coverage.decided, progress.coverage.through_catalogue, progress.coverage.percent) == (3, 2, 66.7)
    assert [d.title for d in progress.coverage.outside] == ["辛：未列入目录即决定的事项"]
    assert progress.rows[1].coverage.percent is None and progress.rows[2].coverage.percent == 100.0

    county = dashboard.government_progress(world["county_a"].organ, world["year"], world["today"])
    assert [r.organ for r in county.rows] == [f"{SCRIPT}县人民政府"]
    assert (county.entries, county.overdue, county.coverage.decided) == (3, 0, 0)
    assert county.catalogue_ids == (world["catalogue_a"].pk,)


def test_the_charts_show_the_numbers_and_escape_every_label(world):
    progress = dashboard.catalogue_progress(world["catalogue"], world["today"])
    svg = str(charts.phase_chart(progress.phases))
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg" role="img"')
    assert "<title" in svg and "<desc" in svg and "共 6 项" in svg
    assert re.findall(r'font-weight="bold">(\d+)</text>', svg) == [
        "1",
        "0",
        "2",
        "0",
        "1",
        "1",
        "1",
        "0",
        "0",
        "0",
        "0",
    ]
    assert "公众参与·专家论证·风险评估 2 项" in svg

    rollup = dashboard.government_progress(world["city"].organ, world["year"], world["today"])
    svg = str(charts.government_chart(rollup.rows))
    assert SCRIPT not in svg and "&lt;script&gt;alert(1)&lt;/script&gt;县人民政府" in svg
    assert "共 6 项" in svg and "共 3 项" in svg and "共 1 项" in svg
    assert "测试市人民政府：共 6 项，其中建议/列入目录 1 项" in svg

    svg = str(charts.coverage_chart(rollup.coverage))
    assert "66.7%" in svg and "目标 100%" in svg and "经集体讨论决定 3 项，其中列入目录 2 项" in svg
    assert "未经目录 1 项" in svg


def test_chart_colours_leave_white_numbers_readable():
    def luminance(colour):
        channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    assert set(charts.PHASE_COLOURS) == set(dashboard.PHASE_LABELS)
    for colour in [*charts.PHASE_COLOURS.values(), charts.COVERAGE_COLOUR]:
        assert (1.05) / (luminance(colour) + 0.05) >= 4.5, colour
    assert (1.05) / (luminance(charts.TEXT) + 0.05) >= 7


def test_a_chart_escapes_labels_it_is_given():
    rows = [dashboard.PhaseCount("PROPOSAL", '<b onclick="x">建议</b>&', 3)]
    svg = str(charts.phase_chart(rows, title="<i>标题</i>"))
    assert "<b " not in svg and "<i>" not in svg
    assert "&lt;b onclick=&quot;x&quot;&gt;建议&lt;/b&gt;&amp;" in svg and "&lt;i&gt;标题&lt;/i&gt;" in svg
    empty = str(charts.coverage_chart(dashboard.Coverage(year=2026, decided=0, through_catalogue=0)))
    assert "2026年度尚无经集体讨论决定的重大行政决策事项" in empty


def test_the_legality_review_clock_counts_working_days_on_the_holiday_calendar(kit):
    catalogue, (decision,) = publish_with(kit, [("关于审查时间的决策", {})])
    under_review(kit, decision, date(2025, 4, 24))

    def review_alerts(today):
        return [a for a in dashboard.catalogue_progress(catalogue, today).overdue if a.kind == "LEGALITY_REVIEW"]

    # After Thu 24 April 2025: Fri 25, Sun 27 (调休上班), Mon 28, Tue 29 → 4 on the 29th: not near yet.
    assert review_alerts(date(2025, 4, 29)) == []
    (near,) = review_alerts(date(2025, 4, 30))
    assert (near.passed, near.days, near.provisional) == (False, 5, False)
    assert "已满5个工作日" in near.text and "一般不少于7个工作日" in near.text
    # 1–5 May are days off: Tue 6 May is the 6th working day, Wed 7 May the 7th.
    assert [(a.passed, a.days) for a in review_alerts(date(2025, 5, 6))] == [(False, 6)]
    assert [(a.passed, a.days) for a in review_alerts(date(2025, 5, 7))] == [(True, 7)]


def test_a_review_count_on_a_year_without_its_holiday_notice_is_provisional(kit):
    catalogue, (decision,) = publish_with(kit, [("关于暂定工作日的决策", {})])
    under_review(kit, decision, date(2025, 4, 24))
    WorkingCalendarYear.objects.filter(year=2025).delete()
    # The weekday rule: Fri 25, Mon 28, Tue 29, Wed 30, Thu 1 May → 5; neither 调休 nor 劳动节 is known.
    (alert,) = [
        a for a in dashboard.catalogue_progress(catalogue, date(2025, 5, 1)).overdue if a.kind == "LEGALITY_REVIEW"
    ]
    assert (alert.days, alert.provisional) == (5, True)
    assert "2025年节假日安排尚未载入" in alert.text


def test_before_publication_the_dashboard_shows_the_draft_entries(kit):
    catalogue = kit.open()
    kit.add(catalogue, name="征集中的事项", planned_submission_to=kit.today - timedelta(days=30))
    progress = dashboard.catalogue_progress(catalogue, kit.today)
    assert (progress.published, progress.total, progress.overdue) == (False, 1, ())
    (row,) = progress.entries
    assert (row.name, row.state_label, row.phase, row.year_end_status) == (
        "征集中的事项",
        "未关联决策",
        "PROPOSAL",
        "IN_PROGRESS",
    )


def test_after_the_year_end_report_the_recorded_statuses_and_dispositions_are_shown(kit):
    catalogue, (decided, running) = publish_with(kit, [("已决定的事项", {}), ("结转的事项", {})])
    kit.advance(decided, "DECIDED")
    keyed = {e.decision_id: e.key for e in catalogue.entries_at()}
    kit.report(catalogue, dispositions={keyed[running.pk]: "CARRY_OVER"})
    progress = dashboard.catalogue_progress(catalogue, kit.today)
    assert progress.state == "YEAR_END_REPORTED"
    assert [(r.year_end_status, r.year_end_disposition) for r in progress.entries] == [
        ("DECIDED", ""),
        ("IN_PROGRESS", "CARRY_OVER"),
    ]
    assert {d.code: d.count for d in progress.dispositions} == {"CARRY_OVER": 1, "REMOVE_PENDING": 0}


# -- the cost does not grow with the entries --------------------------------------------------------


def mixed_catalogue(kit, copies):
    """A catalogue with `copies` of each: listed, comment closing, under legality review, decided."""
    items = []
    for n in range(copies):
        items += [(f"列入{n}", {}), (f"征求意见{n}", {}), (f"审查{n}", {}), (f"决定{n}", {})]
    catalogue, decisions = publish_with(kit, items)
    for n in range(copies):
        _listed, commenting, reviewing, deciding = decisions[4 * n : 4 * n + 4]
        comment_closing_in(kit, commenting, 1)
        under_review(kit, reviewing, kit.today - timedelta(days=12))
        kit.advance(deciding, "DECIDED")
    return catalogue


def queries(fn, *args):
    with CaptureQueriesContext(connection) as captured:
        result = fn(*args)
    return len(captured), result


def test_the_number_of_queries_does_not_grow_with_the_entries(cast_factory, django_assert_max_num_queries):
    small_kit, large_kit = Kit(cast_factory(code="small")), Kit(cast_factory(code="large"))
    small, large = mixed_catalogue(small_kit, 1), mixed_catalogue(large_kit, 2)
    small_count, small_progress = queries(dashboard.catalogue_progress, small, small_kit.today)
    large_count, large_progress = queries(dashboard.catalogue_progress, large, large_kit.today)
    assert (small_progress.total, large_progress.total) == (4, 8)
    assert [a.kind for a in large_progress.overdue].count("COMMENT_PERIOD") == 2
    assert [a.kind for a in large_progress.overdue].count("LEGALITY_REVIEW") == 2
    assert small_count == large_count
    # 10, plus 2 for the holiday calendar when a review is running, plus 1 when an entry's decision is archived.
    with django_assert_max_num_queries(12):
        dashboard.catalogue_progress(large, large_kit.today)

    small_count, _ = queries(dashboard.government_progress, small_kit.cast.organ, small_kit.year, small_kit.today)
    large_count, rollup = queries(dashboard.government_progress, large_kit.cast.organ, large_kit.year, large_kit.today)
    assert rollup.entries == 8 and rollup.coverage.decided == 2
    assert small_count == large_count
    # One query per level of the organisation tree (here the organ and its departments), then 5.
    with django_assert_max_num_queries(7):
        dashboard.government_progress(large_kit.cast.organ, large_kit.year, large_kit.today)


def test_an_entry_typed_with_only_its_planned_wording_is_warned_about_once_that_period_has_passed(kit):
    year = kit.year
    catalogue = kit.open()
    kit.add(
        catalogue, decision=kit.proposal("按季度计划的事项"), name="按季度计划的事项", planned_submission_text="三季度"
    )
    kit.add(
        catalogue, decision=kit.proposal("时间未定的事项"), name="时间未定的事项", planned_submission_text="视进展确定"
    )
    quarter, undecided = catalogue.draft_entries().order_by("seq_no")
    assert (quarter.planned_submission_from, quarter.planned_submission_to) == (date(year, 7, 1), date(year, 9, 30))
    assert (undecided.planned_submission_from, undecided.planned_submission_to) == (None, None)  # never guessed
    for step in (kit.compile, kit.approve, kit.consent, kit.publish):
        step(catalogue)
        catalogue.refresh_from_db()

    assert dashboard.catalogue_progress(catalogue, date(year, 9, 30)).overdue == ()
    (alert,) = dashboard.catalogue_progress(catalogue, date(year, 10, 1)).overdue
    assert (alert.entry_name, alert.kind, alert.days) == ("按季度计划的事项", "PLANNED_PERIOD", 1)

    # A published MODIFY of the wording moves the dates with it.
    entry = catalogue.entries_at().get(name="按季度计划的事项")
    kit.adjustment_at(
        catalogue, "PUBLISHED", CatalogueAdjustment.Kind.MODIFY, entry=entry, data={"planned_submission_text": "年底前"}
    )
    catalogue.refresh_from_db()
    moved = catalogue.entries_at().get(name="按季度计划的事项")
    assert (moved.planned_submission_from, moved.planned_submission_to) == (None, date(year, 12, 31))
    assert dashboard.catalogue_progress(catalogue, date(year, 10, 1)).overdue == ()
