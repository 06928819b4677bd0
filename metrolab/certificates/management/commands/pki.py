"""`metrolab pki init`: create a lab root CA and a document-signing certificate for the demo and
the tests (R6.3e). Production uses an issued PKCS#12 file instead (docs/operations.md).

    metrolab pki init [--dir DIR] [--lab-name NAME] [--force]

Exit codes: 0 created; 1 keys already there (without --force) or the password is not set.
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from metrolab.certificates.pki import PkiExists, pki_init
from metrolab.core.services import organisation_get

DEFAULT_LAB_NAME = "MetroLab Demo Laboratory"


class Command(BaseCommand):
    help = "The lab's signing keys. `init`: create a demo lab CA and document-signing key."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        init = sub.add_parser("init", help="create a lab root CA and a document-signing key")
        init.add_argument("--dir", default=None, help="directory (default METROLAB_PKI_DIR)")
        init.add_argument(
            "--lab-name", default=None, help="lab name (default: the organisation profile's)"
        )
        init.add_argument("--force", action="store_true", help="replace existing keys")

    def handle(self, *args, **options):
        lab_name = options.get("lab_name") or organisation_get().name or DEFAULT_LAB_NAME
        try:
            files = pki_init(options.get("dir"), lab_name=lab_name, force=options.get("force"))
        except PkiExists as exc:
            raise CommandError(f"signing keys already exist ({exc}); use --force") from exc
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"lab CA: {files.ca_subject}\n  {files.ca_cert}\n"
                f"signing key and certificate (PKCS#12): {files.signer_subject}, "
                f"valid until {files.signer_not_after:%Y-%m-%d}\n  {files.signing_p12}"
            )
        )
