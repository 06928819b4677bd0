"""Record pages (R6.2, R4.4, R6.2c, R6.12a): the queues, a record made from a started task,
its page (the entry sheet with live calculation for its measurer while it is a draft; read
only otherwise), the signing steps with re-authentication, return / cancel / amend with a
reason, the history with the replay of any moment, and the archive PDF. Every write is a
service of services/records.py; a refusal is shown with every reason it gives."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from metrolab.core.access import allow
from metrolab.core.pages import query_without_page
from metrolab.core.service import ServiceError
from metrolab.records import calculation, entry, selectors, services, steps
from metrolab.records.archive import archive_pdf
from metrolab.records.filters import RecordFilter
from metrolab.records.forms import (
    ReasonForm,
    SignForm,
    TemplateChoiceForm,
    moment,
    moment_text,
)
from metrolab.records.labels import role_label
from metrolab.records.models import Record, RecordSignature
from metrolab.records.roles import MEASURERS, RECORD_READERS
from metrolab.records.services.records import (
    OPEN,
    ROLE_CELL,
    equipment_roles,
    has_been_submitted,
    templates_for,
)
from metrolab.tasks.models import Task

PAGE_SIZE = 50

# The quick filters of the list: (key, label). Each is the list's filter plus who is asking.
QUEUES = ("check", "approve", "mine")


# --- the list ------------------------------------------------------------------------------


def _queue(rows, queue: str, user):
    if queue == "check":
        return rows.filter(status=Record.Status.SUBMITTED).exclude(measured_by=user)
    if queue == "approve":
        return (
            rows.filter(status=Record.Status.CHECKED)
            .exclude(measured_by=user)
            .exclude(checked_by=user)
        )
    if queue == "mine":
        return rows.filter(measured_by=user)
    return rows


@allow(roles=RECORD_READERS)
@require_GET
def record_list(request):
    """Original records, newest first, with the queues 待我核验 (submitted, someone else's),
    待我批准 (checked, neither measured nor checked by me) and 我的记录, and the list filter
    of the API (records/filters.py)."""
    filters = RecordFilter.from_query(request.GET)
    queue = request.GET.get("queue", "")
    queue = queue if queue in QUEUES else ""
    rows = _queue(selectors.record_list(filters), queue, request.user)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "records/list.html",
        {
            "page": page,
            "query": query_without_page(request),
            "queue": queue,
            "filters": filters,
            "statuses": Record.Status.choices,
        },
    )


# --- made from a task ------------------------------------------------------------------------


def _task(pk: int) -> Task:
    task = (
        Task.objects.select_related("item__commission__customer", "method", "scope", "assignee")
        .filter(pk=pk)
        .first()
    )
    if task is None:
        raise Http404("no such task")
    return task


def _role_choices(roles) -> list[tuple[str, str]]:
    """The options of a role select: none, then each role ({"name", "label"} or Role)."""
    choices = [("", "—")]
    for role in roles:
        if isinstance(role, dict):
            choices.append((role["name"], role["label"]))
        else:
            choices.append((role.name, role_label(role.name, role.label)))
    return choices


def _create_roles(versions) -> list:
    """The roles offered on the create page: the template's, or every fitting template's."""
    found: dict[str, object] = {}
    for version in versions:
        for role in calculation.roles_of(version):
            found.setdefault(role.name, role)
    return list(found.values())


def _posted_roles(request, pieces) -> dict[int, str]:
    return {e.pk: request.POST.get(f"role-{e.pk}", "") for e in pieces}


@allow(roles=MEASURERS)
@require_http_methods(["GET", "POST"])
def record_create(request, task_pk: int):
    """The task's original record (R6.2): its open record if it has one; otherwise made by
    `record_create` (the template chosen when several fit) with the role of each piece of
    the task's equipment as the page shows it (a select per piece, the unambiguous roles
    chosen already), every reason shown when refused. A POST without the roles (the button
    of "my tasks") makes the record at once when every role of the template is
    unambiguous; otherwise it shows this page to choose them."""
    task = _task(task_pk)
    open_record = task.records.filter(status__in=OPEN).order_by("-pk").first()
    if open_record is not None:
        return redirect("records:detail", open_record.pk)
    versions = templates_for(task)
    pieces = list(task.equipment.order_by("asset_no"))
    roles = _create_roles(versions)
    chosen: dict[int, str] = {}
    unassigned: set[str] = set()
    if len(versions) == 1:
        chosen = equipment_roles(pieces, calculation.roles_of(versions[0]))
        unassigned = {r.name for r in calculation.roles_of(versions[0])} - set(chosen.values())
    data = request.POST if request.method == "POST" else None
    form = TemplateChoiceForm(data, versions=versions)
    refused: list[str] = []
    ask_roles = False
    if request.method == "POST" and form.is_valid():
        version = form.cleaned_data["template_version"]
        given = None
        if "roles_given" in request.POST:
            given = chosen = _posted_roles(request, pieces)
        elif unassigned:
            ask_roles = True  # a role is ambiguous: the measurer chooses
        if not ask_roles:
            try:
                record = services.record_create(
                    task=task, actor=request.user, template_version=version, roles=given
                )
            except ServiceError as exc:
                refused = steps.reasons(exc)
            else:
                messages.success(
                    request, _("Original record %(number)s made.") % {"number": record.number}
                )
                return redirect("records:detail", record.pk)
    rows = [
        {
            "pk": e.pk,
            "asset_no": e.asset_no,
            "name": e.name,
            "model": e.model,
            "kind": e.get_kind_display(),
            "role": chosen.get(e.pk, ""),
        }
        for e in pieces
    ]
    return render(
        request,
        "records/create.html",
        {
            "task": task,
            "form": form,
            "versions": versions,
            "refused": refused,
            "ask_roles": ask_roles,
            "role_rows": rows,
            "role_choices": _role_choices(roles),
        },
        status=422 if refused else 200,
    )


# --- one record ------------------------------------------------------------------------------


def _editable(record: Record, user) -> bool:
    return record.status == Record.Status.DRAFT and user.pk == record.measured_by_id


def _posted(request, record: Record) -> dict[str, str]:
    """The cells the entry form sent (those of the template for the parameters sent)."""
    posted = {k: v for k, v in request.POST.items() if "." in k}
    known = calculation.input_cells(record, {**record.cells, **posted})
    return entry.without_untouched_defaults(record, {k: v for k, v in posted.items() if k in known})


def _live_sheet(record: Record, values: dict[str, str]) -> dict:
    preview = services.record_preview(record, values)
    return entry.sheet(record, {**record.cells, **values}, preview, preview["cells"])


def _stored_sheet(record: Record) -> dict:
    cells = [c.to_json() for c in calculation.input_cells(record).values()]
    results = record.results or calculation.evaluate(record).as_json()
    return entry.sheet(record, record.cells, results, cells)


def _signed_manifest(request, record: Record):
    pk = request.GET.get("signed", "")
    if not pk.isdigit():
        return None
    return RecordSignature.objects.filter(record=record, pk=int(pk)).first()


def _page(
    request, record: Record, *, values=None, save_errors=(), role_errors=(), roles=None, status=200
):
    editable = _editable(record, request.user)
    context = selectors.record_detail(record)
    for row in context["equipment"]:
        row["chosen"] = (roles or {}).get(row["id"], row["role"])
    sheet = _live_sheet(record, values or {}) if editable else _stored_sheet(record)
    offered = steps.offered(record, request.user)
    context.update(
        sheet=sheet,
        editable=editable,
        readings_disabled=bool(context["blocked"]),
        reason_required=editable and has_been_submitted(record),
        typed_reason=request.POST.get("reason", "") if values is not None else "",
        save_errors=list(save_errors),
        role_errors=list(role_errors),
        role_choices=_role_choices(context["roles"]),
        typed_role_reason=request.POST.get("reason", "") if roles is not None else "",
        steps=offered,
        manifest=_signed_manifest(request, record),
        certificates=list(record.certificates.order_by("-created_at", "-pk")),
        runs=list(record.instrument_runs.order_by("-created_at", "-pk")),
    )
    return render(request, "records/detail.html", context, status=status)


@allow(roles=RECORD_READERS)
@require_http_methods(["GET", "POST"])
def record_detail(request, pk: int):
    """One original record. For its measurer while it is a draft: the entry sheet; typing
    POSTs the form to `?part=results` (records/static/records/entry.js), which answers the
    evaluation of the values typed without saving anything (`record_preview`); "Save" writes
    them (`record_write`: the trail, a reason once it came back from its check). For anyone
    else, or later: the record as it stands, its signatures valid or not, and its steps."""
    record = selectors.record_get(pk)
    if request.method == "GET":
        return _page(request, record)
    if not _editable(record, request.user):
        raise PermissionDenied(_("Only the person who measures a draft record changes it."))
    values = _posted(request, record)
    if request.GET.get("part") == "results":
        return render(
            request,
            "records/_live.html",
            {
                "record": record,
                "sheet": _live_sheet(record, values),
                "editable": True,
                "readings_disabled": False,
                "live": True,
            },
        )
    try:
        services.record_write(
            record=record,
            values=values,
            actor=request.user,
            reason=request.POST.get("reason", ""),
            source="page",
        )
    except ServiceError as exc:
        return _page(request, record, values=values, save_errors=steps.reasons(exc), status=422)
    messages.success(request, _("Saved."))
    return redirect("records:detail", record.pk)


@allow(roles=RECORD_READERS)
@require_POST
def record_roles(request, pk: int):
    """The measurer sets the role of each piece of a draft record's equipment
    (`record_set_roles`: the trail, a reason once it came back from its check, the record
    evaluated again); a refusal is shown on the record's page with every reason."""
    record = selectors.record_get(pk)
    if not _editable(record, request.user):
        raise PermissionDenied(_("Only the person who measures a draft record changes it."))
    pieces = [use.equipment for use in record.equipment_used.select_related("equipment")]
    roles = {e.pk: request.POST[f"role-{e.pk}"] for e in pieces if f"role-{e.pk}" in request.POST}
    try:
        services.record_set_roles(
            record=record,
            roles=roles,
            actor=request.user,
            reason=request.POST.get("reason", ""),
            source="page",
        )
    except ServiceError as exc:
        return _page(request, record, role_errors=steps.reasons(exc), roles=roles, status=422)
    messages.success(request, _("Equipment roles saved."))
    return redirect(reverse("records:detail", args=[record.pk]) + "#equipment")


