"""`/api/v1/instruments/procedures/...`: procedures and their versions, reviewed and approved
like record templates (R8b, R6.2d). Thin: every write is a service of
`metrolab.instruments.procedure_services`, every read a selector.

- `GET /procedures/` (paginated; filters `q`, `template`, `state`, `builtin`), `POST` creates a
  procedure from a definition (its version 1 is a draft of the caller);
- `POST /procedures/validate`: every problem of a definition with its path (writes nothing);
- `GET /procedures/{id}`: a procedure with its versions; `POST /procedures/{id}/versions`
  drafts a new version; `GET|PUT /procedures/{id}/versions/{n}` reads / saves a draft;
  `POST .../submit`, `.../review` (approve | return), `.../approve`.

Bodies are strict (an unknown key, or a JSON string where the definition object belongs,
answers 422 and writes nothing). A definition that does not compile is refused with code
`procedure_definition_invalid` and one detail per path ("steps.3.cells")."""

from typing import Any, Literal

from django.http import Http404
from ninja import Query, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import ConfigDict

from metrolab.core.access import api_access
from metrolab.core.api_contract import Mapped
from metrolab.core.text import Name, Note
from metrolab.core.version_api import PathErrors, VersionSummary, path_errors, version_summary
from metrolab.core.versions import definition_digest
from metrolab.instruments import procedure_selectors as selectors
from metrolab.instruments import procedure_services as services
from metrolab.instruments.models import Procedure, ProcedureVersion
from metrolab.instruments.procedure_selectors import ProcedureFilter
from metrolab.records.template_roles import TEMPLATE_READERS

router = Router(tags=["procedures"])

READ = api_access(roles=TEMPLATE_READERS)
DESIGN = api_access(roles=services.PROCEDURE_DESIGNERS)
REVIEW = api_access(roles=(*services.PROCEDURE_REVIEWERS, *services.PROCEDURE_APPROVERS))
APPROVE = api_access(roles=services.PROCEDURE_APPROVERS)


class Strict(Schema):
    model_config = ConfigDict(extra="forbid")


class ProcedureVersionOut(VersionSummary):
    procedure_id: int
    procedure_code: str
    definition: dict[str, Any]


class ProcedureOut(Schema):
    id: int
    code: str
    title: str
    template: str
    builtin: bool
    approved_version: int | None
    version_in_progress: int | None


class ProcedureDetailOut(ProcedureOut):
    versions: list[VersionSummary]


class ProcedureIn(Strict):
    """A new procedure: its code and record template are the definition's; the title, when
    left out, the definition's."""

    definition: dict[str, Any]
    title: Name = ""
    note: Note = ""


class ProcedureDraftIn(Strict):
    """A new draft version: a copy of the latest version unless `definition` is given."""

    definition: dict[str, Any] | None = None
    note: Note = ""


class ProcedureSaveIn(Strict):
    definition: dict[str, Any]
    note: Note | None = None


class ProcedureNoteIn(Strict):
    note: Note = ""


class ProcedureReviewIn(Strict):
    decision: Literal["approve", "return"]
    note: Note = ""


class ProcedureDefinitionIn(Strict):
    definition: dict[str, Any]


class ProcedureValidateOut(Schema):
    valid: bool
    errors: list[PathErrors]
    digest: str


def _version_out(v: ProcedureVersion) -> dict:
    return {
        **version_summary(v),
        "procedure_id": v.procedure_id,
        "procedure_code": v.procedure.code,
        "definition": v.definition,
    }


def _procedure_out(p: Procedure, versions: list[ProcedureVersion] | None = None) -> dict:
    versions = list(p.versions.all()) if versions is None else versions
    approved, open_ = selectors.approved_and_open(versions)
    return {
        "id": p.pk,
        "code": p.code,
        "title": p.title,
        "template": p.template,
        "builtin": p.builtin,
        "approved_version": approved.number if approved else None,
        "version_in_progress": open_.number if open_ else None,
    }


def _detail_out(p: Procedure) -> dict:
    versions = list(selectors.procedure_versions(p))
    return {**_procedure_out(p, versions), "versions": [version_summary(v) for v in versions]}


