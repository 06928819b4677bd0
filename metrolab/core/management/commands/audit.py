"""`metrolab audit verify`: recompute the audit chain and check it against every anchor.

Exit codes: 0 intact; 1 the chain itself is broken (an event altered, removed or inserted);
2 wrong arguments; 3 the chain is consistent but has lost an anchor — it was rewritten or cut
short (R7.2b) — or an anchor could not be read. The output names the anchor (its sequence
number, time and source: a database row or a line of the anchor file).
"""

from __future__ import annotations

import dataclasses
import json

from django.core.management.base import BaseCommand, CommandError

from metrolab.core import audit

EXIT_BROKEN, EXIT_USAGE, EXIT_ANCHOR = 1, 2, 3


class Command(BaseCommand):
    help = (
        "Audit log tools. `verify`: recompute the hash chain, check it against every anchor "
        "(database and anchor file) and name the first bad event or lost anchor."
    )

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
        given = []
        for text in options.get("expect_head") or []:
            seq, _sep, digest = text.partition(":")
            if not seq.isdigit() or len(digest) != 64:
                raise CommandError(
                    f"--expect-head wants SEQ:HASH, not {text!r}", returncode=EXIT_USAGE
                )
            given.append(audit.Anchor(int(seq), digest, source="--expect-head"))
        database = audit.database_anchors()
        path = audit.anchor_file_path()
        try:
            in_file = audit.anchor_file_read(path)
        except audit.AnchorFileError as exc:
            raise CommandError(f"audit anchors unreadable: {exc}", returncode=EXIT_ANCHOR) from exc
        report = audit.verify_chain(anchors=database + in_file + given)
        if options.get("json"):
            self.stdout.write(json.dumps(dataclasses.asdict(report)))
        elif report.ok:
            where = (
                f"{len(in_file)} in {path}" if path.exists() else f"no anchor file at {path} yet"
            )
            self.stdout.write(
                self.style.SUCCESS(
                    f"audit chain intact: {report.count} events, head #{report.head_seq} "
                    f"{report.head_hash}\n"
                    f"checked against {report.anchors_checked} anchors: "
                    f"{len(database)} in the database, {where}"
                    + (f", {len(given)} given" if given else "")
                )
            )
        if not report.ok:
            raise CommandError(
                f"audit chain broken at event {report.first_bad_seq}: {report.problem}",
                returncode=EXIT_ANCHOR if report.anchor else EXIT_BROKEN,
            )