@allow(roles=RECORD_READERS)
@require_http_methods(["GET", "POST"])
def record_sign(request, pk: int, step: str):
    """Submit, check or approve with a signature (R4.4): the meaning stated, the password
    (and the authenticator code where the account has it) asked again; a refusal (who may
    sign, a wrong password) writes nothing but the failed attempt and is shown here."""
    if step not in steps.SIGN_STEPS:
        raise Http404("no such step")
    record = selectors.record_get(pk)
    user = request.user
    refused = steps.refusal(record, user, step)
    form = SignForm(
        request.POST if request.method == "POST" else None,
        totp=bool(getattr(user, "totp_enabled", False)),
    )
    failed: list[str] = []
    if request.method == "POST" and not refused and form.is_valid():
        data = form.cleaned_data
        service = {
            "submit": services.record_submit,
            "check": services.record_check,
            "approve": services.record_approve,
        }[step]
        try:
            record = service(
                record=record,
                actor=user,
                password=data["password"],
                otp=data.get("otp", ""),
                reason=data.get("reason", ""),
            )
        except ServiceError as exc:
            failed = steps.reasons(exc)
            if exc.field in form.fields:
                form.add_error(exc.field, exc.message)
                failed = [] if len(failed) == 1 else failed
        else:
            signature = (
                record.signatures.filter(signer=user, meaning=steps.MEANING_OF_STEP[step])
                .order_by("-signed_at", "-pk")
                .first()
            )
            messages.success(
                request,
                _("Record %(number)s signed: %(meaning)s.")
                % {"number": record.number, "meaning": signature.get_meaning_display()},
            )
            url = reverse("records:detail", args=[record.pk])
            return redirect(f"{url}?signed={signature.pk}")
    return render(
        request,
        "records/sign.html",
        {
            "record": record,
            "step": steps.STEPS[step],
            "form": form,
            "refused": refused,
            "failed": failed,
            "now": timezone.now(),
        },
        status=422 if (failed or form.errors) else (403 if refused else 200),
    )


