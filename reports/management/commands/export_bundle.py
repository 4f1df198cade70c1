"""Export a decision's or an annual catalogue's record as a BagIt ZIP for auditors (reports/bundle.py)."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from catalog.models import AnnualCatalogue
from decisions.models import Decision, Organisation
from decisions.permissions import NotPermitted
from reports import bundle
from reports.progress import Progress


class Command(BaseCommand):
    help = (
        "导出审计包（BagIt ZIP）：决策或年度目录的案卷、原始材料和审计事件 / "
        "Export a decision's or an annual catalogue's dossiers, documents and audit events as a BagIt ZIP."
    )

    def add_arguments(self, parser):
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--decision", metavar="ID|REFERENCE", help="决策编号或 ID / the decision's reference or id")
        which.add_argument(
            "--catalogue",
            nargs=2,
            metavar=("YEAR", "ORGAN"),
            help="年度和决策机关代码或 ID / the catalogue's year and its organ's code or id",
        )
        parser.add_argument("--user", required=True, metavar="USERNAME", help="导出人 / the user who exports")
        parser.add_argument("-o", "--output", metavar="FILE", help="输出文件（.zip）/ the ZIP to write")
        parser.add_argument("--force", action="store_true", help="覆盖已存在的文件 / replace an existing file")

    def handle(self, *args, decision=None, catalogue=None, user=None, output=None, force=False, **options):
        actor = self._user(user)
        try:
            if decision is not None:
                obj = self._decision(decision)
                target = Path(output or f"{bundle.safe_name(obj.reference)}-bundle.zip")
                result = bundle.export_decision_bundle(
                    actor, obj, target, progress=self._progress(every_line=False), overwrite=force
                )
            else:
                obj = self._catalogue(*catalogue)
                target = Path(output or f"{obj.organ.code}-{obj.year}-catalogue-bundle.zip")
                result = bundle.export_catalogue_bundle(
                    actor, obj, target, progress=self._progress(every_line=True), overwrite=force
                )
        except NotPermitted as exc:
            raise CommandError(
                f"无权导出：{exc.message('zh')}\nNot permitted to export: {exc.message('en')}", returncode=1
            ) from exc
        except bundle.BundleError as exc:
            raise CommandError(f"导出失败：{exc.zh}\nExport failed: {exc.en}", returncode=1) from exc
        finally:
            if getattr(self, "progress", None):
                self.progress.close()
        for problem in result.problems:
            self.stderr.write(self.style.WARNING(f"注意 NOTE [{problem.code}] {problem}"))
        if result.problems:
            self.stderr.write(
                self.style.WARNING(
                    f"记录本身有 {len(result.problems)} 处未通过核验，导出包如实保留（verify_bundle 会指出）。 "
                    "The record itself fails some checks; the bundle keeps it as it is."
                )
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"已导出 {result.path}（{len(result.decisions)} 项决策，{result.files} 个文件，"
                f"{result.size} 字节，审计事件 seq {result.event_seq}）。\n"
                f"Exported {result.path}: {len(result.decisions)} decision(s), {result.files} files, "
                f"{result.size} bytes; tagmanifest SHA-256 {result.tagmanifest_sha256}; ZIP SHA-256 {result.sha256}."
            )
        )

    def _progress(self, every_line):
        self.progress = Progress(self.stderr, every_line=every_line)
        return self.progress

    def _user(self, username):
        try:
            user = get_user_model().objects.get(**{get_user_model().USERNAME_FIELD: username})
        except get_user_model().DoesNotExist:
            raise CommandError(f"没有用户 {username} / no such user: {username}") from None
        if not user.is_active:
            raise CommandError(f"用户 {username} 已停用 / user {username} is inactive")
        return user

    def _decision(self, value):
        found = Decision.objects.select_related("organ").filter(reference=value).first()
        if found is None and value.isdigit():
            found = Decision.objects.select_related("organ").filter(pk=int(value)).first()
        if found is None:
            raise CommandError(f"没有决策 {value} / no such decision: {value}")
        return found

    def _catalogue(self, year, organ):
        if not year.isdigit():
            raise CommandError(f"年度应为数字：{year} / the year must be a number: {year}")
        organisation = Organisation.objects.filter(code=organ).first()
        if organisation is None and organ.isdigit():
            organisation = Organisation.objects.filter(pk=int(organ)).first()
        if organisation is None:
            raise CommandError(f"没有决策机关 {organ} / no such organ: {organ}")
        catalogues = list(AnnualCatalogue.objects.filter(organ=organisation, year=int(year)).select_related("organ"))
        if not catalogues:
            raise CommandError(
                f"{organisation.name}没有 {year} 年度目录 / {organisation.code} has no catalogue for {year}"
            )
        if len(catalogues) > 1:
            raise CommandError(
                f"{organisation.name} {year} 年度有多个目录 / more than one catalogue for {organisation.code} {year}"
            )
        return catalogues[0]
