"""`metrolab audit verify`: recompute the audit chain; exit 0 when intact, 1 when broken."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from metrolab.core import audit


class Command(BaseCommand):
    help = "Audit log tools. `verify`: recompute the hash chain and name the first bad event."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        verify = sub.add_parser("verify", help="recompute the hash chain")
        verify.add_argument("--json", action="store_true", help="print the result as JSON")
        verify.add_argument(
            "--expect-head",
            action="append",
            default=[],
            metavar="SEQ:HASH",
            help="a head noted earlier (printed by a previous verify); may be repeated",
        )

    def handle(self, *args, **options):
        anchors = audit.known_heads()
        for text in options.get("expect_head") or []:
            seq, _sep, digest = text.partition(":")
            if not seq.isdigit() or len(digest) != 64:
                raise CommandError(f"--expect-head wants SEQ:HASH, not {text!r}", returncode=2)
            anchors.append((int(seq), digest))
        report = audit.verify_chain(anchors=anchors)
        if options.get("json"):
            self.stdout.write(json.dumps(report.__dict__))
        elif report.ok:
            self.stdout.write(
                self.style.SUCCESS(
                    f"audit chain intact: {report.count} events, head #{report.head_seq} "
                    f"{report.head_hash}"
                )
            )
        if not report.ok:
            raise CommandError(
                f"audit chain broken at event {report.first_bad_seq}: {report.problem}",
                returncode=1,
            )
