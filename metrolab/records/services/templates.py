"""Record templates as data: versions, review and approval, the built-ins (R6.2d; T/CMA
CC045-2020: templates, template review, protection of fixed information and formulas).

A template (`RecordTemplate`) holds versions (`TemplateVersion`); each version's definition is
the format of `metrolab.metrology.record_template` (docs/record-templates.md), checked by
`compile_template` at every save. The life of a version:

    template_create / template_version_draft  → DRAFT (the author edits it in the designer:
                                                template_version_save, validated each time)
    template_version_submit (the author)       → IN_REVIEW
    template_version_review (a second person: a checker or the technical manager, never the
        author): "approve" marks it reviewed; "return" sends it back to DRAFT with the note
    template_version_approve (the technical manager; neither the author nor the reviewer)
                                               → APPROVED; the version approved before it is
                                                 RETIRED (records pinned to it keep it)

Only one version is in progress (draft or in review) per template at a time. Approved and
retired versions never change: the services refuse, and a database trigger refuses an UPDATE
of their definition or digest, or a move back to draft or review (records migration 0002).

`templates_load_builtin` loads the engine's built-in templates as versions approved by the
system at load ("built-in"): idempotent by digest.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from metrolab.commissions.choices import Service
from metrolab.commissions.models import Discipline
from metrolab.core.permissions import person, require_roles
from metrolab.core.service import ServiceError, service
from metrolab.core.validation import validated
from metrolab.core.versions import (
    APPROVE,
    BUILTIN_NOTE,
    RETURN,
    VersionLife,
    definition_digest,
    definition_refusal,
    version_note,
)
from metrolab.metrology.record_template import (
    TemplateError,
    builtin_templates,
    compile_template,
)
from metrolab.records.models import DEFAULT_RETENTION_YEARS, RecordTemplate, TemplateVersion
from metrolab.records.template_errors import TemplateRefusal
from metrolab.records.template_roles import (
    TEMPLATE_APPROVERS,
    TEMPLATE_DESIGNERS,
    TEMPLATE_REVIEWERS,
)

Status = TemplateVersion.Status
# The life every reviewed definition shares (core/versions.py), with the templates' codes.
LIFE = VersionLife(
    model=TemplateVersion,
    parent="template",
    refusal=TemplateRefusal,
    reviewers=TEMPLATE_REVIEWERS,
    approvers=TEMPLATE_APPROVERS,
    review_forbidden=gettext_lazy(
        "Only a checker or the technical manager may review a record template."
    ),
    approve_forbidden=gettext_lazy("Only the technical manager may approve a record template."),
)


# --- the definition --------------------------------------------------------------------------


def definition_errors(
    definition: Any, *, code: str | None = None, service_code: str | None = None
) -> dict[str, list[str]]:
    """Every problem of a definition, {path: [messages]} with the paths the engine gives
    ("computed.2.expr"; "" for the whole): {} when it compiles. With `code` / `service_code`
    the definition must also name the template's code and service."""
    if not isinstance(definition, Mapping):
        return {"": [_("A template definition is a JSON object.")]}
    try:
        compile_template(definition)
    except TemplateError as exc:
        return {str(path): [str(m) for m in messages] for path, messages in exc.errors.items()}
    errors: dict[str, list[str]] = {}
    if code is not None and definition.get("code") != code:
        errors["code"] = [_("The definition's code must be the template's code, %s.") % code]
    if service_code is not None and definition.get("service") != service_code:
        errors["service"] = [
            _("The definition's service must be the template's service, %s.") % service_code
        ]
    return errors


def definition_from_text(text: str) -> dict[str, Any]:
    """A definition from the JSON text of the designer; refused (on "") when it is not a JSON
    object."""
    try:
        value = json.loads(text or "")
    except ValueError as exc:
        message = _("Not valid JSON: %s") % exc
        raise ServiceError(
            message, code=TemplateRefusal.INVALID_DEFINITION, errors={"": [message]}
        ) from None
    if not isinstance(value, dict):
        message = _("A template definition is a JSON object.")
        raise ServiceError(message, code=TemplateRefusal.INVALID_DEFINITION, errors={"": [message]})
    return value


