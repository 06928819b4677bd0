"""`/api/v1/record-templates/...`: record templates and their versions (R6.2d), for the lab's
staff and for external designers. Thin: every write is a service of
`metrolab.records.services`, every read a selector; `POST /validate` and `POST /preview`
compile and evaluate a definition without writing anything.

The definition is a JSON object in the body (a JSON string where it belongs answers 422). A
definition that does not compile is refused with code `template_invalid` and one detail per
path of the engine ("computed.2.expr")."""

from typing import Any, Literal

from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from metrolab.commissions.choices import Service
from metrolab.commissions.models import Discipline
from metrolab.core.access import api_access
from metrolab.core.api_contract import Mapped
from metrolab.core.service import ServiceError
from metrolab.core.text import Code, Name, Note
from metrolab.core.version_api import PathErrors, VersionSummary, path_errors, version_summary
from metrolab.records import services
from metrolab.records import template_selectors as selectors
from metrolab.records.models import DEFAULT_RETENTION_YEARS, RecordTemplate, TemplateVersion
from metrolab.records.template_filters import TemplateFilter
from metrolab.records.template_preview import preview
from metrolab.records.template_roles import (
    TEMPLATE_APPROVERS,
    TEMPLATE_DESIGNERS,
    TEMPLATE_READERS,
    TEMPLATE_REVIEWERS,
)

router = Router(tags=["record templates"])

READ = api_access(roles=TEMPLATE_READERS)
DESIGN = api_access(roles=TEMPLATE_DESIGNERS)
REVIEW = api_access(roles=(*TEMPLATE_REVIEWERS, *TEMPLATE_APPROVERS))
APPROVE = api_access(roles=TEMPLATE_APPROVERS)
Status_ = TemplateVersion.Status


# --- schemas --------------------------------------------------------------------------------


class VersionOut(VersionSummary):
    template_id: int
    template_code: str
    definition: dict[str, Any]


class TemplateOut(Schema):
    id: int
    code: str
    title: str
    service: str
    discipline: str | None
    retention_years: int
    builtin: bool
    approved_version: int | None
    version_in_progress: int | None


class TemplateDetailOut(TemplateOut):
    versions: list[VersionSummary]


class TemplateIn(Schema):
    """A new template; its version 1 is a draft of the caller (a small starter definition
    when `definition` is left out; else it must name this code and service)."""

    code: Code
    title: Name
    service: Service
    discipline: Code | None = None
    retention_years: int = Field(DEFAULT_RETENTION_YEARS, ge=1, le=100)
    definition: dict[str, Any] | None = None
    note: Note = ""


class DraftIn(Schema):
    """A new draft version: a copy of the latest version unless `definition` is given."""

    definition: dict[str, Any] | None = None
    note: Note = ""


class SaveIn(Schema):
    definition: dict[str, Any]
    note: Note | None = None


class NoteIn(Schema):
    note: Note = ""


class ReviewIn(Schema):
    decision: Literal["approve", "return"]
    note: Note = ""


class DefinitionIn(Schema):
    definition: dict[str, Any]


class ValidateOut(Schema):
    valid: bool
    errors: list[PathErrors]
    digest: str


class PreviewIn(Schema):
    """A definition tried on values: `cells` (cell id → text as typed; "param.<name>" for a
    parameter), `parameters` (name → value, the same as "param.<name>" cells) and `context`
    (the engine's context; left out: a sample one). No cells at all: the sample readings."""

    definition: dict[str, Any]
    parameters: dict[str, Note | int | float | list[Note | int | float]] = {}
    cells: dict[str, Note] = {}
    context: dict[str, Any] | None = None


class PreviewOut(Schema):
    valid: bool
    errors: list[PathErrors]
    cells: list[dict[str, Any]]
    values: dict[str, str]
    evaluation: dict[str, Any] | None
    results_table: dict[str, Any] | None


# --- helpers --------------------------------------------------------------------------------


def _version_out(v: TemplateVersion) -> dict:
    return {
        **version_summary(v),
        "template_id": v.template_id,
        "template_code": v.template.code,
        "definition": v.definition,
    }


def _template_out(t: RecordTemplate, versions: list[TemplateVersion] | None = None) -> dict:
    versions = list(t.versions.all()) if versions is None else versions
    approved = next((v for v in versions if v.status == Status_.APPROVED), None)
    open_ = next((v for v in versions if v.status in (Status_.DRAFT, Status_.IN_REVIEW)), None)
    return {
        "id": t.pk,
        "code": t.code,
        "title": t.title,
        "service": t.service,
        "discipline": t.discipline.code if t.discipline_id else None,
        "retention_years": t.retention_years,
        "builtin": t.builtin,
        "approved_version": approved.number if approved else None,
        "version_in_progress": open_.number if open_ else None,
    }


def _detail_out(t: RecordTemplate) -> dict:
    versions = list(selectors.template_versions(t))
    return {**_template_out(t, versions), "versions": [version_summary(v) for v in versions]}


def _template_or_404(pk: int) -> RecordTemplate:
    template = selectors.template_get(pk)
    if template is None:
        raise Http404
    return template


