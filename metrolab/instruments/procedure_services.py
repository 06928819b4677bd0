"""Procedures as data: versions, review and approval, the built-ins (R8b, R6.2a, R6.2d;
issue 16: "a documented procedure format, schema-validated, versioned and approved like
record templates").

A procedure (`Procedure`) holds versions (`ProcedureVersion`); each version's definition is
the `metrolab-procedure/1` format (`metrolab.instruments.procedure`, docs/procedures.md),
checked by `compile_procedure` at every save, against the record template it fills when that
template has an approved version. The life of a version is the record templates' (one home:
`metrolab/core/versions.py`), with the same roles (`records/template_roles.py`):

    procedure_create / procedure_version_draft → DRAFT (its author saves it:
                                                 procedure_version_save, validated each time)
    procedure_version_submit (the author)      → IN_REVIEW
    procedure_version_review (a checker or the technical manager, never the author):
        "approve" marks it reviewed; "return" sends it back to DRAFT with the note
    procedure_version_approve (the technical manager; neither the author nor the reviewer)
                                               → APPROVED; the one approved before → RETIRED

Only one version is in progress per procedure; approved and retired versions never change
(the services refuse; a database trigger refuses any other writer: instruments migration
`procedures`). A run uses the procedure's approved version (`approved_definition`).

`procedures_load_builtin` loads the built-in procedures as versions approved by the system at
load ("built-in"): idempotent by digest.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from metrolab.core.permissions import person, require_roles
from metrolab.core.service import ServiceError, service
from metrolab.core.validation import validated
from metrolab.core.versions import (
    VersionLife,
    VersionStatus,
    definition_digest,
    definition_refusal,
    version_note,
)
from metrolab.instruments.errors import InstrumentRefusal, ProcedureRefusal
from metrolab.instruments.models import Procedure, ProcedureVersion
from metrolab.instruments.procedure import (
    ProcedureError,
    builtin_procedures,
    compile_procedure,
    load_procedure,
)
from metrolab.records.models import RecordTemplate
from metrolab.records.template_roles import (
    TEMPLATE_APPROVERS,
    TEMPLATE_DESIGNERS,
    TEMPLATE_REVIEWERS,
)
from metrolab.records.template_selectors import approved_version

# Procedures are designed, reviewed and approved by the people who do it for record templates.
PROCEDURE_DESIGNERS = TEMPLATE_DESIGNERS
PROCEDURE_REVIEWERS = TEMPLATE_REVIEWERS
PROCEDURE_APPROVERS = TEMPLATE_APPROVERS

LIFE = VersionLife(
    model=ProcedureVersion,
    parent="procedure",
    refusal=ProcedureRefusal,
    reviewers=PROCEDURE_REVIEWERS,
    approvers=PROCEDURE_APPROVERS,
    review_forbidden=gettext_lazy(
        "Only a checker or the technical manager may review a procedure."
    ),
    approve_forbidden=gettext_lazy("Only the technical manager may approve a procedure."),
)


# --- the definition ----------------------------------------------------------------------------


def template_definition(code: Any) -> dict[str, Any] | None:
    """The definition of the approved version of the record template `code` (None when the
    template does not exist or has no approved version yet)."""
    if not isinstance(code, str) or not code:
        return None
    template = RecordTemplate.objects.filter(code=code).first()
    version = approved_version(template) if template is not None else None
    return version.definition if version is not None else None


def definition_errors(
    definition: Any, *, code: str | None = None, template: str | None = None
) -> dict[str, list[str]]:
    """Every problem of a procedure definition, {path: [messages]} with the format's paths
    ("steps.3.cells"; "" for the whole): {} when it compiles. It is compiled against the
    record template it names when that template has an approved version. With `code` /
    `template` the definition must also name the procedure's code and record template."""
    if not isinstance(definition, Mapping):
        return {"": [_("A procedure definition is a JSON object.")]}
    errors: dict[str, list[str]] = {}
    try:
        compile_procedure(definition, template=template_definition(definition.get("template")))
    except ProcedureError as exc:
        errors = {str(path): [str(m) for m in messages] for path, messages in exc.errors.items()}
    if code is not None and definition.get("code") != code:
        errors.setdefault("code", []).append(
            _("The definition's code must be the procedure's code, %s.") % code
        )
    if template is not None and definition.get("template") != template:
        errors.setdefault("template", []).append(
            _("The definition must fill the procedure's record template, %s.") % template
        )
    return errors


