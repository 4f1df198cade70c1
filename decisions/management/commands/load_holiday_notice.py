"""Load a year's State Council holiday notice (国务院办公厅关于…部分节假日安排的通知) into the working calendar (P4)."""

from django.core.management.base import BaseCommand, CommandError

from decisions import calendar


class Command(BaseCommand):
    help = (
        "载入一年的节假日安排（JSON，格式同 decisions/data/calendar/<year>.json）。"
        " Load one year's holiday notice from a JSON file in the format of decisions/data/calendar/<year>.json."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="JSON file: year, notice, optional source, off[], work[]")
        parser.add_argument(
            "--replace",
            action="store_true",
            help="替换已载入的年度 / replace a year that is already loaded",
        )

    def handle(self, *args, path, replace=False, **options):
        try:
            data = calendar.read_notice_file(path)
            year, *_rest = calendar.validate_notice(data)
            if replace and year in calendar.years_loaded():
                self.stderr.write(
                    self.style.WARNING(
                        f"警告：将替换{year}年已载入的节假日安排，已按旧日历计算的期限不会自动改变。"
                        f" Warning: replacing the calendar already loaded for {year};"
                        " day counts already made with the old calendar are not changed by this command."
                    )
                )
            loaded = calendar.load_notice(data, replace=replace)
        except FileNotFoundError:
            raise CommandError(f"找不到文件 / no such file: {path}") from None
        except calendar.NoticeError as exc:
            raise CommandError(f"未载入，数据库未作任何改动。Nothing was loaded. {exc}") from None
        self.stdout.write(
            self.style.SUCCESS(
                f"已载入{year}年节假日安排：{loaded}天（休息日与调休上班日）。"
                f" Loaded {loaded} days (days off and make-up working days) for {year}."
            )
        )
        from decisions.services.meeting import recheck_provisional_counts

        findings = recheck_provisional_counts([year])
        self.stdout.write(
            f"已复核涉及{year}年的暂定工作日计算 {len(findings)} 项。"
            f" Re-ran {len(findings)} provisional working-day count(s) covering {year} (P4)."
        )
        for f in findings:
            line = (
                f"  {f['decision']} 会议 {f['meeting_date']}: 暂定 {f['provisional_days']} → 复核 {f['rechecked_days']}"
                f" 个工作日(最低 {f['minimum']})"
            )
            if f["now_short"]:
                line += " ⚠ 审查时间不足：已通知政府办公室和合法性审查部门 / review time now short: office and reviewer warned"
            self.stdout.write(line)
