"""Pages of record templates (R6.2d; T/CMA CC045 templates and template review): the list,
a template with its versions and a diff between two of them, a version with its review and
approval, and the designer: the definition as JSON beside a live preview of the record with a
test calculation on sample readings (`?part=preview`, swapped in by records/designer.js).

Thin: every write is a service of `metrolab.records.services`; the preview is
`metrolab.records.template_preview` (it writes nothing)."""

from __future__ import annotations

import difflib
import json

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from metrolab.core.access import allow
from metrolab.core.pages import holds, query_without_page
from metrolab.core.refusals import refusal_message, refusal_on_form
from metrolab.core.service import ServiceError
from metrolab.core.version_pages import version_step
from metrolab.metrology.record_template import SCHEMA
from metrolab.records import services
from metrolab.records import template_selectors as selectors
from metrolab.records.models import RecordTemplate, TemplateVersion
from metrolab.records.services.templates import LIFE as TEMPLATE_LIFE
from metrolab.records.template_filters import TemplateFilter
from metrolab.records.template_forms import (
    DesignerForm,
    NoteForm,
    ReviewForm,
    TemplateCreateForm,
    TemplateFilterForm,
)
from metrolab.records.template_preview import label, preview, sample_context
from metrolab.records.template_roles import (
    TEMPLATE_APPROVERS,
    TEMPLATE_DESIGNERS,
    TEMPLATE_READERS,
    TEMPLATE_REVIEWERS,
)

PAGE_SIZE = 50
CELL_PREFIX = "c:"
Status = TemplateVersion.Status


def _key_ranks(schema, ranks: dict[str, int]) -> dict[str, int]:
    """Each key of the format in the order the format lists it (first time seen)."""
    if isinstance(schema, dict):
        for key, value in (schema.get("properties") or {}).items():
            ranks.setdefault(key, len(ranks))
            _key_ranks(value, ranks)
        for part in ("items", "additionalProperties"):
            _key_ranks(schema.get(part), ranks)
    return ranks


KEY_RANKS = _key_ranks(SCHEMA, {})


def _ordered(value):
    if isinstance(value, dict):
        keys = sorted(value, key=lambda k: (KEY_RANKS.get(k, len(KEY_RANKS)),))
        return {k: _ordered(value[k]) for k in keys}
    if isinstance(value, list):
        return [_ordered(v) for v in value]
    return value


def pretty(definition) -> str:
    """A definition as the designer shows it: indented JSON, its keys in the order of the
    format (the same on every database: PostgreSQL's jsonb does not keep the order written),
    the keys the format does not name (table entries) in their stored order."""
    return json.dumps(_ordered(definition), ensure_ascii=False, indent=2)


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


# --- the list ---------------------------------------------------------------------------------


@allow(roles=TEMPLATE_READERS)
def template_list(request):
    """Every template: code, title, service, discipline, the approved version and the one in
    progress; filtered like `GET /api/v1/record-templates/`."""
    form = TemplateFilterForm(request.GET or None)
    form.is_valid()
    templates = selectors.template_list(TemplateFilter.from_query(request.GET))
    page = Paginator(templates, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = []
    for template in page:
        versions = list(template.versions.all())
        rows.append(
            {
                "template": template,
                "approved": next((v for v in versions if v.status == Status.APPROVED), None),
                "open": next(
                    (v for v in versions if v.status in (Status.DRAFT, Status.IN_REVIEW)), None
                ),
            }
        )
    return render(
        request,
        "records/templates/list.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "query": query_without_page(request),
            "can_design": holds(request.user, TEMPLATE_DESIGNERS),
        },
    )


@allow(roles=TEMPLATE_DESIGNERS)
def template_create(request):
    """A new template: its version 1 is a draft of the person creating it, a small starter
    or a copy of another template's latest version (renamed to this code and service)."""
    form = TemplateCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        definition = None
        source = data["start_from"]
        if source is not None:
            latest = selectors.template_versions(source).first()
            if latest is not None:
                definition = {**latest.definition, "code": data["code"], "service": data["service"]}
        try:
            version = services.template_create(
                code=data["code"],
                title=data["title"],
                service=data["service"],
                discipline=data["discipline"],
                retention_years=data["retention_years"],
                definition=definition,
                actor=request.user,
            )
        except ServiceError as exc:
            refusal_on_form(form, exc)
        else:
            messages.success(
                request,
                _("Template %(code)s created: edit its draft.") % {"code": version.template.code},
            )
            return redirect("record_templates:designer", version.template_id, version.number)
    return render(request, "records/templates/create.html", {"form": form})


# --- a template and its versions --------------------------------------------------------------


@allow(roles=TEMPLATE_READERS)
def template_detail(request, pk: int):
    """A template: its facts, its versions with who wrote, reviewed and approved each and
    when, a new draft (when none is in progress), and a diff between two versions."""
    template = _template_or_404(pk)
    versions = list(selectors.template_versions(template))
    in_progress = any(v.status in (Status.DRAFT, Status.IN_REVIEW) for v in versions)
    return render(
        request,
        "records/templates/detail.html",
        {
            "template": template,
            "versions": versions,
            "can_draft": holds(request.user, TEMPLATE_DESIGNERS) and not in_progress,
        },
    )


