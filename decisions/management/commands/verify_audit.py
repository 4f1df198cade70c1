"""Verify the MAC-chained audit trail (第33条, B10) and the sealed records; exit 1 at what does not verify."""

from django.core.management.base import BaseCommand, CommandError

from decisions import audit, seals, signing


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
            # Events purged after export (decisions/audit_retention.py): crossed through their anchors.
            if result.purged:
                span = f"{result.purged_ranges[0][0]}–{result.purged_ranges[-1][1]}"
                archives = ", ".join(f"#{pk}" for pk in result.purged_archives)
                self.stdout.write(
                    f"  已清理（已归档）{result.purged} 个事件：seq {span} 范围内 {len(result.purged_ranges)} 段，"
                    f"归档 {archives}。 Purged after export: {result.purged} events in {len(result.purged_ranges)}"
                    f" run(s) within seq {span}, archives {archives}."
                )
        self.check_records(quiet)

    def check_records(self, quiet):
        """Sign-offs (decisions/signing.py: digests, signature, record MAC) and the other sealed records
        (decisions/seals.py: documents, legality opinions, collective decisions, publications), each checked with
        the algorithm it names; exit 1 naming every row that does not verify."""
        signoffs = signing.verify_signoff_records()
        sealed = seals.verify_sealed_records()
        failed = [("签署 SignOff", pk, what) for pk, what in signoffs.problems]
        failed += [(result.name, pk, what) for result in sealed for pk, what in result.problems]
        if failed:
            listed = "；".join(f"{name} #{pk}: {', '.join(what)}" for name, pk, what in failed)
            raise CommandError(
                f"记录未通过核验（{len(failed)} 条）：{listed}。 Records that do not verify ({len(failed)}): {listed}.",
                returncode=1,
            )
        if quiet:
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"签署记录完整：已核验 {signoffs.checked} 条，其中已签名 {signoffs.signed} 条。"
                f" Sign-offs intact: {signoffs.checked} checked, {signoffs.signed} signed."
            )
        )
        for algorithm, count in sorted(signoffs.algorithms.items()):
            self.stdout.write(f"  {algorithm}: {count}")
        if signoffs.without_mac:
            self.stdout.write(
                f"  {signoffs.without_mac} 条签署早于记录 MAC，仅核验了其哈希与签名。"
                f" {signoffs.without_mac} sign-off(s) predate record MACs: hashes and signatures checked only."
            )
        for result in sealed:
            macs = ", ".join(f"{algorithm} {count}" for algorithm, count in sorted(result.algorithms.items()))
            self.stdout.write(
                self.style.SUCCESS(
                    f"{result.name}：已核验 {result.checked} 条，封签完整（{macs or '无'}）。"
                    f" {result.name}: {result.checked} checked, seals intact ({macs or 'none'})."
                )
            )
            if result.unsealed:
                self.stdout.write(
                    f"  {result.unsealed} 条早于记录封签，未封签。"
                    f" {result.unsealed} predate record seals: not sealed, nothing to check."
                )
