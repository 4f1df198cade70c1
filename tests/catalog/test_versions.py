"""Catalogue versions and what changed between them (catalog/versions.py), through the walkthrough and services."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog import services, versions, walkthrough
from catalog.models import CatalogueAdjustment
from decisions.walkthrough import doc

ADD, REMOVE, MODIFY = CatalogueAdjustment.Kind.ADD, CatalogueAdjustment.Kind.REMOVE, CatalogueAdjustment.Kind.MODIFY


def published(cast, names=("城区停车收费标准调整", "市区公交线网优化方案")):
    catalogue = walkthrough.publish_catalogue(cast, entries=[{"name": name} for name in names])
    catalogue.refresh_from_db()
    return catalogue


def entry_named(catalogue, name):
    return catalogue.entries_at().get(name=name)


def by_label(change):
    return {f.label: (f.old, f.new) for f in change.fields}


def test_an_unpublished_catalogue_has_no_versions(cast):
    office = cast["GOV_OFFICE"]
    catalogue = services.open_catalogue(office, cast.organ, date.today().year, call_for_proposals=doc("OTHER", "征集"))
    assert versions.versions(catalogue) == []
    with pytest.raises(ValueError):
        versions.changes(catalogue, 1)


def test_version_one_is_the_original_publication_and_lists_every_entry(cast):
    catalogue = published(cast)
    (first,) = versions.versions(catalogue)
    assert (first.number, first.adjustment, first.kind, first.kind_label) == (1, None, "", "首次公布")
    assert first.entry_count == 2
    assert first.notice_number == catalogue.notice_number and first.notice_url == catalogue.notice_url
    assert first.date == first.notice_date == catalogue.notice_date
    original = versions.changes(catalogue, 1)
    assert original.original and original.adjustment is None and not original.removed and not original.modified
    assert [e.name for e in original.added] == ["城区停车收费标准调整", "市区公交线网优化方案"]
    fields = by_label(original.added[0])
    assert fields["决策事项名称"] == ("", "城区停车收费标准调整")
    assert fields["承办单位"] == ("", cast.lead_unit.name)
    assert fields["履行程序"] == ("", "公众参与、合法性审查、集体讨论决定")
    assert fields["拟提交审议时间"] == ("", "9月份")
    assert "备注" not in fields  # an empty field is not listed


def test_an_add_makes_version_two_with_the_new_entry(cast):
    catalogue = published(cast)
    adjustment = walkthrough.add_to_catalogue(
        cast, catalogue, name="老旧小区改造三年行动计划", required_procedures=["PP", "HEARING", "LR", "CD"]
    )
    catalogue.refresh_from_db()
    first, second = versions.versions(catalogue)
    assert (second.number, second.kind, second.kind_label, second.entry_count) == (2, ADD, "新增", 3)
    assert second.adjustment == adjustment and second.reason == adjustment.reason == "年度中新增决策事项"
    assert (second.notice_number, second.notice_date, second.notice_url) == (
        adjustment.notice_number,
        adjustment.notice_date,
        adjustment.notice_url,
    )
    assert first.entry_count == 2
    diff = versions.changes(catalogue, 2)
    assert not diff.original and diff.adjustment == adjustment
    assert [e.name for e in diff.added] == ["老旧小区改造三年行动计划"] and not diff.removed and not diff.modified
    added = diff.added[0]
    assert added.previous is None and added.row == entry_named(catalogue, "老旧小区改造三年行动计划")
    assert by_label(added)["履行程序"] == ("", "公众参与、听证、合法性审查、集体讨论决定")


def test_a_remove_lists_the_entry_as_it_was(cast):
    catalogue = published(cast)
    leaving = entry_named(catalogue, "市区公交线网优化方案")
    walkthrough.remove_from_catalogue(cast, catalogue, leaving.decision, reason="上级已统一部署，不再单独决策")
    catalogue.refresh_from_db()
    latest = versions.versions(catalogue)[-1]
    assert (latest.number, latest.kind, latest.kind_label, latest.entry_count) == (2, REMOVE, "撤出", 1)
    assert latest.reason == "上级已统一部署，不再单独决策"
    diff = versions.changes(catalogue, 2)
    assert not diff.added and not diff.modified
    (removed,) = diff.removed
    assert (removed.key, removed.seq_no, removed.name) == (str(leaving.key), leaving.seq_no, leaving.name)
    assert by_label(removed)["决策事项名称"] == ("市区公交线网优化方案", "")
    assert by_label(removed)["承办单位"] == (cast.lead_unit.name, "")


def test_a_modify_diffs_name_unit_timing_and_procedures_field_by_field(cast):
    catalogue = published(cast)
    entry = entry_named(catalogue, "城区停车收费标准调整")
    new_unit = cast.co_units[0]
    year = catalogue.year
    walkthrough.adjust(
        cast,
        catalogue,
        MODIFY,
        reason="承办单位职能调整",
        entry=entry,
        data={
            "name": "城区停车收费标准及管理办法调整",
            "lead_unit": new_unit,
            "planned_submission_text": "11月份",
            "planned_submission_from": date(year, 10, 1),
            "planned_submission_to": date(year, 11, 15),
            "required_procedures": ["PP", "HEARING", "EX", "LR", "CD"],
        },
    )
    catalogue.refresh_from_db()
    latest = versions.versions(catalogue)[-1]
    assert (latest.number, latest.kind, latest.kind_label, latest.entry_count) == (2, MODIFY, "调整", 2)
    diff = versions.changes(catalogue, 2)
    assert not diff.added and not diff.removed
    (modified,) = diff.modified
    assert modified.key == str(entry.key) and modified.previous.pk == entry.pk and modified.row.pk != entry.pk
    assert by_label(modified) == {
        "决策事项名称": ("城区停车收费标准调整", "城区停车收费标准及管理办法调整"),
        "承办单位": (cast.lead_unit.name, new_unit.name),
        "履行程序": ("公众参与、合法性审查、集体讨论决定", "公众参与、听证、专家论证、合法性审查、集体讨论决定"),
        "拟提交审议时间（起）": (f"{year}年9月", f"{year}年10月"),  # “9月份” was read into dates
        "拟提交审议时间（止）": (f"{year}年9月30日", f"{year}年11月15日"),
        "拟提交审议时间": ("9月份", "11月份"),
    }
    assert [f.field for f in modified.fields][:2] == ["name", "lead_unit"]  # in the order FIELD_LABELS lists


def test_reordering_the_same_procedures_is_not_a_change(cast):
    catalogue = published(cast)
    entry = entry_named(catalogue, "城区停车收费标准调整")
    walkthrough.adjust(
        cast, catalogue, MODIFY, entry=entry, data={"required_procedures": ["CD", "LR", "PP"], "remarks": "补充备注"}
    )
    catalogue.refresh_from_db()
    (modified,) = versions.changes(catalogue, 2).modified
    assert by_label(modified) == {"备注": ("", "补充备注")}


def test_earlier_versions_read_back_as_published_and_rejected_adjustments_make_none(cast):
    catalogue = published(cast)
    entry = entry_named(catalogue, "城区停车收费标准调整")
    walkthrough.add_to_catalogue(cast, catalogue, name="第三项")
    walkthrough.adjust(cast, catalogue, MODIFY, entry=entry, data={"name": "改名"})
    catalogue.refresh_from_db()
    renamed = entry_named(catalogue, "改名")
    proposed = services.propose_adjustment(
        cast["GOV_OFFICE"], catalogue, kind=MODIFY, reason="拟调整", entry=renamed, data={"remarks": "x"}
    )
    services.reject_adjustment(cast["GOV_OFFICE"], proposed, reason="不予调整")
    catalogue.refresh_from_db()
    listed = versions.versions(catalogue)
    assert [(v.number, v.kind, v.entry_count) for v in listed] == [(1, "", 2), (2, ADD, 3), (3, MODIFY, 3)]
    assert [e.name for e in versions.changes(catalogue, 1).added] == ["城区停车收费标准调整", "市区公交线网优化方案"]
    assert [r.name for r in versions.entry_rows(catalogue, 1)] == ["城区停车收费标准调整", "市区公交线网优化方案"]
    assert [r.name for r in versions.entry_rows(catalogue, 3)] == ["改名", "市区公交线网优化方案", "第三项"]
    assert [e.name for e in versions.changes(catalogue, 2).added] == ["第三项"]
    with pytest.raises(ValueError):
        versions.changes(catalogue, 4)
    with pytest.raises(ValueError):
        versions.changes(catalogue, 0)


def test_an_adjustment_not_yet_published_shows_what_it_would_change(cast):
    catalogue = published(cast)
    office = cast["GOV_OFFICE"]
    entry = entry_named(catalogue, "城区停车收费标准调整")
    modify = services.propose_adjustment(
        office,
        catalogue,
        kind=MODIFY,
        reason="调整时间",
        entry=entry,
        data={"planned_submission_text": "12月份", "lead_unit": cast.co_units[0]},
    )
    year = catalogue.year
    assert {c.label: (c.old, c.new) for c in versions.proposed_changes(modify)} == {
        "承办单位": (cast.lead_unit.name, cast.co_units[0].name),
        "拟提交审议时间（起）": (f"{year}年9月", f"{year}年12月"),
        "拟提交审议时间（止）": (f"{year}年9月30日", f"{year}年12月31日"),
        "拟提交审议时间": ("9月份", "12月份"),
    }
    other = entry_named(catalogue, "市区公交线网优化方案")
    remove = services.propose_adjustment(office, catalogue, kind=REMOVE, reason="不再决策", entry=other)
    removed = {c.label: (c.old, c.new) for c in versions.proposed_changes(remove)}
    assert removed["决策事项名称"] == ("市区公交线网优化方案", "") and all(new == "" for _old, new in removed.values())
    add = services.propose_adjustment(
        office, catalogue, kind=ADD, reason="新增", data=walkthrough.entry_data(cast, {"name": "新增事项"})[1]
    )
    added = {c.label: (c.old, c.new) for c in versions.proposed_changes(add)}
    assert added["决策事项名称"] == ("", "新增事项") and all(old == "" for old, _new in added.values())


def _queries(fn, *args):
    with CaptureQueriesContext(connection) as captured:
        fn(*args)
    return len(captured)


def test_versions_and_changes_take_a_constant_number_of_queries(cast_factory):
    small_cast, large_cast = cast_factory(), cast_factory()
    small = published(small_cast, names=("一",))
    large = published(large_cast, names=("一", "二", "三", "四", "五", "六"))
    walkthrough.add_to_catalogue(small_cast, small, name="新增一")
    for name in ("新增一", "新增二", "新增三"):
        walkthrough.add_to_catalogue(large_cast, large, name=name)
    first = entry_named(large, "一")
    walkthrough.adjust(large_cast, large, MODIFY, entry=first, data={"co_units": large_cast.co_units})
    small.refresh_from_db()
    large.refresh_from_db()
    assert _queries(versions.versions, small) == _queries(versions.versions, large)
    assert _queries(versions.changes, small, 1) == _queries(versions.changes, large, 1)
    assert _queries(versions.changes, small, 2) == _queries(versions.changes, large, 5)
    (modified,) = versions.changes(large, 5).modified
    assert by_label(modified) == {"协办单位": ("", "、".join(u.name for u in large_cast.co_units))}