def _checked(definition: Any, template: RecordTemplate) -> dict[str, Any]:
    errors = definition_errors(definition, code=template.code, service_code=template.service)
    if errors:
        raise definition_refusal(errors, code=TemplateRefusal.INVALID_DEFINITION)
    return copy.deepcopy(dict(definition))


def starter_definition(code: str, title: str, service_code: str) -> dict[str, Any]:
    """A small valid definition to start a new template from: points, one reading per point,
    its error against the nominal value, and a decision on a maximum permissible error."""
    label = {"zh": title, "en": title}
    return {
        "format": "metrolab-record-template/1",
        "code": code,
        "title": label,
        "service": service_code,
        "unit": "{unit}",
        "parameters": [
            {
                "name": "unit",
                "label": {"zh": "单位", "en": "Unit"},
                "type": "text",
                "default": "MPa",
            },
            {
                "name": "points",
                "label": {"zh": "测量点", "en": "Points"},
                "type": "numbers",
                "default": ["0", "50", "100"],
                "unit": "{unit}",
            },
            {
                "name": "mpe",
                "label": {"zh": "最大允许误差", "en": "Maximum permissible error"},
                "type": "number",
                "default": "1",
                "unit": "{unit}",
            },
        ],
        "points": {"parameter": "points", "unit": "{unit}"},
        "inputs": [{"name": "reading", "label": {"zh": "示值", "en": "Reading"}, "unit": "{unit}"}],
        "computed": [
            {
                "name": "error",
                "label": {"zh": "示值误差", "en": "Error"},
                "expr": "reading - nominal",
                "unit": "{unit}",
            },
            {
                "name": "ok",
                "label": {"zh": "本点合格", "en": "Point conforms"},
                "expr": "abs(error) <= mpe",
            },
        ],
        "summary": [
            {
                "name": "conclusion",
                "label": {"zh": "结论", "en": "Conclusion"},
                "expr": '"pass" if all(column("ok")) else "fail"',
            }
        ],
        "decision": "conclusion",
    }


# --- who ---------------------------------------------------------------------------------------


def _designer(actor: Any):
    return require_roles(
        actor,
        TEMPLATE_DESIGNERS,
        message=_("Only the lab's technical staff may design record templates."),
    )


_note = version_note


# --- templates and drafts ---------------------------------------------------------------------


@service("record_template.create")
def template_create(
    *,
    code: str,
    title: str,
    service: str,
    discipline: Discipline | None = None,
    retention_years: int = DEFAULT_RETENTION_YEARS,
    definition: Mapping[str, Any] | None = None,
    note: str = "",
    actor: Any,
) -> TemplateVersion:
    """A new template and its version 1, a DRAFT by `actor` (R6.2d). Without a definition it
    starts from `starter_definition`; a definition is checked like every save (its code and
    service must be the template's). Returns the version (its `.template` is the template)."""
    _designer(actor)
    code = (code or "").strip()
    template = RecordTemplate(
        code=code,
        title=(title or "").strip(),
        service=service,
        discipline=discipline,
        retention_years=retention_years,
    )
    validated(template)
    if definition is None:
        definition = starter_definition(code, template.title, service)
    definition = _checked(definition, template)
    note = _note(note)
    template.save()
    return LIFE.draft(template, definition, note, actor)


@service("record_template.draft")
def template_version_draft(
    *,
    template: RecordTemplate,
    definition: Mapping[str, Any] | None = None,
    note: str = "",
    actor: Any,
) -> TemplateVersion:
    """A new DRAFT version of `template`, by default a copy of its latest version; refused
    while another version is a draft or in review (one in progress at a time)."""
    _designer(actor)
    template = RecordTemplate.objects.select_for_update().get(pk=template.pk)
    versions = TemplateVersion.objects.filter(template=template)
    LIFE.none_open(template, template.code)
    latest = versions.order_by("-number").first()
    if definition is None:
        definition = latest.definition if latest is not None else None
    if definition is None:
        definition = starter_definition(template.code, template.title, template.service)
    return LIFE.draft(template, _checked(definition, template), note, actor)


