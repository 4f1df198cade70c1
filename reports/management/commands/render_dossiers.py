"""Render the queued dossiers now, show where they stand, or requeue failed and interrupted renders."""

import time

from django.core.management.base import BaseCommand, CommandError

from decisions.models import Decision
from reports import dossiers
from reports.models import Dossier
from reports.progress import Progress


class Command(BaseCommand):
    help = "生成排队中的案卷并显示进度；--status 查看案卷状态；--wait 等待 pdf 工作进程完成。 Render queued dossiers."

    def add_arguments(self, parser):
        parser.add_argument("--decision", help="决策编号或 ID (decision reference or id)")
        parser.add_argument("--status", action="store_true", help="只显示状态 (only show where the dossiers stand)")
        parser.add_argument("--wait", action="store_true", help="等待 db_worker 生成 (wait for the pdf workers)")
        parser.add_argument("--timeout", type=int, default=600, help="--wait 的最长秒数")
        parser.add_argument("--retry-failed", action="store_true", help="重新排队生成失败的案卷")
        parser.add_argument(
            "--verify", action="store_true", help="核对每份已生成案卷的文件哈希与审计链 (re-hash stored dossiers)"
        )
        parser.add_argument("--regenerate", type=int, metavar="DOSSIER_ID", help="重新生成该案卷为新版本（旧版本保留）")
        parser.add_argument("--reason", default="", help="重新生成的理由 (required with --regenerate)")
        parser.add_argument("--user", help="以该用户身份重新生成（档案管理或政府办公室）")

    def handle(self, *args, decision=None, status=False, wait=False, timeout=600, retry_failed=False, **options):
        target = _decision(decision) if decision else None
        if options["regenerate"]:
            self._regenerate(options["regenerate"], options["user"], options["reason"])
        recovered = dossiers.recover_stalled()
        if recovered:
            self.stderr.write(f"重新排队中断的案卷 {len(recovered)} 份 (requeued {len(recovered)} interrupted renders)")
        if retry_failed:
            self.stdout.write(f"重新排队失败的案卷 {dossiers.retry_failed(target)} 份")
        if options["verify"]:
            return self._verify(target)
        if status:
            return self._status(target)
        if wait:
            return self._wait(target, timeout)
        progress = Progress(self.stderr)
        done = dossiers.render_pending(target, progress=progress)
        progress.close()
        failed = [d for d in done if d.status != Dossier.Status.DONE]
        self.stdout.write(f"已生成 {len(done) - len(failed)} 份案卷 (rendered {len(done) - len(failed)} dossiers)")
        for dossier in failed:
            self.stderr.write(f"{dossier}: {dossier.error.splitlines()[-1] if dossier.error else ''}")
        if failed:
            raise CommandError(f"{len(failed)} 份案卷未生成，将自动重试 ({len(failed)} dossiers not rendered yet)")
        return None

    def _regenerate(self, dossier_id, username, reason):
        from django.contrib.auth import get_user_model

        from decisions.permissions import NotPermitted
        from decisions.rules import ProcedureRefused

        dossier = Dossier.objects.filter(pk=dossier_id).first()
        user = get_user_model().objects.filter(username=username or "").first()
        if dossier is None or user is None:
            raise CommandError("需要存在的案卷 ID 和 --user 用户名 (an existing dossier id and --user are required)")
        try:
            new = dossiers.regenerate(user, dossier, reason)
        except (NotPermitted, ProcedureRefused) as refused:
            raise CommandError(str(refused)) from refused
        self.stdout.write(f"已排队重新生成：{new}（取代第 {dossier.version} 版）")

    def _verify(self, target):
        checked, problems = dossiers.verify_stored(target)
        for dossier, problem in problems:
            self.stderr.write(f"{dossier}（{dossier.file.name}）：{problem}")
        if problems:
            raise CommandError(
                f"{len(problems)} / {checked} 份案卷核对不符 ({len(problems)} of {checked} do not match)"
            )
        self.stdout.write(f"已核对 {checked} 份案卷，文件与审计链一致 (checked {checked} dossiers: intact)")

    def _status(self, target):
        rows = Dossier.objects.select_related("decision", "stage_record").order_by("decision_id", "id")
        if target is not None:
            rows = rows.filter(decision=target)
        for dossier in rows:
            tail = dossier.sha256 or (dossier.error.splitlines()[-1] if dossier.error else "")
            self.stdout.write(f"{dossier}\t{dossier.pages or '-'} 页\t{tail}")

    def _wait(self, target, timeout):
        pending = Dossier.objects.exclude(status__in=[Dossier.Status.DONE, Dossier.Status.FAILED])
        if target is not None:
            pending = pending.filter(decision=target)
        total = pending.count()
        progress = Progress(self.stderr)
        deadline = time.monotonic() + timeout
        while (left := pending.count()) and time.monotonic() < deadline:
            progress(total - left, total, "等待 pdf 工作进程 (waiting for the pdf workers)")
            time.sleep(1)
        progress(total - left, total, "完成" if not left else "超时")
        progress.close()
        if left:
            raise CommandError(f"仍有 {left} 份案卷未生成：db_worker --queue-name pdf 是否在运行？")


def _decision(value):
    lookup = {"pk": int(value)} if value.isdigit() else {"reference": value}
    try:
        return Decision.objects.get(**lookup)
    except Decision.DoesNotExist:
        raise CommandError(f"没有决策 {value} (no such decision)") from None