def _version_or_404(pk: int, number: int) -> TemplateVersion:
    version = selectors.version_get(_template_or_404(pk), number)
    if version is None:
        raise Http404
    return version


def _discipline(code: str | None) -> Discipline | None:
    if not code:
        return None
    discipline = Discipline.objects.filter(code=code).first()
    if discipline is None:
        raise ServiceError(_("No such discipline: %s") % code, field="discipline")
    return discipline


# --- validation and preview (fixed paths before /{pk}) ---------------------------------------


@router.post(
    "/validate",
    response=ValidateOut,
    auth=READ,
    summary="Validate a definition: every problem with its path (writes nothing)",
)
def validate(request, data: DefinitionIn):
    errors = services.definition_errors(data.definition)
    return {
        "valid": not errors,
        "errors": path_errors(errors),
        "digest": services.definition_digest(data.definition),
    }


@router.post(
    "/preview",
    response=PreviewOut,
    auth=READ,
    summary="Evaluate a definition on parameters and cells (the designer's test calculation)",
)
def preview_evaluate(request, data: PreviewIn):
    values: dict[str, str] | None = None
    if data.parameters or data.cells:
        values = {}
        for name, value in data.parameters.items():
            key = name if name.startswith("param.") else f"param.{name}"
            values[key] = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
        values.update(data.cells)
    result = preview(data.definition, values=values, context=data.context)
    if not result.ok:
        return {
            "valid": False,
            "errors": path_errors(result.errors),
            "cells": [],
            "values": {},
            "evaluation": None,
            "results_table": None,
        }
    return {
        "valid": True,
        "errors": [],
        "cells": [c.to_json() for c in result.compiled.cells(result.values)],
        "values": result.values,
        "evaluation": result.evaluation.as_json(),
        "results_table": result.evaluation.results_table(),
    }


# --- templates ------------------------------------------------------------------------------


@router.get("/", response=list[TemplateOut], auth=READ, summary="Record templates")
@paginate
def template_list(request, filters: Query[TemplateFilter]):
    """The filters of the templates page (`TemplateFilter`)."""
    return Mapped(selectors.template_list(filters), _template_out)


@router.post(
    "/",
    response={201: TemplateDetailOut},
    auth=DESIGN,
    summary="Create a template; its version 1 is a draft of the caller",
)
def template_create(request, data: TemplateIn):
    version = services.template_create(
        code=data.code,
        title=data.title,
        service=data.service,
        discipline=_discipline(data.discipline),
        retention_years=data.retention_years,
        definition=data.definition,
        note=data.note,
        actor=request.auth,
    )
    return Status(201, _detail_out(version.template))


@router.get(
    "/{pk}", response=TemplateDetailOut, auth=READ, summary="One template with its versions"
)
def template_detail(request, pk: int):
    return _detail_out(_template_or_404(pk))


@router.post(
    "/{pk}/versions",
    response={201: VersionOut},
    auth=DESIGN,
    summary="A new draft version (a copy of the latest unless a definition is given)",
)
def version_draft(request, pk: int, data: DraftIn):
    version = services.template_version_draft(
        template=_template_or_404(pk),
        definition=data.definition,
        note=data.note,
        actor=request.auth,
    )
    return Status(201, _version_out(version))


@router.get(
    "/{pk}/versions/{number}",
    response=VersionOut,
    auth=READ,
    summary="One version: its definition, digest and status",
)
def version_detail(request, pk: int, number: int):
    return _version_out(_version_or_404(pk, number))


@router.put(
    "/{pk}/versions/{number}",
    response=VersionOut,
    auth=DESIGN,
    summary="Save a draft's definition (its author; refused with every path when invalid)",
)
def version_save(request, pk: int, number: int, data: SaveIn):
    version = services.template_version_save(
        version=_version_or_404(pk, number),
        definition=data.definition,
        note=data.note,
        actor=request.auth,
    )
    return _version_out(version)


@router.post(
    "/{pk}/versions/{number}/submit",
    response=VersionOut,
    auth=DESIGN,
    summary="The author submits his draft for review",
)
def version_submit(request, pk: int, number: int, data: NoteIn):
    version = services.template_version_submit(
        version=_version_or_404(pk, number), note=data.note or None, actor=request.auth
    )
    return _version_out(version)


@router.post(
    "/{pk}/versions/{number}/review",
    response=VersionOut,
    auth=REVIEW,
    summary="A second person reviews it: approve (to the technical manager) or return",
)
def version_review(request, pk: int, number: int, data: ReviewIn):
    version = services.template_version_review(
        version=_version_or_404(pk, number),
        decision=data.decision,
        note=data.note,
        actor=request.auth,
    )
    return _version_out(version)


@router.post(
    "/{pk}/versions/{number}/approve",
    response=VersionOut,
    auth=APPROVE,
    summary="The technical manager approves a reviewed version (the previous one retires)",
)
def version_approve(request, pk: int, number: int, data: NoteIn):
    version = services.template_version_approve(
        version=_version_or_404(pk, number), note=data.note, actor=request.auth
    )
    return _version_out(version)
