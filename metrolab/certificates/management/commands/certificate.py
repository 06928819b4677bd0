"""`metrolab certificate`: certificates from the command line (R6.3, R9.1).

    metrolab certificate list [--limit N]                  numbers, newest first, status, date
    metrolab certificate export NUMBER OUT.pdf [--dcc OUT.xml]
                                                           the stored signed PDF (and DCC XML)
    metrolab certificate verify FILE.pdf                   the public verification of a PDF

Exit codes: 0 done (verify: the file is a valid certificate); 1 refused (export: no such
certificate or no file; verify: any answer but "valid", or not a PDF); 2 wrong arguments or
an unreadable file. `verify` prints the same JSON as the public API's upload.
Exports are audited (certificate.download) like downloads from the pages.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.core.serializers.json import DjangoJSONEncoder

from metrolab.certificates import verification
from metrolab.certificates.models import Certificate
from metrolab.certificates.services import certificate_download
from metrolab.core.permissions import SYSTEM
from metrolab.core.service import ServiceError

EXIT_REFUSED, EXIT_USAGE = 1, 2


class Command(BaseCommand):
    help = (
        "Certificates. `list`: the newest certificates; `export`: write a certificate's stored "
        "PDF (and DCC); `verify`: check a PDF as the public verification does."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        listing = sub.add_parser("list", help="certificate numbers, newest first")
        listing.add_argument("--limit", type=int, default=20, help="how many (default 20)")
        export = sub.add_parser("export", help="write the stored signed PDF")
        export.add_argument("number", help="certificate number")
        export.add_argument("out", help="the PDF file to write")
        export.add_argument("--dcc", default=None, metavar="OUT.xml", help="also the DCC XML")
        verify = sub.add_parser("verify", help="verify a certificate PDF file")
        verify.add_argument("file", help="the PDF file")

    def handle(self, *args, **options):
        action = options["action"]
        if action == "list":
            self._list(options["limit"])
        elif action == "export":
            self._export(options["number"], Path(options["out"]), options.get("dcc"))
        else:
            self._verify(Path(options["file"]))

    def _list(self, limit: int) -> None:
        if limit < 1:
            raise CommandError("--limit must be at least 1", returncode=EXIT_USAGE)
        rows = Certificate.objects.order_by("-created_at", "-pk")[:limit]
        for c in rows:
            day = c.issued_on.isoformat() if c.issued_on else "-"
            self.stdout.write(f"{c.number}\t{c.status}\t{day}\t{c.identifier}")

    def _export(self, number: str, out: Path, dcc: str | None) -> None:
        certificate = Certificate.objects.filter(number=number.strip()).first()
        if certificate is None:
            raise CommandError(f"no certificate {number}", returncode=EXIT_REFUSED)
        if not certificate.has_file:
            raise CommandError(
                f"certificate {certificate.number} has no file ({certificate.status}): "
                "only an issued certificate can be exported",
                returncode=EXIT_REFUSED,
            )
        try:
            pdf = certificate_download(certificate=certificate, actor=SYSTEM, format="pdf")
            xml = (
                certificate_download(certificate=certificate, actor=SYSTEM, format="dcc")
                if dcc
                else None
            )
        except ServiceError as exc:
            raise CommandError(str(exc.message), returncode=EXIT_REFUSED) from exc
        out.write_bytes(pdf)
        written = [f"{out} ({len(pdf)} bytes)"]
        if dcc and xml is not None:
            Path(dcc).write_bytes(xml)
            written.append(f"{dcc} ({len(xml)} bytes)")
        self.stdout.write(
            self.style.SUCCESS(f"certificate {certificate.number}: " + ", ".join(written))
        )

    def _verify(self, path: Path) -> None:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(
                f"cannot read {path}: {exc.strerror}", returncode=EXIT_USAGE
            ) from exc
        try:
            answer = verification.answer_for_pdf(verification.check_pdf(data))
        except ServiceError as exc:
            raise CommandError(f"{path}: {exc.message}", returncode=EXIT_REFUSED) from exc
        self.stdout.write(json.dumps(answer, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2))
        if answer["result"] != verification.VALID:
            raise CommandError(f"{path}: {answer['result']}", returncode=EXIT_REFUSED)
