"""`metrolab signin summarise | release`: the sign-in throttle's housekeeping and release."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from metrolab.core import signin
from metrolab.core.models import User
from metrolab.core.permissions import SystemActor
from metrolab.core.service import ServiceError
from metrolab.core.services import signin_release


class Command(BaseCommand):
    help = (
        "Sign-in throttling (docs/operations.md). `summarise`: write the audit summaries of "
        "closed failed-sign-in windows and forget expired counts (run it hourly). `release`: "
        "lift the delays of an account or a client address."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("summarise", help="summarise closed failure windows, drop expired counts")
        release = sub.add_parser("release", help="lift the delays of an account or an address")
        release.add_argument("--user", default="", help="the account's user name")
        release.add_argument("--address", default="", help="a client address")
        release.add_argument("--reason", required=True, help="why (goes into the audit log)")

    def handle(self, *args, **options):
        if options["action"] == "summarise":
            written = signin.summarise_closed_windows()
            expired, _by_model = signin.forget_expired()
            self.stdout.write(f"{written} summaries written, {expired} expired counts forgotten")
            return
        user = None
        if options["user"]:
            user = User.objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"no account named {options['user']!r}")
        try:
            released = signin_release(
                user=user,
                address=options["address"],
                actor=SystemActor("cli"),
                reason=options["reason"],
            )
        except ServiceError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"{released} counts removed")
