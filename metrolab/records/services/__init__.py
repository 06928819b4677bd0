"""Writes of the records app (R6.2, R4.4). Every function is a service
(metrolab.core.service): one transaction, audited with the actor; a refusal raises
ServiceError and writes nothing. One module per part:

- `templates`: record templates and their versions (draft → in review → approved →
  retired), the built-in templates.
"""

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
    "definition_digest",
    "definition_errors",
    "definition_from_text",
    "starter_definition",
    "template_create",
    "template_version_approve",
    "template_version_draft",
    "template_version_review",
    "template_version_save",
    "template_version_submit",
    "templates_load_builtin",
]