def _procedure_or_404(pk: int) -> Procedure:
    procedure = selectors.procedure_get(pk)
    if procedure is None:
        raise Http404
    return procedure


def _version_or_404(pk: int, number: int) -> ProcedureVersion:
    version = selectors.version_get(_procedure_or_404(pk), number)
    if version is None:
        raise Http404
    return version


@router.post(
    "/validate",
    response=ProcedureValidateOut,
    auth=READ,
    summary="Validate a procedure definition: every problem with its path (writes nothing)",
)
def procedure_validate(request, data: ProcedureDefinitionIn):
    errors = services.definition_errors(data.definition)
    return {
        "valid": not errors,
        "errors": path_errors(errors),
        "digest": definition_digest(data.definition),
    }


@router.get("/", response=list[ProcedureOut], auth=READ, summary="Procedures")
@paginate
def procedure_list(request, filters: Query[ProcedureFilter]):
    """The filters of the procedures page (`ProcedureFilter`)."""
    return Mapped(selectors.procedure_list(filters), _procedure_out)


@router.post(
    "/",
    response={201: ProcedureDetailOut},
    auth=DESIGN,
    summary="Create a procedure from a definition; its version 1 is a draft of the caller",
)
def procedure_create(request, data: ProcedureIn):
    version = services.procedure_create(
        definition=data.definition, title=data.title, note=data.note, actor=request.auth
    )
    return Status(201, _detail_out(version.procedure))


@router.get(
    "/{pk}", response=ProcedureDetailOut, auth=READ, summary="One procedure with its versions"
)
def procedure_detail(request, pk: int):
    return _detail_out(_procedure_or_404(pk))


@router.post(
    "/{pk}/versions",
    response={201: ProcedureVersionOut},
    auth=DESIGN,
    summary="A new draft version (a copy of the latest unless a definition is given)",
)
def procedure_version_draft(request, pk: int, data: ProcedureDraftIn):
    version = services.procedure_version_draft(
        procedure=_procedure_or_404(pk),
        definition=data.definition,
        note=data.note,
        actor=request.auth,
    )
    return Status(201, _version_out(version))


@router.get(
    "/{pk}/versions/{number}",
    response=ProcedureVersionOut,
    auth=READ,
    summary="One version: its definition, digest and status",
)
def procedure_version_detail(request, pk: int, number: int):
    return _version_out(_version_or_404(pk, number))


@router.put(
    "/{pk}/versions/{number}",
    response=ProcedureVersionOut,
    auth=DESIGN,
    summary="Save a draft's definition (its author; refused with every path when invalid)",
)
def procedure_version_save(request, pk: int, number: int, data: ProcedureSaveIn):
    version = services.procedure_version_save(
        version=_version_or_404(pk, number),
        definition=data.definition,
        note=data.note,
        actor=request.auth,
    )
    return _version_out(version)


@router.post(
    "/{pk}/versions/{number}/submit",
    response=ProcedureVersionOut,
    auth=DESIGN,
    summary="The author submits his draft for review",
)
def procedure_version_submit(request, pk: int, number: int, data: ProcedureNoteIn):
    version = services.procedure_version_submit(
        version=_version_or_404(pk, number), note=data.note or None, actor=request.auth
    )
    return _version_out(version)


@router.post(
    "/{pk}/versions/{number}/review",
    response=ProcedureVersionOut,
    auth=REVIEW,
    summary="A second person reviews it: approve (to the technical manager) or return",
)
def procedure_version_review(request, pk: int, number: int, data: ProcedureReviewIn):
    version = services.procedure_version_review(
        version=_version_or_404(pk, number),
        decision=data.decision,
        note=data.note,
        actor=request.auth,
    )
    return _version_out(version)


@router.post(
    "/{pk}/versions/{number}/approve",
    response=ProcedureVersionOut,
    auth=APPROVE,
    summary="The technical manager approves a reviewed version (the previous one retires)",
)
def procedure_version_approve(request, pk: int, number: int, data: ProcedureNoteIn):
    version = services.procedure_version_approve(
        version=_version_or_404(pk, number), note=data.note, actor=request.auth
    )
    return _version_out(version)
