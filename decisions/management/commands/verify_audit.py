"""Verify the MAC-chained audit trail (第33条, B10); exit 1 at the first event that does not verify."""

from django.core.management.base import BaseCommand, CommandError

from decisions import audit


class Command(BaseCommand):
    help = "核验审计链是否完整 / Verify that the audit chain is intact; exit status 1 when it is not."

    def add_arguments(self, parser):
        parser.add_argument(
            "--quiet", action="store_true", help="完整时不输出 / print nothing when the chain is intact"
        )

    def handle(self, *args, quiet=False, **options):
        result = audit.verify()
        if not result.ok:
            raise CommandError(
                f"审计链未通过核验：第一个有问题的事件 seq={result.first_bad_seq}，{result.problem_zh}；"
                f"此前已核验 {result.checked} 个事件。"
                f" Audit chain broken at seq={result.first_bad_seq}: {result.problem}"
                f" ({result.code}; {result.checked} events verified before it).",
                returncode=1,
            )
        if not quiet:
            self.stdout.write(
                self.style.SUCCESS(
                    f"审计链完整：已核验 {result.checked} 个事件。 Audit chain intact: {result.checked} events checked."
                )
            )
            # Which algorithms the chain holds: a chain that moved to the 国密 profile shows both.
            for algorithm, count in sorted(result.algorithms.items()):
                self.stdout.write(f"  {algorithm}: {count}")