@allow(roles=RECORD_READERS)
@require_http_methods(["GET", "POST"])
def record_step(request, pk: int, step: str):
    """Return (checker or approver), cancel (measurer or lab manager) or amend (after
    approval) with a reason; the service decides who may."""
    if step not in steps.REASON_STEPS:
        raise Http404("no such step")
    record = selectors.record_get(pk)
    form = ReasonForm(request.POST if request.method == "POST" else None)
    failed: list[str] = []
    if request.method == "POST" and form.is_valid():
        service = {
            "return": services.record_return,
            "cancel": services.record_cancel,
            "amend": services.record_amend,
        }[step]
        try:
            result = service(record=record, actor=request.user, reason=form.cleaned_data["reason"])
        except ServiceError as exc:
            failed = steps.reasons(exc)
        else:
            done = {
                "return": _("Record %(number)s returned to its measurer."),
                "cancel": _("Record %(number)s cancelled."),
                "amend": _("Amendment %(number)s made: enter the corrections."),
            }[step]
            messages.success(request, done % {"number": result.number})
            return redirect("records:detail", result.pk)
    return render(
        request,
        "records/step.html",
        {"record": record, "step": steps.STEPS[step], "form": form, "failed": failed},
        status=422 if (failed or form.errors) else 200,
    )


