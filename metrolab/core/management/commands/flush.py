"""Django's `flush`, which also empties the audit log only where settings allow it (the test
suite, between transactional tests). Elsewhere the audit triggers make flush fail, as they
should: the audit log is never emptied in a running lab. The guards other apps register
(core/guards.py: locked original records, their trail) are lifted and restored with it."""

from django.conf import settings
from django.core.management.commands.flush import Command as FlushCommand
from django.db import connections

from metrolab.core import audit, guards


class Command(FlushCommand):
    def handle(self, **options):
        if not settings.METROLAB_FLUSH_LIFTS_AUDIT_GUARDS:
            return super().handle(**options)
        connection = connections[options["database"]]
        audit.remove_guards(connection)
        guards.remove_all(connection)
        try:
            return super().handle(**options)
        finally:
            audit.install_guards(connection)
            guards.install_all(connection)
