"""Logging helpers: a refused request is one line in the log, not a traceback."""

from __future__ import annotations

import logging


class OneLineClientErrors(logging.Filter):
    """On `django.request`: a 4xx answer (403 refused by the access policy, 400, ...) is logged
    as one line naming the path and who asked. The traceback of the PermissionDenied /
    SuspiciousOperation behind it says nothing an operator needs; 5xx keep theirs."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if status is None or not 400 <= status < 500:
            return True
        record.exc_info = None
        record.exc_text = None
        request = getattr(record, "request", None)
        user = getattr(request, "user", None)
        if user is not None and getattr(user, "is_authenticated", False):
            record.msg = f"{record.msg} (user %s)"
            record.args = (*(record.args or ()), user.get_username())
        return True