@allow(roles=TEMPLATE_DESIGNERS)
@require_POST
def template_new_draft(request, pk: int):
    template = _template_or_404(pk)
    form = NoteForm(request.POST)
    form.is_valid()
    try:
        version = services.template_version_draft(
            template=template, note=form.cleaned_data.get("note", ""), actor=request.user
        )
    except ServiceError as exc:
        refusal_message(request, exc)
        return redirect("record_templates:detail", template.pk)
    messages.success(request, _("Version %(n)s is a new draft.") % {"n": version.number})
    return redirect("record_templates:designer", template.pk, version.number)


@allow(roles=TEMPLATE_READERS)
def template_diff(request, pk: int):
    """The line diff of two versions' definitions (pretty JSON): `?a=<number>&b=<number>`,
    by default the two newest."""
    template = _template_or_404(pk)
    versions = list(selectors.template_versions(template))
    by_number = {v.number: v for v in versions}

    def chosen(name, default):
        try:
            return by_number.get(int(request.GET.get(name, "")), default)
        except ValueError:
            return default

    newest = versions[0] if versions else None
    older = versions[1] if len(versions) > 1 else newest
    a, b = chosen("a", older), chosen("b", newest)
    lines = []
    if a is not None and b is not None:
        for line in difflib.unified_diff(
            pretty(a.definition).splitlines(),
            pretty(b.definition).splitlines(),
            fromfile=f"v{a.number}",
            tofile=f"v{b.number}",
            lineterm="",
            n=3,
        ):
            kind = "same"
            if line.startswith(("+++", "---")):
                kind = "file"
            elif line.startswith("@@"):
                kind = "hunk"
            elif line.startswith("+"):
                kind = "added"
            elif line.startswith("-"):
                kind = "removed"
            lines.append({"kind": kind, "text": line})
    return render(
        request,
        "records/templates/diff.html",
        {"template": template, "versions": versions, "a": a, "b": b, "lines": lines},
    )


# --- a version ----------------------------------------------------------------------------------


def _version_page(
    request,
    version: TemplateVersion,
    *,
    review_form=None,
    approve_form=None,
    submit_form=None,
    status=200,
):
    steps = TEMPLATE_LIFE.next_steps(request.user, version)
    is_author = steps["is_author"]
    can_review, can_approve, can_submit = steps["review"], steps["approve"], steps["submit"]
    return render(
        request,
        "records/templates/version.html",
        {
            "template": version.template,
            "version": version,
            "title": label(version.definition.get("title")) or version.template.title,
            "definition": pretty(version.definition),
            "returned": version.status == Status.DRAFT and version.reviewed_at is not None,
            "is_author": is_author,
            "review_form": (review_form or ReviewForm()) if can_review else None,
            "approve_form": (approve_form or NoteForm()) if can_approve else None,
            "submit_form": (submit_form or NoteForm()) if can_submit else None,
            "can_edit": can_submit,
        },
        status=status,
    )


@allow(roles=TEMPLATE_READERS)
def version_detail(request, pk: int, number: int):
    """A version: its status, who wrote, reviewed and approved it and when, the note of a
    return, its definition, and the buttons of the next step for whoever may take it."""
    return _version_page(request, _version_or_404(pk, number))


def _version_action(request, pk, number, form_class, call, success, form_name):
    return version_step(
        request,
        _version_or_404(pk, number),
        form_class,
        call,
        success=success,
        done=reverse("record_templates:version", args=(pk, number)),
        page=_version_page,
        form_name=form_name,
    )


@allow(roles=TEMPLATE_DESIGNERS)
@require_POST
def version_submit(request, pk: int, number: int):
    return _version_action(
        request,
        pk,
        number,
        NoteForm,
        lambda v, d: services.template_version_submit(
            version=v, note=d["note"] or None, actor=request.user
        ),
        _("Submitted for review."),
        "submit_form",
    )


@allow(roles=(*TEMPLATE_REVIEWERS, *TEMPLATE_APPROVERS))
@require_POST
def version_review(request, pk: int, number: int):
    decision = request.POST.get("decision")
    return _version_action(
        request,
        pk,
        number,
        ReviewForm,
        lambda v, d: services.template_version_review(
            version=v, decision=d["decision"], note=d["note"], actor=request.user
        ),
        _("Returned to the author.") if decision == "return" else _("Review recorded."),
        "review_form",
    )


@allow(roles=TEMPLATE_APPROVERS)
@require_POST
def version_approve(request, pk: int, number: int):
    return _version_action(
        request,
        pk,
        number,
        NoteForm,
        lambda v, d: services.template_version_approve(
            version=v, note=d["note"], actor=request.user
        ),
        _("Approved: records are now made from this version."),
        "approve_form",
    )


# --- the designer -------------------------------------------------------------------------------


