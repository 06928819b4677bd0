"""`metrolab pki init`: create a lab root CA and a document-signing certificate for the demo and
the tests (R6.3e). Production uses an issued PKCS#12 file instead (docs/operations.md).

    metrolab pki init [--dir DIR] [--lab-name NAME] [--force]
    metrolab pki to-token --module LIB --token LABEL --label KEY [--p12 FILE]

`to-token` puts the signing key and certificate of the PKCS#12 file (default
METROLAB_SIGNING_P12) on a PKCS#11 token; the user PIN comes from METROLAB_SIGNING_PKCS11_PIN.

Exit codes: 0 done; 1 keys already there (without --force), the password or PIN is not set,
or the token refused the key.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from metrolab.certificates.pki import PkiExists, TokenError, p12_to_token, pki_init
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
        token = sub.add_parser(
            "to-token",
            help="put the PKCS#12 signing key and certificate on a PKCS#11 token "
            "(PIN from METROLAB_SIGNING_PKCS11_PIN)",
        )
        token.add_argument(
            "--module",
            default=None,
            help="PKCS#11 library (default METROLAB_SIGNING_PKCS11_MODULE)",
        )
        token.add_argument(
            "--token", default=None, help="token label (default METROLAB_SIGNING_PKCS11_TOKEN)"
        )
        token.add_argument(
            "--label", default=None, help="key label (default METROLAB_SIGNING_PKCS11_KEY)"
        )
        token.add_argument(
            "--p12", default=None, help="PKCS#12 file (default METROLAB_SIGNING_P12)"
        )

    def handle(self, *args, **options):
        if options["action"] == "to-token":
            return self._to_token(options)
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

    def _to_token(self, options):
        module = options.get("module") or settings.METROLAB_SIGNING_PKCS11_MODULE
        token = options.get("token") or settings.METROLAB_SIGNING_PKCS11_TOKEN
        label = options.get("label") or settings.METROLAB_SIGNING_PKCS11_KEY
        pin = settings.METROLAB_SIGNING_PKCS11_PIN
        if not (module and token and label):
            raise CommandError("give --module, --token and --label (or the settings)")
        if not pin:
            raise CommandError("METROLAB_SIGNING_PKCS11_PIN is not set")
        try:
            placed = p12_to_token(
                module=module, token=token, pin=pin, label=label, p12_path=options.get("p12")
            )
        except (TokenError, ImproperlyConfigured) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"signing key and certificate of {placed.signer_subject} on token "
                f"{placed.token!r}, label {placed.label!r}, id {placed.key_id.hex()}"
            )
        )
