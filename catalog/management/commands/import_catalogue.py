"""Import catalogue entries from an .xlsx into a catalogue being collected, all rows or none (catalog/imports.py)."""

import hashlib
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from catalog import imports, workbook
from catalog.management.commands import _lookup
from decisions.models import Role
from decisions.permissions import require_organ_role
from decisions.rules import ProcedureRefused
from reports.progress import Progress


class Command(BaseCommand):
    help = (
        "从 Excel(.xlsx)导入年度目录事项：先检查全部行，有错误则一行也不导入 / "
        "Import catalogue entries from an .xlsx: every row is checked first; any error imports nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", metavar="FILE", help="Excel 工作簿(.xlsx) / the workbook")
        parser.add_argument("--organ", required=True, metavar="CODE", help="决策机关代码 / the organ's code")
        parser.add_argument("--year", required=True, metavar="YEAR", help="目录年度 / the catalogue's year")
        parser.add_argument("--user", required=True, metavar="USERNAME", help="导入人(政府办公室) / who imports")
        parser.add_argument("--dry-run", action="store_true", help="只检查，不写入 / check every row, write nothing")

    def handle(self, *args, file, organ, year, user, dry_run=False, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"找不到文件 {path} / no such file: {path}")
        data = path.read_bytes()
        catalogue = _lookup.catalogue(organ, year, collecting=True)
        actor = _lookup.user(user)
        try:
            require_organ_role(actor, catalogue.organ, [Role.GOV_OFFICE])
        except ProcedureRefused as refused:
            raise CommandError(f"无权导入：{refused.message('zh')}", returncode=1) from refused
        preview = workbook.parse(data, catalogue)
        for problem in preview.warnings:
            self.stderr.write(self.style.WARNING(f"提示 {problem}"))
        for problem in preview.errors:
            self.stderr.write(self.style.ERROR(f"错误 {problem}"))
        if preview.errors:
            raise CommandError(
                f"{path.name} 有 {len(preview.errors)} 处错误，未导入任何事项 / "
                f"{len(preview.errors)} problem(s) found; nothing was imported",
                returncode=1,
            )
        if dry_run:
            self.stdout.write(
                f"检查通过：{len(preview.rows)} 项可导入{catalogue.title}(试运行，未写入) / "
                f"{len(preview.rows)} rows can be imported (dry run, nothing written)"
            )
            return
        progress = Progress(self.stderr, every_line=True)
        source = {"name": path.name, "sha256": hashlib.sha256(data).hexdigest(), "sheet": preview.sheet}
        try:
            created = imports.import_entries(actor, catalogue, preview.rows, progress=progress, source=source)
        except imports.RowRefused as refused:
            raise CommandError(f"{refused.problem}\n全部未导入 / nothing was imported", returncode=1) from refused
        except ProcedureRefused as refused:
            raise CommandError(f"{refused.message('zh')}\n全部未导入 / nothing was imported", returncode=1) from refused
        finally:
            progress.close()
        self.stdout.write(
            self.style.SUCCESS(
                f"已导入 {len(created)} 项到{catalogue.title}(第{created[0].seq_no}至{created[-1].seq_no}项) / "
                f"imported {len(created)} entries"
            )
        )