# The decision of a record as the preview shows it (metrolab.metrology.conformity).
DECISION_LABELS = {
    "pass": gettext_lazy("conforms"),
    "fail": gettext_lazy("does not conform"),
    "undecided": gettext_lazy("cannot be decided"),
    "conditional_pass": gettext_lazy("conforms (conditionally)"),
    "conditional_fail": gettext_lazy("does not conform (conditionally)"),
}
DECISION_TONES = {
    "pass": "green",
    "fail": "red",
    "undecided": "yellow",
    "conditional_pass": "yellow",
    "conditional_fail": "red",
}


def _cells_of(post) -> dict[str, str] | None:
    cells = {k[len(CELL_PREFIX) :]: v for k, v in post.items() if k.startswith(CELL_PREFIX)}
    return cells or None


def _live(request, form: DesignerForm, version: TemplateVersion, refusal=None):
    """The errors of the definition and the preview, from the designer's form."""
    text = form.data.get("definition", "") if form.is_bound else form.initial["definition"]
    errors: dict[str, list[str]] = {}
    definition = None
    if form.is_bound and "definition" in form.errors:
        errors = {"": list(form.errors["definition"])}  # too long: not even parsed
    else:
        try:
            definition = json.loads(text or "")
        except ValueError as exc:
            errors = {"": [_("Not valid JSON: %s") % exc]}
    context = None
    context_error = ""
    context_text = (form.data.get("context") if form.is_bound else "") or ""
    if context_text.strip():
        try:
            context = json.loads(context_text)
        except ValueError as exc:
            context_error = _("The sample context is not valid JSON: %s") % exc
        else:
            if not isinstance(context, dict):
                context, context_error = None, _("The sample context is a JSON object.")
    result = None
    if definition is not None:
        errors = services.definition_errors(
            definition, code=version.template.code, service_code=version.template.service
        )
        result = preview(
            definition,
            values=_cells_of(form.data) if form.is_bound else None,
            context=context,
        )
        if result.errors:
            errors = result.errors
    if refusal is not None and not errors:
        errors = refusal.errors or {"": [refusal.message]}
    shown = result if result is not None and result.ok else None
    live = {
        "errors": sorted(errors.items()),
        "preview": shown,
        "context_error": context_error,
        "title": label(version.definition.get("title")) or version.template.title,
    }
    if shown is not None:
        decision = shown.evaluation.decision
        decision_field = shown.compiled.decision
        summary = shown.summary()
        for row in summary:
            if row["name"] == decision_field and row["text"] in DECISION_LABELS:
                row["text"] = DECISION_LABELS[row["text"]]
        live.update(
            title=label(shown.compiled.title) or live["title"],
            columns=shown.columns(),
            summary=summary,
            decision={"label": DECISION_LABELS[decision], "tone": DECISION_TONES[decision]}
            if decision in DECISION_LABELS
            else None,
        )
    return live


@allow(roles=TEMPLATE_READERS)
def designer(request, pk: int, number: int):
    """The designer of a version: its definition as JSON (editable by its author while it is
    a draft; read-only otherwise) beside the live preview of the record on sample values.
    `POST ?part=preview` answers the preview fragment only (records/designer.js posts the
    form there as the JSON or a sample value changes); `POST` saves the draft (refused and
    nothing changed when the definition does not compile)."""
    version = _version_or_404(pk, number)
    editable = (
        version.status == Status.DRAFT
        and version.author_id == request.user.pk
        and holds(request.user, TEMPLATE_DESIGNERS)
    )
    initial = {"definition": pretty(version.definition), "note": version.note}
    part = request.GET.get("part", "")
    if request.method == "POST":
        form = DesignerForm(request.POST, initial=initial)
        if part == "preview":
            form.is_valid()
            return render(
                request,
                "records/templates/_designer_live.html",
                {"version": version, **_live(request, form, version)},
            )
        refusal = None
        if form.is_valid():
            try:
                definition = services.definition_from_text(form.cleaned_data["definition"])
                services.template_version_save(
                    version=version,
                    definition=definition,
                    note=form.cleaned_data["note"],
                    actor=request.user,
                )
            except ServiceError as exc:
                refusal = exc
                messages.error(request, _("Not saved: %(message)s") % {"message": exc.message})
            else:
                messages.success(request, _("Draft saved."))
                return redirect("record_templates:designer", pk, number)
        status = 422
    else:
        unit, roles = "", []
        first = preview(version.definition)
        if first.ok:
            unit = next((c.unit for c in first.compiled.cells({}) if c.kind == "reading"), "")
            roles = [r.name for r in first.compiled.roles]
        initial["context"] = json.dumps(
            sample_context(version.definition, unit, roles), ensure_ascii=False, indent=2
        )
        form = DesignerForm(initial=initial)
        refusal, status = None, 200
    if not editable:
        form.fields["definition"].widget.attrs["readonly"] = "readonly"
        form.fields["note"].widget.attrs["readonly"] = "readonly"
    return render(
        request,
        "records/templates/designer.html",
        {
            "template": version.template,
            "version": version,
            "form": form,
            "editable": editable,
            **_live(request, form, version, refusal),
        },
        status=status,
    )