def definition_from_text(text: str) -> dict[str, Any]:
    """A definition from its JSON or YAML text (the edit page); refused (on "") when it is
    neither, or not an object."""
    try:
        return load_procedure(text or "")
    except ProcedureError as exc:
        message = _("Neither a JSON nor a YAML object: %s") % exc.message
        raise ServiceError(
            message, code=ProcedureRefusal.INVALID_DEFINITION, errors={"": [message]}
        ) from None


def _checked(definition: Any, procedure: Procedure) -> dict[str, Any]:
    errors = definition_errors(definition, code=procedure.code, template=procedure.template)
    if errors:
        raise definition_refusal(errors, code=ProcedureRefusal.INVALID_DEFINITION)
    return copy.deepcopy(dict(definition))


def _title(definition: Mapping[str, Any], code: str) -> str:
    title = definition.get("title") if isinstance(definition.get("title"), Mapping) else {}
    return str(title.get("zh") or title.get("en") or code)[:200]


def _designer(actor: Any):
    return require_roles(
        actor,
        PROCEDURE_DESIGNERS,
        message=_("Only the lab's technical staff may write procedures."),
    )


# --- procedures and drafts ---------------------------------------------------------------------


@service("procedure.create")
def procedure_create(
    *,
    definition: Mapping[str, Any],
    title: str = "",
    note: str = "",
    actor: Any,
) -> ProcedureVersion:
    """A new procedure and its version 1, a DRAFT by `actor` (R8b). Its code and the record
    template it fills are the definition's; its title the one given, else the definition's.
    The definition is checked like every save. Returns the version (`.procedure`)."""
    _designer(actor)
    if not isinstance(definition, Mapping):
        raise definition_refusal(
            {"": [_("A procedure definition is a JSON object.")]},
            code=ProcedureRefusal.INVALID_DEFINITION,
        )
    code = definition.get("code") if isinstance(definition.get("code"), str) else ""
    procedure = Procedure(
        code=code,
        title=(title or "").strip() or _title(definition, code),
        template=definition.get("template") if isinstance(definition.get("template"), str) else "",
    )
    errors = definition_errors(definition)
    if errors:
        raise definition_refusal(errors, code=ProcedureRefusal.INVALID_DEFINITION)
    validated(procedure)
    definition = copy.deepcopy(dict(definition))
    note = version_note(note)
    procedure.save()
    return LIFE.draft(procedure, definition, note, actor)


@service("procedure.draft")
def procedure_version_draft(
    *,
    procedure: Procedure,
    definition: Mapping[str, Any] | None = None,
    note: str = "",
    actor: Any,
) -> ProcedureVersion:
    """A new DRAFT version of `procedure`, by default a copy of its latest version; refused
    while another version is a draft or in review (one in progress at a time)."""
    _designer(actor)
    procedure = Procedure.objects.select_for_update().get(pk=procedure.pk)
    LIFE.none_open(procedure, procedure.code)
    if definition is None:
        latest = procedure.versions.order_by("-number").first()
        definition = latest.definition if latest is not None else {}
    return LIFE.draft(procedure, _checked(definition, procedure), note, actor)


@service("procedure.save")
def procedure_version_save(
    *,
    version: ProcedureVersion,
    definition: Mapping[str, Any],
    note: str | None = None,
    actor: Any,
) -> ProcedureVersion:
    """Save the definition of a DRAFT (its author only). Every save compiles it: a definition
    that does not compile is refused with every problem and its path, and nothing changes."""
    _designer(actor)
    return LIFE.save_draft(
        version, checked=lambda v: _checked(definition, v.procedure), note=note, actor=actor
    )


