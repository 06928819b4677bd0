"""Pages of procedures (R8b; versioned and approved like record templates, R6.2d): the list,
a procedure with its versions, a version (its roles and steps as tables, its review and
approval by role) and the edit page of a draft (the definition as JSON or YAML text; a save
that does not compile is refused with every problem shown at its step or role).

Thin: every write is a service of `metrolab.instruments.procedure_services`."""

from __future__ import annotations

import json

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from metrolab.core.access import allow
from metrolab.core.pages import holds, query_without_page
from metrolab.core.refusals import refusal_message
from metrolab.core.service import ServiceError
from metrolab.core.version_pages import version_step
from metrolab.instruments import procedure_selectors as selectors
from metrolab.instruments import procedure_services as services
from metrolab.instruments.models import Procedure, ProcedureVersion
from metrolab.instruments.procedure import SCHEMA, STEP_SCHEMAS
from metrolab.instruments.procedure_display import label, other_faults, role_rows, step_rows
from metrolab.instruments.procedure_forms import EditForm, NoteForm, ProcedureFilterForm, ReviewForm
from metrolab.instruments.procedure_selectors import ProcedureFilter
from metrolab.records.models import RecordTemplate
from metrolab.records.template_roles import TEMPLATE_READERS

READERS = TEMPLATE_READERS
DESIGNERS = services.PROCEDURE_DESIGNERS
REVIEWERS = (*services.PROCEDURE_REVIEWERS, *services.PROCEDURE_APPROVERS)
APPROVERS = services.PROCEDURE_APPROVERS
PAGE_SIZE = 50
Status = ProcedureVersion.Status

# The keys of the format in the order the format lists them (the definition shown the same on
# every database: PostgreSQL's jsonb does not keep the order written).
KEY_ORDER = {
    key: rank
    for rank, key in enumerate(
        dict.fromkeys(
            [
                *SCHEMA["properties"],
                *SCHEMA["properties"]["roles"]["items"]["properties"],
                *(key for schema in STEP_SCHEMAS.values() for key in schema["properties"]),
            ]
        )
    )
}


def pretty(definition) -> str:
    """A definition as indented JSON, its keys in the order of the format."""

    def ordered(value):
        if isinstance(value, dict):
            keys = sorted(value, key=lambda k: KEY_ORDER.get(k, len(KEY_ORDER)))
            return {k: ordered(value[k]) for k in keys}
        return [ordered(v) for v in value] if isinstance(value, list) else value

    return json.dumps(ordered(definition), ensure_ascii=False, indent=2)


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


def _template_pk(code: str) -> int | None:
    return RecordTemplate.objects.filter(code=code).values_list("pk", flat=True).first()


# --- the list and a procedure ---------------------------------------------------------------


