"""Verify an audit bundle (BagIt ZIP) without the database: its files, then the audit chain inside it."""

import json
import os

from django.core.management.base import BaseCommand, CommandError

from reports.verify import format_report, verify_bundle


class Command(BaseCommand):
    help = (
        "核验审计导出包（无需数据库）：文件完整性、审计链、材料/案卷/签署的哈希；完整时退出码 0，否则 1 / "
        "Verify an audit bundle without the database: files, audit chain, document, dossier and sign-off hashes; "
        "exit status 0 when intact, 1 otherwise."
    )
    # Nothing here may open a database connection: no system checks, no migration checks.
    requires_system_checks = []
    requires_migrations_checks = False

    def add_arguments(self, parser):
        parser.add_argument("path", metavar="FILE", help="导出包（.zip）/ the bundle to verify")
        parser.add_argument(
            "--audit-key-env",
            metavar="VAR",
            help="从该环境变量读取审计密钥以核验每个 MAC（切勿在命令行上给出密钥）/ "
            "read the audit key from environment variable VAR to check every MAC (never give the key itself)",
        )
        parser.add_argument("--json", dest="as_json", action="store_true", help="以 JSON 输出 / print JSON")

    def handle(self, *args, path, audit_key_env=None, as_json=False, **options):
        key = None
        if audit_key_env:
            key = os.environ.get(audit_key_env)
            if not key:
                raise CommandError(
                    f"环境变量 {audit_key_env} 未设置或为空 / environment variable {audit_key_env} is not set",
                    returncode=2,
                )
        report = verify_bundle(path, audit_key=key)
        if as_json:
            self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
        else:
            self.stdout.write(format_report(report))
        if not report.ok:
            raise CommandError(
                f"导出包未通过核验：{len(report.problems)} 个问题 / the bundle failed verification: "
                f"{len(report.problems)} problem(s)",
                returncode=1,
            )