@service("procedure.submit")
def procedure_version_submit(
    *, version: ProcedureVersion, note: str | None = None, actor: Any
) -> ProcedureVersion:
    """The author submits his DRAFT for review (→ IN_REVIEW); it must compile."""
    _designer(actor)
    return LIFE.submit(
        version, check=lambda v: _checked(v.definition, v.procedure), note=note, actor=actor
    )


@service("procedure.review")
def procedure_version_review(
    *, version: ProcedureVersion, decision: str, note: str = "", actor: Any
) -> ProcedureVersion:
    """A second person reviews a version IN_REVIEW: a checker or the technical manager, never
    its author. "approve" marks it reviewed; "return" sends it back to DRAFT with the note
    (required)."""
    return LIFE.review(version, decision=decision, note=note, actor=actor)


@service("procedure.approve")
def procedure_version_approve(
    *, version: ProcedureVersion, note: str = "", actor: Any
) -> ProcedureVersion:
    """The technical manager approves a reviewed version (→ APPROVED), neither its author nor
    its reviewer; it must still compile against the record template's approved version. The
    version approved before it is RETIRED (runs keep the snapshot they ran)."""
    approver = LIFE.approver(actor)
    version = LIFE.locked(version)

    def check(version: ProcedureVersion) -> None:
        _checked(version.definition, version.procedure)
        version_note(note)

    return LIFE.approve(version, approver=approver, check=check)


# --- runs ----------------------------------------------------------------------------------------


def approved_definition(code: Any) -> ProcedureVersion:
    """The approved version of the procedure `code`, which a run uses; refused (422) when
    there is no such procedure or it has no approved version."""
    procedure = Procedure.objects.filter(code=str(code or "")).first()
    if procedure is None:
        raise ServiceError(
            _("No such procedure: %(code)s.") % {"code": code},
            code=InstrumentRefusal.PROCEDURE_INVALID,
            field="procedure",
        )
    version = procedure.versions.filter(status=VersionStatus.APPROVED).order_by("-number").first()
    if version is None:
        raise ServiceError(
            _("The procedure %(code)s has no approved version: it cannot run yet.")
            % {"code": procedure.code},
            code=ProcedureRefusal.NOT_APPROVED,
            field="procedure",
        )
    return version


# --- the built-ins -------------------------------------------------------------------------------


@service("procedure.load_builtin", record_calls=False)
def procedures_load_builtin(*, actor: Any) -> dict[str, str]:
    """Create or update the built-in procedures (`builtin_procedures()`) as versions approved
    by the system at load ("built-in"). Idempotent: a definition already approved (same
    digest) adds nothing; a changed built-in becomes a new approved version and the one
    before it retires. Returns {code: "created" | "updated" | "unchanged"}."""
    require_roles(
        actor,
        PROCEDURE_APPROVERS,
        message=_("Only the technical manager may load procedures."),
    )
    outcome: dict[str, str] = {}
    for code, definition in sorted(builtin_procedures().items()):
        digest = definition_digest(definition)
        procedure = Procedure.objects.select_for_update().filter(code=code).first()
        if procedure is None:
            procedure = Procedure(
                code=code,
                title=_title(definition, code),
                template=definition.get("template", ""),
                builtin=True,
            )
            validated(procedure)
            procedure.save()
            outcome[code] = "created"
        else:
            versions = procedure.versions.filter(status=VersionStatus.APPROVED, digest=digest)
            if versions.exists():
                outcome[code] = "unchanged"
                continue
            if not procedure.builtin:
                procedure.builtin = True
                procedure.save(update_fields=["builtin", "updated_at"])
            outcome[code] = "updated"
        _checked(definition, procedure)
        LIFE.load_builtin(procedure, copy.deepcopy(definition), person(actor))
    return outcome


__all__ = [
    "PROCEDURE_APPROVERS",
    "PROCEDURE_DESIGNERS",
    "PROCEDURE_REVIEWERS",
    "approved_definition",
    "definition_errors",
    "definition_from_text",
    "procedure_create",
    "procedure_version_approve",
    "procedure_version_draft",
    "procedure_version_review",
    "procedure_version_save",
    "procedure_version_submit",
    "procedures_load_builtin",
    "template_definition",
]
