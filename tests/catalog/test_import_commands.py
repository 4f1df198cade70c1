"""`manage.py import_catalogue` and `manage.py export_catalogue`: the Excel import and export from a terminal."""

import hashlib
import io

import pytest
from django.core.management import CommandError, call_command

from catalog import workbook
from catalog.models import CatalogueEntry
from decisions.models import AuditEvent
from tests.catalog.test_workbook import a5_rows, build
from tests.records import record_events


@pytest.fixture
def cast(cast_factory):
    cast = cast_factory()
    cast.lead_unit.short_name = "发改委"
    cast.lead_unit.save(update_fields=["short_name"])
    return cast


@pytest.fixture
def catalogue(kit):
    return kit.open()


@pytest.fixture
def written():
    def count():
        return CatalogueEntry.objects.count(), record_events().count()

    return count


def run(*args):
    """Run a command; return (stdout, stderr), or raise its CommandError with the output attached."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(*args, stdout=out, stderr=err)
    except CommandError as exc:
        exc.stdout, exc.stderr = out.getvalue(), err.getvalue()
        raise
    return out.getvalue(), err.getvalue()


def importing(path, kit, *extra, user=None):
    return (
        "import_catalogue",
        str(path),
        "--organ",
        kit.cast.organ.code,
        "--year",
        str(kit.year),
        "--user",
        user or kit.office.username,
        *extra,
    )


@pytest.fixture
def bad_file(cast, kit, tmp_path):
    rows = a5_rows(cast, kit.year)
    rows[0]["事项类别"] = None
    rows[2]["承办职能办"] = "规划局"
    path = tmp_path / "目录.xlsx"
    path.write_bytes(build(rows))
    return path


@pytest.fixture
def good_file(cast, kit, tmp_path):
    path = tmp_path / "2026年度目录.xlsx"
    path.write_bytes(build(a5_rows(cast, kit.year)))
    return path


@pytest.mark.parametrize("dry_run", [True, False], ids=["dry run", "import"])
def test_the_import_command_prints_every_problem_with_row_and_column_and_exits_1_writing_nothing(
    kit, catalogue, bad_file, written, dry_run
):
    before = written()
    with pytest.raises(CommandError) as failed:
        run(*importing(bad_file, kit, *(["--dry-run"] if dry_run else [])))
    assert failed.value.returncode == 1
    assert "2 处错误，未导入任何事项" in str(failed.value)
    assert "工作表“目录” 第3行 D列(事项类别)：缺少事项类别" in failed.value.stderr
    assert "工作表“目录” 第5行 F列(承办职能办)：承办单位“规划局”不是" in failed.value.stderr
    assert written() == before


def test_a_dry_run_of_a_good_file_says_how_many_rows_would_be_imported_and_writes_nothing(
    kit, catalogue, good_file, written
):
    before = written()
    out, _err = run(*importing(good_file, kit, "--dry-run"))
    assert "检查通过：4 项可导入" in out and "未写入" in out
    assert written() == before


def test_the_import_command_adds_every_row_with_a_progress_line_and_says_how_many(kit, catalogue, good_file):
    out, err = run(*importing(good_file, kit))
    assert "已导入 4 项" in out and "第1至4项" in out
    assert "[4/4]" in err
    assert catalogue.draft_entries().count() == 4
    event = AuditEvent.objects.get(action="catalogue:import")
    assert event.payload["file"] == "2026年度目录.xlsx"
    assert event.payload["sha256"] == hashlib.sha256(good_file.read_bytes()).hexdigest()
    assert event.payload["rows"] == 4 and event.actor == kit.office


def test_the_import_command_refuses_a_user_who_is_not_the_organs_office(kit, catalogue, good_file, written):
    before = written()
    with pytest.raises(CommandError, match="无权导入") as failed:
        run(*importing(good_file, kit, user=kit.cast["UNDERTAKING_LEAD"].username))
    assert failed.value.returncode == 1 and written() == before


def test_the_import_command_needs_a_catalogue_being_collected(kit, good_file):
    kit.build("COMPILED")
    with pytest.raises(CommandError, match="不在征集中"):
        run(*importing(good_file, kit))


def test_the_import_command_refuses_an_old_excel_file_before_reading_it(kit, catalogue, tmp_path, written):
    path = tmp_path / "目录.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(1000))
    before = written()
    with pytest.raises(CommandError) as failed:
        run(*importing(path, kit))
    assert "旧版 Excel 97-2003 工作簿(.xls)" in failed.value.stderr and written() == before


@pytest.mark.parametrize(
    ("organ", "year", "message"),
    [("nowhere", None, "没有代码为 nowhere 的决策机关"), (None, "1999", "没有 1999 年度目录")],
)
def test_the_import_command_says_when_there_is_no_such_catalogue(kit, catalogue, good_file, organ, year, message):
    args = ["import_catalogue", str(good_file), "--organ", organ or kit.cast.organ.code]
    args += ["--year", year or str(kit.year), "--user", kit.office.username]
    with pytest.raises(CommandError, match=message):
        run(*args)


def test_the_export_command_writes_the_catalogue_and_replaces_an_older_file_whole(kit, catalogue, good_file, tmp_path):
    run(*importing(good_file, kit))
    target = tmp_path / "out" / "目录.xlsx"
    target.parent.mkdir()
    target.write_bytes(b"an older export")

    out, _err = run("export_catalogue", str(kit.year), kit.cast.organ.code, str(target))

    assert target.read_bytes() == workbook.export(catalogue)
    assert [p.name for p in target.parent.iterdir()] == ["目录.xlsx"], "no temporary file is left behind"
    assert "汇总稿，4 项" in out and hashlib.sha256(target.read_bytes()).hexdigest() in out


def test_an_export_that_fails_midway_leaves_the_older_file_untouched(kit, catalogue, tmp_path, monkeypatch):
    (tmp_path / "out").mkdir()
    target = tmp_path / "out" / "目录.xlsx"
    target.write_bytes(b"an older export")

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("os.fsync", disk_full)
    with pytest.raises(OSError, match="No space left"):
        run("export_catalogue", str(kit.year), kit.cast.organ.code, str(target))
    assert target.read_bytes() == b"an older export"
    assert [p.name for p in target.parent.iterdir()] == ["目录.xlsx"]


def test_the_export_command_writes_a_published_version_on_request(kit, tmp_path):
    catalogue = kit.build("PUBLISHED")
    [entry] = catalogue.entries_at()
    kit.adjustment_at(catalogue, "PUBLISHED", "MODIFY", entry=entry, data={"name": "调整后的名称"})
    first, current = tmp_path / "v1.xlsx", tmp_path / "v2.xlsx"

    out, _err = run("export_catalogue", str(kit.year), kit.cast.organ.code, str(first), "--version", "1")
    run("export_catalogue", str(kit.year), kit.cast.organ.code, str(current))

    assert "第1版，1 项" in out
    catalogue.refresh_from_db()
    assert first.read_bytes() == workbook.export(catalogue, 1) != current.read_bytes()
    assert current.read_bytes() == workbook.export(catalogue)
    with pytest.raises(CommandError, match="没有第3版"):
        run("export_catalogue", str(kit.year), kit.cast.organ.code, str(first), "--version", "3")
