"""Writes of the records app (R6.2, R4.4). Every function is a service
(metrolab.core.service): one transaction, audited with the actor; a refusal raises
ServiceError and writes nothing. One module per part (each part of issue 14 adds its own
import lines here):

- `records`, `signatures`: original records, their trail and signatures.
- `templates`: record templates and their versions (draft → in review → approved →
  retired), the built-in templates.
"""

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
from metrolab.records.services.templates import (  # noqa: F401
    definition_digest,
    definition_errors,
    definition_from_text,
    starter_definition,
    template_create,
    template_version_approve,
    template_version_draft,
    template_version_review,
    template_version_save,
    template_version_submit,
    templates_load_builtin,
)