@allow(roles=RECORD_READERS)
@require_GET
def record_history(request, pk: int):
    """The change trail field by field (old → new, who, when, the record's status then, the
    reason), the status changes, and the replay of the record at a chosen moment (R6.2c)."""
    record = selectors.record_get(pk)
    labels = entry.cell_labels(record)
    history = selectors.record_history(record)
    corrections_only = request.GET.get("only") == "corrections"
    if corrections_only:  # a value replaced or removed; not a first entry
        for item in history:
            item["changes"] = [c for c in item["changes"] if c["old"]]
        history = [item for item in history if item["changes"]]
    for item in history:
        item["where"] = labels.get(item["cell"]) or entry.label(item["label"]) or item["cell"]
        is_role = bool(ROLE_CELL.match(item["cell"]))
        for change in item["changes"]:
            change["status_member"] = Record.Status(change["status"])
            if is_role:  # a role is shown in words, as on the record's page
                change["old"], change["new"] = role_label(change["old"]), role_label(change["new"])
    at = moment(request.GET.get("at"))
    replay = None
    if at is not None:
        state = selectors.record_state_at(record, at)
        cells = [c.to_json() for c in calculation.input_cells(record, state["cells"]).values()]
        replay = {
            "state": state,
            "status_label": Record.Status(state["status"]).label if state["status"] else "",
            "sheet": entry.sheet(record, state["cells"], state["results"], cells),
        }
    return render(
        request,
        "records/history.html",
        {
            "record": record,
            "history": history,
            "corrections_only": corrections_only,
            "transitions": selectors.transitions_of(record),
            "at": moment_text(at) if at else moment_text(timezone.now()),
            "at_given": bool(at),
            "bad_at": bool(request.GET.get("at")) and at is None,
            "replay": replay,
        },
    )


@allow(roles=RECORD_READERS)
@require_GET
def record_archive(request, pk: int):
    """The record for the archive (R6.12a): header, conditions, equipment, results, the full
    trail, the status changes and the signature manifests, as one PDF."""
    record = selectors.record_get(pk)
    response = HttpResponse(archive_pdf(record), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{record.number}.pdf"'
    return response