@allow(roles=READERS)
def procedure_list(request):
    """Every procedure: code, title, the record template it fills, the approved version and
    the one in progress; filtered like `GET /api/v1/instruments/procedures/`."""
    form = ProcedureFilterForm(request.GET or None)
    form.is_valid()
    procedures = selectors.procedure_list(ProcedureFilter.from_query(request.GET))
    page = Paginator(procedures, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = []
    for procedure in page:
        approved, open_ = selectors.approved_and_open(list(procedure.versions.all()))
        rows.append({"procedure": procedure, "approved": approved, "open": open_})
    return render(
        request,
        "instruments/procedures/list.html",
        {"form": form, "page": page, "rows": rows, "query": query_without_page(request)},
    )


@allow(roles=READERS)
def procedure_detail(request, pk: int):
    """A procedure: its facts, its versions with who wrote, reviewed and approved each and
    when, and a new draft (when none is in progress)."""
    procedure = _procedure_or_404(pk)
    versions = list(selectors.procedure_versions(procedure))
    in_progress = any(v.in_progress for v in versions)
    return render(
        request,
        "instruments/procedures/detail.html",
        {
            "procedure": procedure,
            "versions": versions,
            "template_pk": _template_pk(procedure.template),
            "can_draft": holds(request.user, DESIGNERS) and not in_progress,
        },
    )


@allow(roles=DESIGNERS)
@require_POST
def procedure_new_draft(request, pk: int):
    procedure = _procedure_or_404(pk)
    form = NoteForm(request.POST)
    form.is_valid()
    try:
        version = services.procedure_version_draft(
            procedure=procedure, note=form.cleaned_data.get("note", ""), actor=request.user
        )
    except ServiceError as exc:
        refusal_message(request, exc)
        return redirect("procedures:detail", procedure.pk)
    messages.success(request, _("Version %(n)s is a new draft.") % {"n": version.number})
    return redirect("procedures:edit", procedure.pk, version.number)


# --- a version -------------------------------------------------------------------------------


def _version_page(request, version: ProcedureVersion, *, status=200, **forms):
    user = request.user
    steps = services.LIFE.next_steps(user, version)
    in_review = version.status == Status.IN_REVIEW
    definition = version.definition
    return render(
        request,
        "instruments/procedures/version.html",
        {
            "procedure": version.procedure,
            "version": version,
            "title": label(definition.get("title")) or version.procedure.title,
            "description": label(definition.get("description")),
            "definition": pretty(definition),
            "steps": step_rows(definition),
            "roles": role_rows(definition),
            "template_pk": _template_pk(version.procedure.template),
            "returned": version.status == Status.DRAFT and version.reviewed_at is not None,
            "reviewed": in_review and version.reviewed_at is not None,
            "review_form": (forms.get("review_form") or ReviewForm()) if steps["review"] else None,
            "approve_form": (forms.get("approve_form") or NoteForm()) if steps["approve"] else None,
            "submit_form": (forms.get("submit_form") or NoteForm()) if steps["submit"] else None,
            "can_edit": steps["submit"] and holds(user, DESIGNERS),
        },
        status=status,
    )


@allow(roles=READERS)
def version_detail(request, pk: int, number: int):
    """A version: its status, who wrote, reviewed and approved it and when, the note of a
    return, its roles and steps, its definition, and the buttons of the next step for
    whoever may take it."""
    return _version_page(request, _version_or_404(pk, number))


def _version_action(request, pk, number, form_class, call, success, form_name):
    return version_step(
        request,
        _version_or_404(pk, number),
        form_class,
        call,
        success=success,
        done=reverse("procedures:version", args=(pk, number)),
        page=_version_page,
        form_name=form_name,
    )


@allow(roles=DESIGNERS)
@require_POST
def version_submit(request, pk: int, number: int):
    return _version_action(
        request,
        pk,
        number,
        NoteForm,
        lambda v, d: services.procedure_version_submit(
            version=v, note=d["note"] or None, actor=request.user
        ),
        _("Submitted for review."),
        "submit_form",
    )


@allow(roles=REVIEWERS)
@require_POST
def version_review(request, pk: int, number: int):
    decision = request.POST.get("decision")
    return _version_action(
        request,
        pk,
        number,
        ReviewForm,
        lambda v, d: services.procedure_version_review(
            version=v, decision=d["decision"], note=d["note"], actor=request.user
        ),
        _("Returned to the author.") if decision == "return" else _("Review recorded."),
        "review_form",
    )


@allow(roles=APPROVERS)
@require_POST
def version_approve(request, pk: int, number: int):
    return _version_action(
        request,
        pk,
        number,
        NoteForm,
        lambda v, d: services.procedure_version_approve(
            version=v, note=d["note"], actor=request.user
        ),
        _("Approved: runs now use this version."),
        "approve_form",
    )


# --- the edit page ---------------------------------------------------------------------------


@allow(roles=DESIGNERS)
def version_edit(request, pk: int, number: int):
    """The edit page of a draft (its author): the definition as JSON or YAML text. A save
    compiles it; refused, nothing changes and every problem is shown at its step, its role
    or (the rest) in the list, beside the text as sent."""
    version = _version_or_404(pk, number)
    editable = version.status == Status.DRAFT and version.author_id == request.user.pk
    errors: dict[str, list[str]] = {}
    definition = version.definition
    status = 200
    if request.method == "POST" and editable:
        form = EditForm(request.POST)
        if form.is_valid():
            try:
                definition = services.definition_from_text(form.cleaned_data["definition"])
                services.procedure_version_save(
                    version=version,
                    definition=definition,
                    note=form.cleaned_data["note"],
                    actor=request.user,
                )
            except ServiceError as exc:
                errors = exc.errors or {"": [exc.message]}
                messages.error(request, _("Not saved: %(message)s") % {"message": exc.message})
            else:
                messages.success(request, _("Draft saved."))
                return redirect("procedures:edit", pk, number)
        else:
            errors = {"": [e for field_errors in form.errors.values() for e in field_errors]}
        status = 422
    else:
        form = EditForm(initial={"definition": pretty(version.definition), "note": version.note})
    if not editable:
        form.fields["definition"].widget.attrs["readonly"] = "readonly"
        form.fields["note"].widget.attrs["readonly"] = "readonly"
    return render(
        request,
        "instruments/procedures/edit.html",
        {
            "procedure": version.procedure,
            "version": version,
            "form": form,
            "editable": editable,
            "is_draft": version.status == Status.DRAFT,
            "errors": sorted(errors.items()),
            "other_faults": other_faults(errors),
            "steps": step_rows(definition, errors),
            "roles": role_rows(definition, errors),
        },
        status=status,
    )