@service("record_template.save")
def template_version_save(
    *,
    version: TemplateVersion,
    definition: Mapping[str, Any],
    note: str | None = None,
    actor: Any,
) -> TemplateVersion:
    """Save the definition of a DRAFT (its author only). Every save compiles it: a definition
    that does not compile is refused with every problem and its path, and nothing changes."""
    _designer(actor)
    return LIFE.save_draft(
        version, checked=lambda v: _checked(definition, v.template), note=note, actor=actor
    )


@service("record_template.submit")
def template_version_submit(
    *, version: TemplateVersion, note: str | None = None, actor: Any
) -> TemplateVersion:
    """The author submits his DRAFT for review (→ IN_REVIEW)."""
    _designer(actor)
    return LIFE.submit(
        version, check=lambda v: _checked(v.definition, v.template), note=note, actor=actor
    )


@service("record_template.review")
def template_version_review(
    *, version: TemplateVersion, decision: str, note: str = "", actor: Any
) -> TemplateVersion:
    """A second person reviews a version IN_REVIEW (CC045 template review): a checker or the
    technical manager, never its author. "approve" marks it reviewed (it then awaits the
    technical manager's approval); "return" sends it back to DRAFT with the note (required),
    also after the review, until it is approved."""
    return LIFE.review(version, decision=decision, note=note, actor=actor)


@service("record_template.approve")
def template_version_approve(
    *, version: TemplateVersion, note: str = "", actor: Any
) -> TemplateVersion:
    """The technical manager approves a reviewed version for use (→ APPROVED); he is neither
    its author nor its reviewer (R4.4: two other people stand behind each template). The
    version approved before it is RETIRED: records pinned to it keep it."""
    approver = LIFE.approver(actor)
    version = LIFE.locked(version)

    def check(version: TemplateVersion) -> None:
        _checked(version.definition, version.template)
        _note(note)

    return LIFE.approve(version, approver=approver, check=check)


# --- the built-ins ------------------------------------------------------------------------------


def _discipline_of(definition: Mapping[str, Any]) -> Discipline | None:
    code = definition.get("discipline")
    if not code:
        return None
    return Discipline.objects.filter(code__iexact=code).first()


@service("record_template.load_builtin", record_calls=False)
def templates_load_builtin(*, actor: Any) -> dict[str, str]:
    """Create or update the built-in templates from the engine's definitions
    (`builtin_templates()`), as versions approved by the system at load ("built-in").
    Idempotent: a definition already approved (same digest) adds nothing; a changed built-in
    becomes a new approved version and the one before it is retired. A version in progress
    of a built-in template is left as it is. Returns {code: "created" | "updated" |
    "unchanged"}."""
    require_roles(
        actor, TEMPLATE_APPROVERS, message=_("Only the technical manager may load templates.")
    )
    outcome: dict[str, str] = {}
    for code, definition in sorted(builtin_templates().items()):
        digest = definition_digest(definition)
        title = definition.get("title", {})
        title_text = (title.get("zh") or title.get("en") or code)[:200]
        template = RecordTemplate.objects.select_for_update().filter(code=code).first()
        if template is None:
            template = RecordTemplate(
                code=code,
                title=title_text,
                service=definition.get("service", Service.CALIBRATION),
                discipline=_discipline_of(definition),
                builtin=True,
            )
            validated(template)
            template.save()
            outcome[code] = "created"
        else:
            versions = TemplateVersion.objects.filter(template=template)
            if versions.filter(status=Status.APPROVED, digest=digest).exists():
                outcome[code] = "unchanged"
                continue
            changed = []
            if template.discipline is None and _discipline_of(definition) is not None:
                template.discipline = _discipline_of(definition)
                changed.append("discipline")
            if not template.builtin:
                template.builtin = True
                changed.append("builtin")
            if changed:
                template.save(update_fields=[*changed, "updated_at"])
            outcome[code] = "updated"
        _checked(definition, template)
        LIFE.load_builtin(template, copy.deepcopy(definition), person(actor))
    return outcome


__all__ = [
    "APPROVE",
    "BUILTIN_NOTE",
    "RETURN",
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
