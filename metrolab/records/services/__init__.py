"""Writes of original records and their templates (each part of issue 14 adds its own
import lines here)."""

from metrolab.records.services.records import (  # noqa: F401
    measurement_blocked,
    record_amend,
    record_approve,
    record_approved_listeners,
    record_cancel,
    record_check,
    record_create,
    record_delete,
    record_preview,
    record_return,
    record_submit,
    record_write,
)
from metrolab.records.services.signatures import (  # noqa: F401
    content_digest,
    reauthenticate,
    signature_valid,
)
