"""Writes of the records app (R6.2, R4.4). Every function is a service
(metrolab.core.service): one transaction, audited with the actor; a refusal raises
ServiceError and writes nothing. One module per part:

- `templates`: record templates and their versions (draft → in review → approved →
  retired), the built-in templates.
- `records`: original records made from started tasks: cells and their trail, the
  environment's blocking, submit / check / approve / return / cancel / amend / delete.
- `signatures`: re-authentication of signers and the content digest signatures bind.
"""

from metrolab.records.services.records import (
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
    record_set_roles,
    record_submit,
    record_write,
    refuse_unless_may_sign,
)
from metrolab.records.services.signatures import (
    content_digest,
    reauthenticate,
    signature_valid,
)
from metrolab.records.services.templates import (
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

__all__ = [
    "content_digest",
    "definition_digest",
    "definition_errors",
    "definition_from_text",
    "measurement_blocked",
    "reauthenticate",
    "record_amend",
    "record_approve",
    "record_approved_listeners",
    "record_cancel",
    "record_check",
    "record_create",
    "record_delete",
    "record_preview",
    "record_return",
    "record_set_roles",
    "record_submit",
    "record_write",
    "refuse_unless_may_sign",
    "signature_valid",
    "starter_definition",
    "template_create",
    "template_version_approve",
    "template_version_draft",
    "template_version_review",
    "template_version_save",
    "template_version_submit",
    "templates_load_builtin",
]
