"""Export an annual catalogue's entries as an .xlsx in the published layout (catalog/workbook.py)."""

import hashlib
import os
import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from catalog import workbook
from catalog.management.commands import _lookup


class Command(BaseCommand):
    help = (
        "导出年度目录(.xlsx)：公布前为汇总中的事项，公布后为现行版本或 --version 指定的版本 / "
        "Export a catalogue as .xlsx: the draft before publication, else the current or the given version."
    )

    def create_parser(self, prog_name, subcommand, **kwargs):
        # --version N names the catalogue's version here; Django's own --version (its release) gives way.
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser):
        parser.add_argument("year", metavar="YEAR", help="目录年度 / the catalogue's year")
        parser.add_argument("organ", metavar="ORG", help="决策机关代码 / the organ's code")
        parser.add_argument("file", metavar="FILE", help="输出文件(.xlsx) / the workbook to write")
        parser.add_argument("--version", type=int, metavar="N", help="已公布的第 N 版 / published version N")

    def handle(self, *args, year, organ, file, version=None, **options):
        catalogue = _lookup.catalogue(organ, year)
        try:
            data = workbook.export(catalogue, version)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        target = Path(file)
        if not target.parent.is_dir():
            raise CommandError(f"目录不存在：{target.parent} / no such directory: {target.parent}")
        # Temp file beside the target, then rename: a reader never sees half a workbook.
        handle, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(temp, 0o644)
            os.replace(temp, target)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        count = (catalogue.entries_at(version) if version else catalogue.current_entries()).count()
        which = f"第{version}版" if version else (f"现行第{catalogue.version}版" if catalogue.version else "汇总稿")
        self.stdout.write(
            self.style.SUCCESS(
                f"已导出 {target}：{catalogue.title}{which}，{count} 项，{len(data)} 字节，"
                f"SHA-256 {hashlib.sha256(data).hexdigest()} / exported {count} entries"
            )
        )
