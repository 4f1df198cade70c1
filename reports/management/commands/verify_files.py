"""Re-hash every stored file against its record: documents (SHA-256, SM3, seal) and rendered dossiers (SHA-256 and
their `dossier:issued` event). Run after a restore, beside `verify_audit`; exit 1 naming the first bad file."""

from django.core.management.base import BaseCommand, CommandError

from decisions.services import documents
from reports import dossiers


class Command(BaseCommand):
    help = (
        "核对每份材料与案卷的存储文件是否与记录的哈希一致 / Re-hash every stored document and dossier against its"
        " recorded hash; exit status 1 naming the first that does not match."
    )

    def handle(self, *args, **options):
        checked_documents, document_problems = documents.verify_stored()
        checked_dossiers, dossier_problems = dossiers.verify_stored()
        problems = [("材料 Document", row, what) for row, what in document_problems]
        problems += [("案卷 Dossier", row, what) for row, what in dossier_problems]
        for kind, row, what in problems:
            self.stderr.write(f"{kind} #{row.pk}（{row.file.name}）：{what}")
        if problems:
            kind, row, what = problems[0]
            raise CommandError(
                f"存储文件核对不符 {len(problems)} 个，第一个：{kind} #{row.pk}（{row.file.name}）{what}。"
                f" {len(problems)} stored file(s) do not match their records; first: {kind} #{row.pk} {row.file.name}.",
                returncode=1,
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"存储文件完整：已核对材料 {checked_documents} 份、案卷 {checked_dossiers} 份。"
                f" Stored files intact: {checked_documents} documents and {checked_dossiers} dossiers checked."
            )
        )
